"""Read the Last.fm-360K data set (Celma, 2010) into :class:`~artistrec.data.loader.RawTables`.

Files (tab-separated, no header, no quoting, UTF-8):

- ``usersha1-artmbid-artname-plays.tsv``: user sha1, artist MusicBrainz id (may be empty),
  artist name, plays. About 17.5M lines / 1.6 GB; parsed by pyarrow's C++ reader and numpy,
  with Python work only per distinct user / artist value, never per line.
- ``usersha1-profile.tsv`` (optional): user sha1, gender, age, country, signup date
  (``Feb 1, 2007``); any field may be empty.

Artists are identified by MBID when present, otherwise by name; a name listed both with and
without an MBID is the MBID's artist when exactly one MBID artist has that name (the full rule
is in :mod:`artistrec.data.keys`). Users and artists get ids 1..n in sorted key order.
Duplicate (user, artist) rows are summed. Malformed lines (wrong number of fields, plays that
are not a whole number or not positive, no user, neither MBID nor name) are skipped and
reported as one finding; above :data:`~artistrec.data.tabular.MAX_MALFORMED_SHARE` of the
lines the file is rejected. Blank lines are ignored. There are no tags and no friends.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from artistrec.data.errors import DataError, MissingDataError
from artistrec.data.fingerprint import fingerprint_of
from artistrec.data.keys import Artists, resolve_artists, sorted_ids
from artistrec.data.loader import RawTables, empty_friends, empty_tag_assignments, empty_tags
from artistrec.data.tabular import (
    Malformed,
    decode_columns,
    latin1_rows_finding,
    parse_counts,
    read_columns,
    skip_invalid,
    skip_rows,
    strip_values,
    sum_listens,
)

FORMAT = "lastfm360k"
PLAYS_FILE = "usersha1-artmbid-artname-plays.tsv"
PROFILE_FILE = "usersha1-profile.tsv"
COLUMNS = ["user", "mbid", "name", "plays"]
PROFILE_COLUMNS = ["user", "gender", "age", "country", "signup"]
LASTFM_URL = "https://www.last.fm/music/"


_SAFE = np.zeros(256, dtype=bool)
_SAFE[
    np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~", np.uint8)
] = True
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def quote_plus_many(names: list[str]) -> list[str]:
    """``urllib.parse.quote_plus`` of every name, percent-encoding all names' bytes at once."""
    encoded = [n.encode("utf-8") for n in names]
    if not encoded:
        return []
    b = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    safe, space = _SAFE[b], b == 32
    quoted = ~(safe | space)
    width = np.where(quoted, 3, 1)
    pos = np.cumsum(width) - width
    out = np.empty(int(width.sum()), dtype=np.uint8)
    out[pos[safe]] = b[safe]
    out[pos[space]] = ord("+")
    qpos, qb = pos[quoted], b[quoted]
    out[qpos] = ord("%")
    out[qpos + 1] = _HEX_UPPER[qb >> 4]
    out[qpos + 2] = _HEX_UPPER[qb & 15]
    lens = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    owner = np.repeat(np.arange(lens.size), lens)  # which name each byte belongs to
    out_lens = np.bincount(owner, weights=width, minlength=lens.size).astype(np.int64)
    ends = np.concatenate([[0], np.cumsum(out_lens)])
    text = out.tobytes().decode("ascii")
    return [text[ends[i] : ends[i + 1]] for i in range(len(encoded))]


def lastfm_urls(names: np.ndarray) -> np.ndarray:
    """``https://www.last.fm/music/<name, URL-quoted>`` per artist name ("" for no name)."""
    names = [str(n) for n in np.asarray(names, dtype=object)]
    quoted = quote_plus_many(names)
    return np.asarray(
        [LASTFM_URL + q if n else "" for n, q in zip(names, quoted, strict=True)], dtype=object
    )


class Plays(NamedTuple):
    """The valid lines of the plays file, as indices (duplicates not yet summed)."""

    rows: np.ndarray  # user index per line
    cols: np.ndarray  # artist index per line
    plays: np.ndarray  # int64 plays per line
    user_keys: np.ndarray  # sha1 by user index (sorted: id = index + 1)
    artists: Artists


def read_plays(path: Path, findings: list[str]) -> Plays:
    """Parse and check the plays file; malformed lines become one finding (or an error)."""
    cols = read_columns(path, COLUMNS, delimiter="\t", quoted=False)
    n_lines = cols.table.num_rows + len(cols.invalid)
    if n_lines == 0:
        raise DataError(f"{PLAYS_FILE}: the file has no data lines")
    mal = Malformed(PLAYS_FILE, n_lines)
    skip_invalid(mal, cols, len(COLUMNS), "tab")
    dec = decode_columns(cols.table, ["user", "mbid", "name"])
    plays, reason = parse_counts(cols.table["plays"])
    user_vals = strip_values(dec["user"].values)
    mbid_vals = np.asarray(pd.Series(strip_values(dec["mbid"].values), dtype=object).str.lower())
    name_vals = strip_values(dec["name"].values)
    u_codes, m_codes, n_codes = dec["user"].codes, dec["mbid"].codes, dec["name"].codes

    no_user = (user_vals == "")[u_codes] if user_vals.size else np.zeros(0, bool)
    no_artist = (mbid_vals == "")[m_codes] & (name_vals == "")[n_codes] if n_codes.size else no_user
    bad = (reason > 0) | no_user | no_artist
    skip_rows(
        mal, cols, np.flatnonzero(reason == 1), "with plays that are not a whole number", "\t"
    )
    skip_rows(mal, cols, np.flatnonzero(reason == 2), "with zero or negative plays", "\t")
    skip_rows(mal, cols, np.flatnonzero(no_user & (reason == 0)), "without a user", "\t")
    skip_rows(
        mal,
        cols,
        np.flatnonzero(no_artist & ~no_user & (reason == 0)),
        "with neither an artist MBID nor a name",
        "\t",
    )
    mal.check("Last.fm-360K plays")
    note = latin1_rows_finding(cols, dec["user"].latin1_rows)
    if note:
        findings.append(note)
    if mal.finding():
        findings.append(mal.finding())
    keep = np.flatnonzero(~bad)
    if keep.size == 0:
        raise DataError(f"{PLAYS_FILE}: no line has a user, an artist and a positive play count")

    used_users = np.zeros(user_vals.size, dtype=bool)
    used_users[u_codes[keep]] = True
    user_keys, user_of_value = sorted_ids(user_vals, used_users)
    # Artists: distinct (mbid, name) pairs first, the identity rule per pair.
    n_names = max(name_vals.size, 1)
    pair_code = m_codes[keep] * n_names + n_codes[keep]
    pair_of_row, pairs = pd.factorize(pair_code, sort=False)
    artists = resolve_artists(
        mbid_vals[pairs // n_names],
        name_vals[pairs % n_names],
        np.bincount(pair_of_row, minlength=pairs.size),
    )
    return Plays(
        user_of_value[u_codes[keep]], artists.of_pair[pair_of_row], plays[keep], user_keys, artists
    )


def read_lastfm360k(data_dir: Path, hashes: dict[str, str]) -> RawTables:
    """Read and validate a Last.fm-360K directory (see the module docstring)."""
    data_dir = Path(data_dir)
    path = data_dir / PLAYS_FILE
    if not path.is_file():
        raise MissingDataError(f"{PLAYS_FILE}: file not found in {data_dir}")
    findings: list[str] = []
    parsed = read_plays(path, findings)
    user_keys, artists = parsed.user_keys, parsed.artists
    n_users, n_artists = user_keys.size, artists.keys.size
    user_ids = np.arange(1, n_users + 1, dtype=np.int64)
    artist_ids = np.arange(1, n_artists + 1, dtype=np.int64)
    ua, n_dup = sum_listens(parsed.rows, parsed.cols, parsed.plays, user_ids, artist_ids)
    if n_dup:
        findings.append(
            f"{PLAYS_FILE}: {n_dup:,} duplicate (user, artist) row(s) summed (the same artist "
            "listed twice for a user, e.g. with and without its MBID)"
        )
    if artists.matched_by_name:
        findings.append(
            f"{PLAYS_FILE}: {artists.matched_by_name:,} row(s) without an MBID were matched to "
            "the one artist with an MBID and the same name"
        )
    if artists.ambiguous:
        findings.append(
            f"{PLAYS_FILE}: {artists.ambiguous:,} artist name(s) without an MBID are shared by "
            "several MBID artists; they are kept as separate, name-identified artists"
        )
    profiles = None
    if (data_dir / PROFILE_FILE).is_file():
        profiles = read_profiles(data_dir / PROFILE_FILE, user_keys, findings)
    return RawTables(
        artists=pd.DataFrame(
            {
                "id": artist_ids,
                "name": artists.names,
                "url": lastfm_urls(artists.names),
                "pictureURL": np.full(n_artists, "", dtype=object),
                "mbid": artists.mbids,
            }
        ),
        tags=empty_tags(),
        user_artists=ua,
        user_friends=empty_friends(),
        tag_assignments=empty_tag_assignments(),
        fingerprint=fingerprint_of(hashes),
        findings=findings,
        format=FORMAT,
        user_ids=user_ids,
        user_keys=user_keys,
        artist_keys=artists.keys,
        user_profiles=profiles,
    )


def read_profiles(path: Path, user_keys: np.ndarray, findings: list[str]) -> pd.DataFrame:
    """One profile row per user id (empty fields where the file has none or no row)."""
    name = path.name
    cols = read_columns(path, PROFILE_COLUMNS, delimiter="\t", quoted=False)
    n_lines = cols.table.num_rows + len(cols.invalid)
    mal = Malformed(name, max(n_lines, 1))
    skip_invalid(mal, cols, len(PROFILE_COLUMNS), "tab")
    mal.check("Last.fm-360K profile")
    if mal.finding():
        findings.append(mal.finding())
    dec = decode_columns(cols.table, PROFILE_COLUMNS)
    note = latin1_rows_finding(cols, dec["user"].latin1_rows)
    if note:
        findings.append(note)
    text = {c: strip_values(dec[c].values)[dec[c].codes] for c in PROFILE_COLUMNS}
    pos = np.searchsorted(user_keys, text["user"].astype(str)) if user_keys.size else None
    n = user_keys.size
    if pos is None:
        known = np.zeros(len(text["user"]), dtype=bool)
    else:
        pos = np.minimum(pos, n - 1)
        known = user_keys[pos] == text["user"]
    unknown = int((~known).sum())
    if unknown:
        findings.append(
            f"{name}: {unknown:,} profile row(s) of users without listening data ignored"
        )
    first = np.zeros(len(known), dtype=bool)
    if known.any():
        _, first_idx = np.unique(pos[known], return_index=True)
        first[np.flatnonzero(known)[first_idx]] = True
    n_dup = int(known.sum() - first.sum())
    if n_dup:
        findings.append(f"{name}: {n_dup:,} repeated profile row(s) ignored (first one kept)")
    idx = pos[first] if pos is not None else np.empty(0, np.int64)
    out = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "gender": np.full(n, "", dtype=object),
            "age": np.full(n, np.nan, dtype=np.float32),
            "country": np.full(n, "", dtype=object),
            "signup": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        }
    )
    gender = pd.Series(text["gender"][first], dtype=object).str.lower()
    out.loc[idx, "gender"] = gender.where(gender.isin(["m", "f"]), "").to_numpy(object)
    age = pd.to_numeric(pd.Series(text["age"][first], dtype=object), errors="coerce")
    out.loc[idx, "age"] = age.to_numpy(np.float32)
    out.loc[idx, "country"] = text["country"][first]
    signup = pd.to_datetime(
        pd.Series(text["signup"][first], dtype=object), format="%b %d, %Y", errors="coerce"
    )
    out.loc[idx, "signup"] = signup.to_numpy().astype("datetime64[D]")
    return out
