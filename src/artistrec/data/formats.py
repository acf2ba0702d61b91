"""Which data-set format a directory holds, its files, and the reader for it.

Recognised by file names (first match wins):

- ``lastfm360k``: ``usersha1-artmbid-artname-plays.tsv`` (+ optional ``usersha1-profile.tsv``);
- ``generic``: ``interactions.csv`` or ``interactions.parquet`` (+ optional ``artists.csv``);
- ``hetrec2011``: the five HetRec 2011 files (+ optional ``user_taggedartists-timestamps.dat``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from artistrec.data import generic, lastfm360k
from artistrec.data.errors import MissingDataError
from artistrec.data.fingerprint import file_hash
from artistrec.data.loader import REQUIRED_FILES, SPECS, RawTables, read_hetrec

HETREC = "hetrec2011"
LASTFM360K = lastfm360k.FORMAT
GENERIC = generic.FORMAT
FORMATS: tuple[str, ...] = (HETREC, LASTFM360K, GENERIC)
#: How each format is named for people.
TITLES: dict[str, str] = {
    HETREC: "HetRec 2011 Last.fm",
    LASTFM360K: "Last.fm-360K",
    GENERIC: "generic listening log",
}

#: The files of each format that take part in its fingerprint (when present).
FILES: dict[str, tuple[str, ...]] = {
    HETREC: tuple(s.name for s in SPECS),
    LASTFM360K: (lastfm360k.PLAYS_FILE, lastfm360k.PROFILE_FILE),
    GENERIC: (generic.CSV_FILE, generic.PARQUET_FILE, generic.ARTISTS_FILE),
}
READERS: dict[str, Callable[[Path, dict[str, str]], RawTables]] = {
    HETREC: read_hetrec,
    LASTFM360K: lastfm360k.read_lastfm360k,
    GENERIC: generic.read_generic,
}


def detect_format(data_dir: Path, origin: str | None = None) -> str:
    """The format of the data in ``data_dir``; :class:`MissingDataError` says what is missing."""
    data_dir = Path(data_dir)
    given = f" (given by {origin})" if origin else ""
    if not data_dir.is_dir():
        raise MissingDataError(f"data directory {data_dir}{given} does not exist")
    if (data_dir / lastfm360k.PLAYS_FILE).is_file():
        return LASTFM360K
    if any((data_dir / n).is_file() for n in (generic.CSV_FILE, generic.PARQUET_FILE)):
        return GENERIC
    present = [n for n in REQUIRED_FILES if (data_dir / n).is_file()]
    missing = [n for n in REQUIRED_FILES if n not in present]
    if present and missing:  # a HetRec directory with files missing
        raise MissingDataError(f"missing file(s) in {data_dir}{given}: {', '.join(missing)}")
    if not missing:
        return HETREC
    raise MissingDataError(
        f"no data set found in {data_dir}{given}: expected the HetRec 2011 files "
        f"({', '.join(REQUIRED_FILES)}), Last.fm-360K's {lastfm360k.PLAYS_FILE}, or "
        f"{generic.CSV_FILE} / {generic.PARQUET_FILE} with user, artist and plays columns"
    )


def file_hashes(data_dir: Path, index: Path | None = None) -> dict[str, str]:
    """SHA-256 of each present file of the directory's format (``index``: see fingerprint)."""
    data_dir = Path(data_dir)
    fmt = detect_format(data_dir)
    return {
        name: file_hash(data_dir / name, index)
        for name in FILES[fmt]
        if (data_dir / name).is_file()
    }


def read_raw(data_dir: Path, hashes: dict[str, str] | None = None) -> RawTables:
    """Read and validate the data set in ``data_dir``, whatever its format."""
    data_dir = Path(data_dir)
    hashes = hashes if hashes is not None else file_hashes(data_dir)
    return READERS[detect_format(data_dir)](data_dir, hashes)
