"""Read a generic listening log (people's own data) into :class:`~artistrec.data.loader.RawTables`.

A directory with ``interactions.csv`` or ``interactions.parquet`` (not both) with the columns
``user``, ``artist`` and ``plays`` (names compared case-insensitively; other columns are
ignored), and optionally ``artists.csv`` with ``artist`` and ``name`` (other columns ignored).

- CSV: comma-separated, a header line, double quotes around fields that contain commas, UTF-8
  (lines that are not are read as latin-1 and reported); one record per line.
- ``user``: whole numbers are used as the user ids; any other value makes every user a string
  key, numbered 1..n in sorted order.
- ``artist``: when every value is a whole number, artists are ids and ``artists.csv`` gives
  their names (an id it does not name is shown as its number); otherwise artists are names,
  identified case-insensitively (:mod:`artistrec.data.keys`), and ``artists.csv`` may give the
  display name of each.
- ``plays``: a positive whole number. Duplicate (user, artist) rows are summed; malformed
  lines are skipped and reported, and fatal above
  :data:`~artistrec.data.tabular.MAX_MALFORMED_SHARE` of the file. No tags, no friends.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from artistrec.data.decode import decode_lines
from artistrec.data.errors import DataError, MissingDataError
from artistrec.data.fingerprint import fingerprint_of
from artistrec.data.keys import resolve_artists, sorted_ids
from artistrec.data.lastfm360k import lastfm_urls
from artistrec.data.loader import RawTables, empty_friends, empty_tag_assignments, empty_tags
from artistrec.data.tabular import (
    Malformed,
    TextColumns,
    decode_columns,
    latin1_rows_finding,
    parse_counts,
    read_columns,
    skip_invalid,
    skip_rows,
    strip_values,
    sum_listens,
)

FORMAT = "generic"
CSV_FILE = "interactions.csv"
PARQUET_FILE = "interactions.parquet"
ARTISTS_FILE = "artists.csv"
COLUMNS = ["user", "artist", "plays"]
ARTIST_COLUMNS = ["artist", "name"]
_WHOLE = r"^[0-9]{1,18}$"


def _pick_columns(name: str, header: list[str], wanted: list[str]) -> list[str]:
    """The file's own spelling of each wanted column (matched case-insensitively)."""
    norm = [h.strip().lower() for h in header]
    dup = sorted({h for h in norm if norm.count(h) > 1 and h in wanted})
    if dup:
        raise DataError(f"{name}: column(s) {', '.join(dup)} appear more than once")
    missing = [w for w in wanted if w not in norm]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; the header is "
            f"{','.join(header)!r}, expected at least {','.join(wanted)!r}"
        )
    return [header[norm.index(w)] for w in wanted]


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    text = decode_lines(head).text if head else ""
    for line in text.splitlines():
        if line.strip():
            return next(csv.reader([line]))
    raise DataError(f"{path.name}: the file is empty (expected a header with user,artist,plays)")


def _read_csv(path: Path, wanted: list[str]) -> TextColumns:
    include = _pick_columns(path.name, _csv_header(path), wanted)
    cols = read_columns(path, None, delimiter=",", quoted=True, include=include)
    cols.table = cols.table.rename_columns(wanted)
    return cols


def _read_parquet(path: Path) -> TextColumns:
    try:
        schema = pq.read_schema(path)
        include = _pick_columns(path.name, list(schema.names), COLUMNS)
        table = pq.read_table(path, columns=include)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path.name}: not a readable Parquet file: {exc}") from None
    table = table.rename_columns(COLUMNS)
    for name in ("user", "artist"):
        col = table[name]
        if pa.types.is_floating(col.type) or pa.types.is_string(col.type):
            col = pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col
        if not pa.types.is_binary(col.type):
            col = pc.cast(pc.cast(col, pa.string()), pa.binary())
        table = table.set_column(table.schema.get_field_index(name), name, col)
    return TextColumns(path, table, [], header=False, unit="row")


def _whole_numbers(values: np.ndarray, used: np.ndarray) -> bool:
    vals = pd.Series(values[used], dtype=object).astype(str)
    return bool(len(vals)) and bool(vals.str.fullmatch(_WHOLE).all())


def _float_ids(values: np.ndarray) -> np.ndarray:
    """ "12" and Parquet's "12.0" (a float column) both give 12."""
    s = (
        pd.Series(values, dtype=object)
        .astype(str)
        .str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    )
    return s.to_numpy(object)


def read_generic(data_dir: Path, hashes: dict[str, str]) -> RawTables:
    """Read and validate a generic-format directory (see the module docstring)."""
    data_dir = Path(data_dir)
    csv_path, pq_path = data_dir / CSV_FILE, data_dir / PARQUET_FILE
    if csv_path.is_file() and pq_path.is_file():
        raise DataError(
            f"{data_dir} holds both {CSV_FILE} and {PARQUET_FILE}; keep the one to load"
        )
    if not csv_path.is_file() and not pq_path.is_file():
        raise MissingDataError(f"no {CSV_FILE} or {PARQUET_FILE} in {data_dir}")
    findings: list[str] = []
    cols = _read_csv(csv_path, COLUMNS) if csv_path.is_file() else _read_parquet(pq_path)
    name = cols.path.name
    n_total = cols.table.num_rows + len(cols.invalid)
    if n_total == 0:
        raise DataError(f"{name}: the file has a header but no data {cols.unit}s")
    mal = Malformed(name, n_total, unit=cols.unit)
    skip_invalid(mal, cols, len(COLUMNS), "comma")
    dec = decode_columns(cols.table, ["user", "artist"])
    plays, reason = parse_counts(cols.table["plays"])
    user_vals = _float_ids(strip_values(dec["user"].values))
    artist_vals = _float_ids(strip_values(dec["artist"].values))
    u_codes, a_codes = dec["user"].codes, dec["artist"].codes
    no_user = (user_vals == "")[u_codes]
    no_artist = (artist_vals == "")[a_codes] & ~no_user
    sep = "," if cols.unit == "line" else " | "
    skip_rows(mal, cols, np.flatnonzero(reason == 1), "with plays that are not a whole number", sep)
    skip_rows(mal, cols, np.flatnonzero(reason == 2), "with zero or negative plays", sep)
    skip_rows(mal, cols, np.flatnonzero(no_user & (reason == 0)), "without a user", sep)
    skip_rows(mal, cols, np.flatnonzero(no_artist & (reason == 0)), "without an artist", sep)
    mal.check("generic interactions")
    for note in (latin1_rows_finding(cols, dec["user"].latin1_rows), mal.finding()):
        if note:
            findings.append(note)
    keep = np.flatnonzero((reason == 0) & ~no_user & ~no_artist)
    if keep.size == 0:
        raise DataError(f"{name}: no {cols.unit} has a user, an artist and a positive play count")

    used_u = np.zeros(user_vals.size, dtype=bool)
    used_u[u_codes[keep]] = True
    if _whole_numbers(user_vals, used_u):
        numeric = pd.to_numeric(pd.Series(user_vals, dtype=object), errors="coerce")
        ids_of_value = np.where(used_u, numeric.fillna(-1).to_numpy(np.float64), -1)
        user_ids, user_of_value = np.unique(ids_of_value[used_u].astype(np.int64)), None
        rows = np.searchsorted(user_ids, ids_of_value[u_codes[keep]].astype(np.int64))
        user_keys = user_ids.astype(str).astype(object)
    else:
        user_keys, user_of_value = sorted_ids(user_vals, used_u)
        user_ids = np.arange(1, user_keys.size + 1, dtype=np.int64)
        rows = user_of_value[u_codes[keep]]

    used_a = np.zeros(artist_vals.size, dtype=bool)
    used_a[a_codes[keep]] = True
    artists_path = data_dir / ARTISTS_FILE
    if _whole_numbers(artist_vals, used_a):
        artists, cols_idx, artist_keys = _artists_by_id(
            artist_vals, used_a, a_codes[keep], artists_path, findings
        )
    else:
        artists, cols_idx, artist_keys = _artists_by_name(
            artist_vals, a_codes[keep], artists_path, findings
        )
    ua, n_dup = sum_listens(rows, cols_idx, plays[keep], user_ids, artists["id"].to_numpy())
    if n_dup:
        findings.append(f"{name}: {n_dup:,} duplicate (user, artist) {cols.unit}(s) summed")
    return RawTables(
        artists=artists,
        tags=empty_tags(),
        user_artists=ua,
        user_friends=empty_friends(),
        tag_assignments=empty_tag_assignments(),
        fingerprint=fingerprint_of(hashes),
        findings=findings,
        format=FORMAT,
        user_ids=user_ids,
        user_keys=user_keys,
        artist_keys=artist_keys,
    )


def _artist_names(path: Path, findings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(artist value, display name) per row of artists.csv (first row of a repeated artist)."""
    cols = _read_csv(path, ARTIST_COLUMNS)
    n_total = cols.table.num_rows + len(cols.invalid)
    mal = Malformed(path.name, max(n_total, 1))
    skip_invalid(mal, cols, len(ARTIST_COLUMNS), "comma")
    dec = decode_columns(cols.table, ARTIST_COLUMNS)
    artist = _float_ids(strip_values(dec["artist"].values))[dec["artist"].codes]
    names = strip_values(dec["name"].values)[dec["name"].codes]
    skip_rows(mal, cols, np.flatnonzero(artist == ""), "without an artist", ",")
    mal.check("artists")
    for note in (latin1_rows_finding(cols, dec["artist"].latin1_rows), mal.finding()):
        if note:
            findings.append(note)
    ok = artist != ""
    artist, names = artist[ok], names[ok]
    _, first = np.unique(artist.astype(str), return_index=True)
    if first.size < artist.size:
        findings.append(
            f"{path.name}: {artist.size - first.size:,} repeated artist row(s) ignored "
            "(first one kept)"
        )
    first.sort()
    return artist[first], names[first]


def _artists_by_id(
    values: np.ndarray,
    used: np.ndarray,
    codes: np.ndarray,
    artists_path: Path,
    findings: list[str],
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    ids_of_value = np.full(values.size, -1, dtype=np.int64)
    ids_of_value[used] = pd.to_numeric(pd.Series(values[used])).to_numpy(np.int64)
    listened = np.unique(ids_of_value[used])
    named_ids, named = np.empty(0, np.int64), np.empty(0, object)
    if artists_path.is_file():
        keys, names = _artist_names(artists_path, findings)
        whole = pd.Series(keys, dtype=object).astype(str).str.fullmatch(_WHOLE).to_numpy(bool)
        if (~whole).any():
            findings.append(
                f"{ARTISTS_FILE}: {int((~whole).sum()):,} row(s) whose artist is not a whole "
                f"number ignored ({CSV_FILE} names artists by id), e.g. {keys[~whole][0]!r}"
            )
        named_ids = pd.to_numeric(pd.Series(keys[whole])).to_numpy(np.int64)
        named = names[whole]
    ids = np.union1d(listened, named_ids)
    name = ids.astype(str).astype(object)
    url = np.full(ids.size, "", dtype=object)
    pos = np.searchsorted(ids, named_ids)
    has = named != ""
    name[pos[has]] = named[has]
    url[pos[has]] = lastfm_urls(named[has])
    unnamed = int(ids.size - has.sum())
    if unnamed:
        where = f"in {ARTISTS_FILE}" if artists_path.is_file() else f"(no {ARTISTS_FILE})"
        findings.append(f"{unnamed:,} artist id(s) have no name {where}; shown by their id")
    artists = pd.DataFrame(
        {
            "id": ids,
            "name": name,
            "url": url,
            "pictureURL": np.full(ids.size, "", dtype=object),
            "mbid": np.full(ids.size, "", dtype=object),
        }
    )
    cols_idx = np.searchsorted(ids, ids_of_value[codes])
    return artists, cols_idx, ids.astype(str).astype(object)


def _artists_by_name(
    values: np.ndarray, codes: np.ndarray, artists_path: Path, findings: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    pair_of_row, pairs = pd.factorize(codes, sort=False)
    names = values[pairs]
    weight = np.bincount(pair_of_row, minlength=pairs.size)
    extra_keys, extra_names = np.empty(0, object), np.empty(0, object)
    if artists_path.is_file():
        extra_keys, extra_names = _artist_names(artists_path, findings)
    all_names = np.concatenate([names, extra_keys]).astype(object)
    all_weight = np.concatenate([weight, np.zeros(extra_keys.size, np.int64)])
    resolved = resolve_artists(np.full(all_names.size, "", dtype=object), all_names, all_weight)
    display = resolved.names.copy()
    listed = resolved.of_pair[names.size :]
    has = extra_names != ""
    display[listed[has]] = extra_names[has]
    n = resolved.keys.size
    artists = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "name": display,
            "url": lastfm_urls(display),
            "pictureURL": np.full(n, "", dtype=object),
            "mbid": np.full(n, "", dtype=object),
        }
    )
    return artists, resolved.of_pair[: names.size][pair_of_row], resolved.keys
