"""Parse and validate the raw HetRec 2011 Last.fm files.

The files are tab-separated with a header line and *no quoting*: artist 1686 is literally
``"Weird Al" Yankovic``. Each file is decoded from its bytes, UTF-8 first and latin-1 only for
the lines that are not UTF-8 (:mod:`artistrec.data.decode`), so the GroupLens originals
(artists.dat UTF-8, tags.dat latin-1) and re-encoded copies decode to the same text, and a
UTF-8 file with a stray latin-1 line keeps its other names intact (the line is a finding).

Fatal problems raise :class:`DataError` naming the file, the problem, counts and example lines.
Non-fatal findings of the real data (tagged artist ids missing from artists.dat, implausibly old
tag dates) are collected in :attr:`RawTables.findings`.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.data.decode import decode_bytes as decode_bytes  # re-exported
from artistrec.data.decode import decode_lines, line_layout
from artistrec.data.errors import DataError, MissingDataError
from artistrec.data.fingerprint import fingerprint_of


@dataclass(frozen=True)
class FileSpec:
    """Expected layout of one HetRec file."""

    name: str
    columns: tuple[str, ...]
    int_columns: tuple[str, ...]
    required: bool = True


ARTISTS = FileSpec("artists.dat", ("id", "name", "url", "pictureURL"), ("id",))
TAGS = FileSpec("tags.dat", ("tagID", "tagValue"), ("tagID",))
USER_ARTISTS = FileSpec(
    "user_artists.dat", ("userID", "artistID", "weight"), ("userID", "artistID", "weight")
)
USER_FRIENDS = FileSpec("user_friends.dat", ("userID", "friendID"), ("userID", "friendID"))
USER_TAGGED = FileSpec(
    "user_taggedartists.dat",
    ("userID", "artistID", "tagID", "day", "month", "year"),
    ("userID", "artistID", "tagID", "day", "month", "year"),
)
USER_TAGGED_TS = FileSpec(
    "user_taggedartists-timestamps.dat",
    ("userID", "artistID", "tagID", "timestamp"),
    ("userID", "artistID", "tagID", "timestamp"),
    required=False,
)
SPECS: tuple[FileSpec, ...] = (
    ARTISTS,
    TAGS,
    USER_ARTISTS,
    USER_FRIENDS,
    USER_TAGGED,
    USER_TAGGED_TS,
)
REQUIRED_FILES: tuple[str, ...] = tuple(s.name for s in SPECS if s.required)

#: Tag dates before this year are reported as findings (Last.fm started in 2002).
PLAUSIBLE_FIRST_YEAR = 2002
_MAX_EXAMPLES = 5


def _examples(values: object) -> str:
    arr = np.asarray(values).ravel()[:_MAX_EXAMPLES]
    return ", ".join(str(v) for v in arr)


#: Longest digit string accepted as an id/count (keeps values inside int64).
_MAX_DIGITS = 18


def read_table(path: Path, spec: FileSpec, findings: list[str] | None = None) -> pd.DataFrame:
    """Read one file into a DataFrame of strings/ints, validating its shape and integer columns.

    The index holds 1-based line numbers in the file, so later checks can point at lines.
    Lines that are not UTF-8 in an otherwise UTF-8 file are read as latin-1 and reported in
    ``findings`` (see :mod:`artistrec.data.decode`).
    """
    if not path.is_file():
        raise MissingDataError(f"{spec.name}: file not found at {path}")
    raw = path.read_bytes()
    decoded = decode_lines(raw)
    text = decoded.text
    note = decoded.finding(spec.name)
    if note and findings is not None:
        findings.append(note)
    expected = "\t".join(spec.columns)
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise DataError(f"{spec.name}: file is empty (expected header {expected!r})")
    header = [h.strip() for h in first.split("\t")]
    missing = [c for c in spec.columns if c not in header]
    extra = [c for c in header if c not in spec.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise DataError(
            f"{spec.name}: {' and '.join(parts)}; header is {chr(9).join(header)!r}, "
            f"expected {expected!r}"
        )
    if header != list(spec.columns):
        raise DataError(
            f"{spec.name}: columns out of order: {chr(9).join(header)!r}, expected {expected!r}"
        )
    lengths, n_tabs = line_layout(raw)
    data_lines = np.flatnonzero(lengths[1:] > 0) + 1  # 0-based, header excluded, blanks skipped
    if data_lines.size == 0:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=np.int64 if c in spec.int_columns else object)
                for c in spec.columns
            }
        )
    n_fields = len(spec.columns)
    bad = data_lines[n_tabs[data_lines] != n_fields - 1]
    if bad.size:
        short = n_tabs[bad] < n_fields - 1
        kind = "truncated (too few fields)" if short.any() else "over-long (too many fields)"
        raise DataError(
            f"{spec.name}: {bad.size} {kind} line(s) without exactly {n_fields} "
            f"tab-separated fields, e.g. line(s) {_examples(bad + 1)}"
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    read = functools.partial(
        pd.read_csv,
        sep="\t",
        header=None,
        skiprows=1,
        names=list(spec.columns),
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        lineterminator="\n",
        engine="c",
    )
    try:  # fast path: the C parser converts the integer columns itself
        df = read(
            io.StringIO(text),
            dtype={c: np.int64 if c in spec.int_columns else object for c in spec.columns},
        )
    except (ValueError, OverflowError):
        df = read(io.StringIO(text), dtype=object)
        for col in spec.int_columns:
            stripped = df[col].astype(str).str.strip()
            ok = stripped.str.fullmatch(rf"-?[0-9]{{1,{_MAX_DIGITS}}}").to_numpy(bool)
            if not ok.all():
                lines_bad = data_lines[~ok] + 1
                vals = stripped[~ok]
                raise DataError(
                    f"{spec.name}: column {col!r} has {len(lines_bad)} non-integer value(s), "
                    f"e.g. {_examples(vals.map(repr))} on line(s) {_examples(lines_bad)}"
                ) from None
            df[col] = stripped.astype(np.int64)
    if len(df) != data_lines.size:  # e.g. a stray CR splitting a line for the parser
        raise DataError(
            f"{spec.name}: parsed {len(df)} rows from {data_lines.size} non-blank lines; "
            "the file has unexpected line breaks"
        )
    df.index = data_lines + 1  # 1-based line numbers in the file
    for col in spec.columns:
        if col not in spec.int_columns:
            df[col] = df[col].astype(object)
    return df


def _check_unique(df: pd.DataFrame, cols: list[str], spec: FileSpec, what: str) -> None:
    dup = df.duplicated(cols, keep="first")
    if dup.any():
        ex = df.loc[dup, cols].head(_MAX_EXAMPLES)
        examples = "; ".join(
            f"line {i}: " + ", ".join(f"{c}={row[c]}" for c in cols) for i, row in ex.iterrows()
        )
        raise DataError(f"{spec.name}: {int(dup.sum())} duplicate {what} row(s), e.g. {examples}")


def _check_known(
    values: pd.Series, known: np.ndarray, spec: FileSpec, col: str, what: str, fatal: bool
) -> tuple[np.ndarray, str | None]:
    """Return a mask of rows whose id is known; raise (fatal) or describe (finding) the rest."""
    mask = np.isin(values.to_numpy(), known)
    if mask.all():
        return mask, None
    unknown = np.unique(values.to_numpy()[~mask])
    msg = (
        f"{spec.name}: {int((~mask).sum())} row(s) refer to {unknown.size} {what} id(s) "
        f"in column {col!r} that are not defined, e.g. {_examples(unknown)}"
    )
    if fatal:
        raise DataError(msg)
    return mask, msg


@dataclass
class RawTables:
    """Validated raw tables with integer original ids, before index mapping (any format).

    HetRec columns: ``artists`` (id, name, url, pictureURL[, mbid]), ``tags`` (tagID,
    tagValue), ``user_artists`` (userID, artistID, weight), ``user_friends`` (userID,
    friendID), ``tag_assignments`` (userID, artistID, tagID, date[, timestamp]). Formats with
    string keys also give ``user_ids`` (all user ids, sorted), ``user_keys`` / ``artist_keys``
    (the original key of each user id / artist row) and optional ``user_profiles``.
    """

    artists: pd.DataFrame
    tags: pd.DataFrame
    user_artists: pd.DataFrame
    user_friends: pd.DataFrame
    tag_assignments: pd.DataFrame
    fingerprint: str
    findings: list[str] = field(default_factory=list)
    format: str = "hetrec2011"
    user_ids: np.ndarray | None = None
    user_keys: np.ndarray | None = None
    artist_keys: np.ndarray | None = None
    user_profiles: pd.DataFrame | None = None


def empty_tags() -> pd.DataFrame:
    """A tag table without rows (formats that have no tags)."""
    return pd.DataFrame({"tagID": np.empty(0, np.int64), "tagValue": np.empty(0, object)})


def empty_friends() -> pd.DataFrame:
    """A friend table without rows (formats that have no friend graph)."""
    return pd.DataFrame({"userID": np.empty(0, np.int64), "friendID": np.empty(0, np.int64)})


def empty_tag_assignments() -> pd.DataFrame:
    """A tag-assignment table without rows (formats that have no tags)."""
    return pd.DataFrame(
        {
            "userID": np.empty(0, np.int64),
            "artistID": np.empty(0, np.int64),
            "tagID": np.empty(0, np.int64),
            "date": np.empty(0, "datetime64[D]"),
        }
    )


def _check_ids(df: pd.DataFrame, spec: FileSpec, cols: tuple[str, ...]) -> None:
    """Ids are non-negative integers (HetRec ids start at 1)."""
    for col in cols:
        neg = df[col].to_numpy() < 0
        if neg.any():
            raise DataError(
                f"{spec.name}: column {col!r} has {int(neg.sum())} negative id(s), "
                f"e.g. {_examples(df[col].to_numpy()[neg])} on line(s) {_examples(df.index[neg])}"
            )


def _require_rows(df: pd.DataFrame, spec: FileSpec) -> None:
    if df.empty:
        raise DataError(f"{spec.name}: file has a header but no data rows")


def read_hetrec(data_dir: Path, hashes: dict[str, str]) -> RawTables:
    """Read and validate all HetRec files in ``data_dir`` (``hashes``: their SHA-256)."""
    data_dir = Path(data_dir)
    findings: list[str] = []

    artists = read_table(data_dir / ARTISTS.name, ARTISTS, findings)
    _require_rows(artists, ARTISTS)
    _check_ids(artists, ARTISTS, ("id",))
    _check_unique(artists, ["id"], ARTISTS, "artist id")
    tags = read_table(data_dir / TAGS.name, TAGS, findings)
    _check_ids(tags, TAGS, ("tagID",))
    _check_unique(tags, ["tagID"], TAGS, "tag id")

    ua = read_table(data_dir / USER_ARTISTS.name, USER_ARTISTS, findings)
    _require_rows(ua, USER_ARTISTS)
    _check_ids(ua, USER_ARTISTS, ("userID", "artistID"))
    _check_unique(ua, ["userID", "artistID"], USER_ARTISTS, "(user, artist)")
    w = ua["weight"].to_numpy()
    if (w <= 0).any():
        n_zero, n_neg = int((w == 0).sum()), int((w < 0).sum())
        raise DataError(
            f"{USER_ARTISTS.name}: listen counts (weight) must be positive, found "
            f"{n_zero} zero and {n_neg} negative weight(s), "
            f"e.g. line(s) {_examples(ua.index[w <= 0])}"
        )
    _check_known(ua["artistID"], artists["id"].to_numpy(), USER_ARTISTS, "artistID", "artist", True)
    user_ids = np.unique(ua["userID"].to_numpy())

    uf = read_table(data_dir / USER_FRIENDS.name, USER_FRIENDS, findings)
    _check_ids(uf, USER_FRIENDS, ("userID", "friendID"))
    _check_known(uf["userID"], user_ids, USER_FRIENDS, "userID", "user", True)
    _check_known(uf["friendID"], user_ids, USER_FRIENDS, "friendID", "user", True)
    self_loops = (uf["userID"] == uf["friendID"]).to_numpy()
    if self_loops.any():
        findings.append(
            f"{USER_FRIENDS.name}: {int(self_loops.sum())} self-friendship row(s) ignored"
        )
        uf = uf[~self_loops]
    dup = uf.duplicated(["userID", "friendID"]).to_numpy()
    if dup.any():
        findings.append(f"{USER_FRIENDS.name}: {int(dup.sum())} duplicate row(s) ignored")
        uf = uf[~dup]

    ut = read_table(data_dir / USER_TAGGED.name, USER_TAGGED, findings)
    _check_ids(ut, USER_TAGGED, ("userID", "artistID", "tagID"))
    _check_unique(ut, ["userID", "artistID", "tagID"], USER_TAGGED, "(user, artist, tag)")
    _check_known(ut["userID"], user_ids, USER_TAGGED, "userID", "user", True)
    _check_known(ut["tagID"], tags["tagID"].to_numpy(), USER_TAGGED, "tagID", "tag", True)
    _, msg = _check_known(
        ut["artistID"], artists["id"].to_numpy(), USER_TAGGED, "artistID", "artist", False
    )
    if msg:
        findings.append(msg + " (kept as assignments, left out of artist-level matrices)")
    dates = pd.to_datetime(
        pd.DataFrame({"year": ut["year"], "month": ut["month"], "day": ut["day"]}), errors="coerce"
    )
    if dates.isna().any():
        bad = ut.index[dates.isna().to_numpy()]
        raise DataError(
            f"{USER_TAGGED.name}: {len(bad)} row(s) with an invalid day/month/year date, "
            f"e.g. line(s) {_examples(bad)}"
        )
    old = (dates.dt.year < PLAUSIBLE_FIRST_YEAR).to_numpy()
    if old.any():
        years = sorted(set(dates[old].dt.year.tolist()))
        findings.append(
            f"{USER_TAGGED.name}: {int(old.sum())} tag assignment(s) dated before "
            f"{PLAUSIBLE_FIRST_YEAR} (years {', '.join(map(str, years))}); kept as they are"
        )
    ut = ut.assign(date=dates.to_numpy().astype("datetime64[D]"))[
        ["userID", "artistID", "tagID", "date"]
    ]

    ts_path = data_dir / USER_TAGGED_TS.name
    if ts_path.is_file():
        ut = _attach_timestamps(ut, read_table(ts_path, USER_TAGGED_TS, findings), findings)
    return RawTables(
        artists=artists.reset_index(drop=True),
        tags=tags.reset_index(drop=True),
        user_artists=ua.reset_index(drop=True),
        user_friends=uf.reset_index(drop=True),
        tag_assignments=ut.reset_index(drop=True),
        fingerprint=fingerprint_of(hashes),
        findings=findings,
    )


def _attach_timestamps(ut: pd.DataFrame, ts: pd.DataFrame, findings: list[str]) -> pd.DataFrame:
    """Add a ``timestamp`` column (datetime64[ms], NaT where the optional file has no row).

    GroupLens' ``user_taggedartists-timestamps.dat`` holds the same assignments with a Unix
    timestamp in milliseconds.
    """
    spec = USER_TAGGED_TS
    keys = ["userID", "artistID", "tagID"]
    _check_unique(ts, keys, spec, "(user, artist, tag)")
    merged = ut[keys].merge(ts, on=keys, how="left", validate="one_to_one")
    stamp = merged["timestamp"].to_numpy(dtype=np.float64)
    missing = np.isnan(stamp)
    out = np.full(stamp.shape, np.datetime64("NaT"), dtype="datetime64[ms]")
    out[~missing] = stamp[~missing].astype(np.int64).astype("datetime64[ms]")
    if missing.any():
        findings.append(
            f"{spec.name}: {int(missing.sum())} tag assignment(s) of {USER_TAGGED.name} have no "
            "timestamp (left as NaT)"
        )
    extra = len(ts) - int((~missing).sum())
    if extra:
        findings.append(
            f"{spec.name}: {extra} row(s) match no assignment in {USER_TAGGED.name} (ignored)"
        )
    return ut.assign(timestamp=out)
