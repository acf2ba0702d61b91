"""Parse and validate the raw HetRec 2011 Last.fm files.

The files are tab-separated with a header line and *no quoting*: artist 1686 is literally
``"Weird Al" Yankovic``. Each file's encoding is decided from its bytes (UTF-8 first, latin-1
fallback), so both the GroupLens originals (artists.dat UTF-8, tags.dat latin-1) and re-encoded
copies decode to the same text.

Fatal problems raise :class:`DataError` naming the file, the problem, counts and example lines.
Non-fatal findings of the real data (tagged artist ids missing from artists.dat, implausibly old
tag dates) are collected in :attr:`RawTables.findings`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.data.errors import DataError, MissingDataError


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


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (BOM tolerated), falling back to latin-1. Returns (text, encoding)."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _examples(values: object) -> str:
    arr = np.asarray(values).ravel()[:_MAX_EXAMPLES]
    return ", ".join(str(v) for v in arr)


def read_table(path: Path, spec: FileSpec) -> pd.DataFrame:
    """Read one file into a DataFrame of strings/ints, validating its shape and integer columns."""
    if not path.is_file():
        raise MissingDataError(f"{spec.name}: file not found at {path}")
    text, _ = decode_bytes(path.read_bytes())
    lines = pd.Series(text.splitlines(), dtype=object)
    if lines.empty or not str(lines.iloc[0]).strip():
        expected = "\t".join(spec.columns)
        raise DataError(f"{spec.name}: file is empty (expected header {expected!r})")
    header = str(lines.iloc[0]).split("\t")
    header = [h.strip() for h in header]
    missing = [c for c in spec.columns if c not in header]
    extra = [c for c in header if c not in spec.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if extra:
            parts.append(f"unexpected column(s) {extra}")
        raise DataError(f"{spec.name}: {' and '.join(parts)}; header is {header}")
    if header != list(spec.columns):
        raise DataError(
            f"{spec.name}: columns out of order: {header}, expected {list(spec.columns)}"
        )
    body = lines.iloc[1:]
    body = body[body.str.len() > 0]  # tolerate blank lines (e.g. a trailing newline pair)
    n_tabs = body.str.count("\t").to_numpy()
    bad = np.flatnonzero(n_tabs != len(spec.columns) - 1)
    if bad.size:
        line_nos = body.index.to_numpy()[bad] + 1
        kind = "truncated" if (n_tabs[bad] < len(spec.columns) - 1).any() else "over-long"
        raise DataError(
            f"{spec.name}: {bad.size} {kind} line(s) without exactly {len(spec.columns)} "
            f"tab-separated fields, e.g. line(s) {_examples(line_nos)}"
        )
    df = pd.read_csv(
        io.StringIO("\n".join(body.tolist())),
        sep="\t",
        header=None,
        names=list(spec.columns),
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        engine="c",
    )
    df.index = body.index.to_numpy() + 1  # 1-based line numbers in the file
    for col in spec.int_columns:
        stripped = df[col].str.strip()
        ok = stripped.str.fullmatch(r"-?\d+")
        if not ok.all():
            lines_bad = df.index[~ok.to_numpy()]
            vals = stripped[~ok]
            raise DataError(
                f"{spec.name}: column {col!r} has {len(lines_bad)} non-integer value(s), "
                f"e.g. {_examples(vals.map(repr))} on line(s) {_examples(lines_bad)}"
            )
        df[col] = stripped.astype(np.int64)
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
    """Validated raw tables, original ids, before index mapping."""

    artists: pd.DataFrame
    tags: pd.DataFrame
    user_artists: pd.DataFrame
    user_friends: pd.DataFrame
    tag_assignments: pd.DataFrame
    fingerprint: str
    findings: list[str] = field(default_factory=list)


def file_hashes(data_dir: Path) -> dict[str, str]:
    """SHA-256 of each present HetRec file (required ones must exist)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise MissingDataError(f"data directory not found: {data_dir}")
    missing = [n for n in REQUIRED_FILES if not (data_dir / n).is_file()]
    if missing:
        raise MissingDataError(f"missing file(s) in {data_dir}: {', '.join(missing)}")
    out = {}
    for spec in SPECS:
        p = data_dir / spec.name
        if p.is_file():
            out[spec.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def fingerprint_of(hashes: dict[str, str]) -> str:
    """One short fingerprint for a set of file hashes (stored in model artifacts)."""
    h = hashlib.sha256()
    for name in sorted(hashes):
        h.update(f"{name}={hashes[name]}\n".encode())
    return h.hexdigest()[:16]


def read_raw(data_dir: Path, hashes: dict[str, str] | None = None) -> RawTables:
    """Read and validate all HetRec files in ``data_dir``."""
    data_dir = Path(data_dir)
    hashes = hashes if hashes is not None else file_hashes(data_dir)
    findings: list[str] = []

    artists = read_table(data_dir / ARTISTS.name, ARTISTS)
    _check_unique(artists, ["id"], ARTISTS, "artist id")
    tags = read_table(data_dir / TAGS.name, TAGS)
    _check_unique(tags, ["tagID"], TAGS, "tag id")

    ua = read_table(data_dir / USER_ARTISTS.name, USER_ARTISTS)
    _check_unique(ua, ["userID", "artistID"], USER_ARTISTS, "(user, artist)")
    nonpos = ua["weight"] <= 0
    if nonpos.any():
        raise DataError(
            f"{USER_ARTISTS.name}: {int(nonpos.sum())} row(s) with a zero or negative weight, "
            f"e.g. line(s) {_examples(ua.index[nonpos.to_numpy()])}"
        )
    _check_known(ua["artistID"], artists["id"].to_numpy(), USER_ARTISTS, "artistID", "artist", True)
    user_ids = np.unique(ua["userID"].to_numpy())

    uf = read_table(data_dir / USER_FRIENDS.name, USER_FRIENDS)
    _check_known(uf["userID"], user_ids, USER_FRIENDS, "userID", "user", True)
    _check_known(uf["friendID"], user_ids, USER_FRIENDS, "friendID", "user", True)
    self_loops = uf["userID"] == uf["friendID"]
    if self_loops.any():
        findings.append(
            f"{USER_FRIENDS.name}: {int(self_loops.sum())} self-friendship row(s) ignored"
        )
        uf = uf[~self_loops]
    dup = uf.duplicated(["userID", "friendID"])
    if dup.any():
        findings.append(f"{USER_FRIENDS.name}: {int(dup.sum())} duplicate row(s) ignored")
        uf = uf[~dup]

    ut = read_table(data_dir / USER_TAGGED.name, USER_TAGGED)
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
    old = dates.dt.year < PLAUSIBLE_FIRST_YEAR
    if old.any():
        years = sorted(set(dates[old].dt.year.tolist()))
        findings.append(
            f"{USER_TAGGED.name}: {int(old.sum())} tag assignment(s) dated before "
            f"{PLAUSIBLE_FIRST_YEAR} (years {years}); kept as they are"
        )
    ut = ut.assign(date=dates.to_numpy().astype("datetime64[D]"))[
        ["userID", "artistID", "tagID", "date"]
    ]

    ts_path = data_dir / USER_TAGGED_TS.name
    if ts_path.is_file():
        ts = read_table(ts_path, USER_TAGGED_TS)
        merged = ut.merge(ts, on=["userID", "artistID", "tagID"], how="left")
        ut = ut.assign(timestamp=merged["timestamp"].to_numpy())
    return RawTables(
        artists=artists.reset_index(drop=True),
        tags=tags.reset_index(drop=True),
        user_artists=ua.reset_index(drop=True),
        user_friends=uf.reset_index(drop=True),
        tag_assignments=ut.reset_index(drop=True),
        fingerprint=fingerprint_of(hashes),
        findings=findings,
    )
