"""Listening-history exports: recognise the format from the content and read plays per artist.

Understood (see :data:`FORMATS`): Spotify's extended streaming history and its older account-data
streaming history (JSON), Last.fm scrobble exports (CSV with a header naming an artist column,
or the header-less ``artist,album,track,date`` form), a plain CSV/TSV of ``artist,plays``
(header optional), several such files at once, and zip archives of them. File names are never
used to decide the format (uploads are often renamed); only bytes are.

Everything happens in memory; nothing is written to disk. Limits protect a server that accepts
uploads: :data:`MAX_FILE_BYTES` per file (and per zip member once decompressed),
:data:`MAX_TOTAL_BYTES` for everything together, :data:`MAX_ZIP_MEMBERS`, a compression-ratio
cap against zip bombs, and zips inside zips are not opened.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Largest file (or decompressed zip member) read, in bytes.
MAX_FILE_BYTES = 100 * 1024 * 1024
#: Largest total of all files and decompressed members of one import, in bytes.
MAX_TOTAL_BYTES = 300 * 1024 * 1024
#: Most members a zip may have.
MAX_ZIP_MEMBERS = 2_000
#: A zip member that decompresses to more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
#: A stream counts as a play when it lasted at least this long (the industry's 30 s convention).
MIN_PLAY_MS = 30_000

FORMATS: dict[str, str] = {
    "spotify-extended": "Spotify extended streaming history (Streaming_History_Audio_*.json)",
    "spotify-account": "Spotify account-data streaming history (StreamingHistory*.json)",
    "lastfm-csv": "Last.fm scrobbles as CSV with a header naming an artist column",
    "lastfm-headerless": "Last.fm scrobbles as header-less CSV (artist,album,track,date)",
    "plays-table": "a CSV or TSV of artist,plays (header optional)",
    "zip": "a zip archive of any of these",
}

_ARTIST_COLUMNS = {"artist", "artist name", "artist_name", "artistname", "artist.name"}
_PLAYS_COLUMNS = {
    "plays",
    "playcount",
    "play count",
    "play_count",
    "count",
    "scrobbles",
    "listens",
    "listen_count",
    "streams",
}
_MBID_COLUMNS = {"artist_mbid", "artist mbid", "artist.mbid", "mbid"}
#: Placeholders exporters write where the artist is unknown; such rows are skipped.
_NO_ARTIST = {"", "unknown artist", "[unknown]", "<unknown>", "unknown"}


def understood_formats() -> str:
    """One sentence listing the formats that are understood."""
    return "; ".join(FORMATS.values())


class HistoryFormatError(ValueError):
    """A history file that cannot be read; the message says which file and why."""

    def __init__(self, message: str, file: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)


@dataclass(frozen=True)
class ParsedFile:
    """Plays per artist read from one file (or zip member).

    ``plays`` has one row per artist spelling as written in the file: ``artist`` (str),
    ``mbid`` (str or None) and ``plays`` (int64 > 0). ``rows`` counts the records read,
    ``skipped_rows`` those without an artist (podcasts, videos, unknown artist) and
    ``short_streams`` streams shorter than the play threshold (Spotify only).
    """

    name: str
    format: str
    plays: pd.DataFrame
    rows: int
    skipped_rows: int = 0
    short_streams: int = 0


@dataclass(frozen=True)
class ParsedHistory:
    """Every file of one import; ``ignored`` lists zip members that are not histories."""

    files: list[ParsedFile]
    ignored: list[dict[str, str]] = field(default_factory=list)

    def plays(self) -> pd.DataFrame:
        """Plays summed per artist spelling over all files: ``artist``, ``mbid``, ``plays``."""
        frames = [f.plays for f in self.files if len(f.plays)]
        if not frames:
            return _empty_plays()
        return _sum_plays(pd.concat(frames, ignore_index=True))

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def skipped_rows(self) -> int:
        return sum(f.skipped_rows for f in self.files)

    @property
    def short_streams(self) -> int:
        return sum(f.short_streams for f in self.files)


def _empty_plays() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "artist": pd.Series([], dtype=object),
            "mbid": pd.Series([], dtype=object),
            "plays": pd.Series([], dtype=np.int64),
        }
    )


def _sum_plays(df: pd.DataFrame) -> pd.DataFrame:
    """Sum plays per artist spelling; the first non-empty MBID of that spelling is kept."""
    if "mbid" not in df:
        df = df.assign(mbid=None)
    mb = df["mbid"].where(df["mbid"].notna() & (df["mbid"].astype(str).str.strip() != ""))
    g = df.assign(mbid=mb).groupby("artist", sort=False)
    out = pd.DataFrame({"plays": g["plays"].sum().astype(np.int64), "mbid": g["mbid"].first()})
    out = out.reset_index()[["artist", "mbid", "plays"]]
    out["mbid"] = out["mbid"].astype(object).where(out["mbid"].notna(), None)
    return out


def _clean_artists(artists: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Artist names stripped, and a mask of the rows that name an artist."""
    s = artists.astype(object).where(artists.notna(), "").astype(str).str.strip()
    has = ~s.str.casefold().isin(_NO_ARTIST).to_numpy(bool)
    return s, has


# ----------------------------------------------------------------------------- sources
Source = str | os.PathLike[str] | tuple[str, bytes]
#: Called as ``progress(done, total)`` after each file is read (e.g. a web app's progress bar).
Progress = Callable[[int, int], None]


def read_sources(
    sources: Source | Iterable[Source],
    min_play_ms: int = MIN_PLAY_MS,
    progress: Progress | None = None,
) -> ParsedHistory:
    """Read files (paths, or ``(name, bytes)`` pairs as uploads arrive) into a ParsedHistory.

    Raises :class:`HistoryFormatError` for an unrecognised, corrupt or oversized file, or when
    nothing was given.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    elif isinstance(sources, tuple) and len(sources) == 2 and isinstance(sources[1], bytes):
        sources = [sources]  # one (name, bytes) upload
    sources = list(sources)
    if isinstance(min_play_ms, bool) or not isinstance(min_play_ms, (int, np.integer)):
        raise ValueError(f"min_play_ms must be a whole number of milliseconds, got {min_play_ms!r}")
    if min_play_ms < 0:
        raise ValueError(f"min_play_ms must be >= 0, got {min_play_ms}")
    budget = _Budget()
    files: list[ParsedFile] = []
    ignored: list[dict[str, str]] = []
    if not sources:
        raise HistoryFormatError("no files were given")
    for done, src in enumerate(sources, start=1):
        name, data = _load(src, budget)
        if _is_zip(data):
            got, skipped = _read_zip(name, data, budget, int(min_play_ms))
            files.extend(got)
            ignored.extend(skipped)
        else:
            files.append(parse_bytes(name, data, int(min_play_ms)))
        del data
        if progress is not None:
            progress(done, len(sources))
    return ParsedHistory(files, ignored)


class HistoryTooLargeError(HistoryFormatError):
    """A file, an archive or an import over the size limits (:data:`MAX_FILE_BYTES`,
    :data:`MAX_TOTAL_BYTES`, :data:`MAX_ZIP_MEMBERS`, :data:`MAX_COMPRESSION_RATIO`)."""


class _Budget:
    """Bytes read so far in one import, against :data:`MAX_TOTAL_BYTES`."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, name: str, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise HistoryTooLargeError(
                f"the file is {size / 2**20:.0f} MB; files over {MAX_FILE_BYTES // 2**20} MB "
                "are not read (split the export into smaller files)",
                name,
            )
        self.used += size
        if self.used > MAX_TOTAL_BYTES:
            raise HistoryTooLargeError(
                f"the files of one import add up to more than {MAX_TOTAL_BYTES // 2**20} MB; "
                "import fewer files at a time",
                name,
            )


def _load(src: str | os.PathLike[str] | tuple[str, bytes], budget: _Budget) -> tuple[str, bytes]:
    if isinstance(src, tuple):
        name, data = src
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{name}: file content must be bytes")
        budget.take(str(name), len(data))
        return str(name), bytes(data)
    path = Path(src)
    if not path.is_file():
        raise HistoryFormatError("no such file", str(path))
    budget.take(str(path), path.stat().st_size)
    return str(path), path.read_bytes()


def _is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _read_zip(
    name: str, data: bytes, budget: _Budget, min_play_ms: int
) -> tuple[list[ParsedFile], list[dict[str, str]]]:
    """Parse every member that is a history; list the others (folders inside are fine)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise HistoryFormatError(f"not a readable zip archive ({e})", name) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise HistoryTooLargeError(
            f"the archive has {len(infos):,} files; at most {MAX_ZIP_MEMBERS:,} are read", name
        )
    files: list[ParsedFile] = []
    ignored: list[dict[str, str]] = []
    for info in infos:
        member = f"{name}/{info.filename}"
        base = info.filename.rsplit("/", 1)[-1]
        if info.filename.startswith("__MACOSX/") or base.startswith("."):
            continue  # macOS resource forks and hidden files
        if info.flag_bits & 0x1:
            raise HistoryFormatError("the archive is encrypted; unzip it first", member)
        if info.file_size > MAX_FILE_BYTES or (
            info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
        ):
            raise HistoryTooLargeError(
                "the archive member decompresses to an implausible size (a zip bomb?); "
                "it was not read",
                member,
            )
        try:
            with zf.open(info) as fh:
                content = fh.read(MAX_FILE_BYTES + 1)  # never trust the header's size
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise HistoryFormatError(f"cannot be decompressed ({e})", member) from None
        budget.take(member, len(content))
        if _is_zip(content):
            ignored.append({"file": member, "reason": "a zip inside a zip is not opened"})
            continue
        try:
            files.append(parse_bytes(member, content, min_play_ms))
        except UnrecognisedFormatError as e:
            ignored.append({"file": member, "reason": e.reason})
    if not files:
        why = "; ".join(f"{i['file']}: {i['reason']}" for i in ignored[:5]) or "it is empty"
        raise UnrecognisedFormatError(
            f"no listening history found in the archive ({why}). Understood formats: "
            f"{understood_formats()}",
            name,
            reason="no listening history inside",
        )
    return files, ignored


class UnrecognisedFormatError(HistoryFormatError):
    """A file whose content is none of the understood formats."""

    def __init__(self, message: str, file: str | None = None, reason: str = "") -> None:
        self.reason = reason or message
        super().__init__(message, file)


def _unrecognised(name: str, what: str) -> UnrecognisedFormatError:
    return UnrecognisedFormatError(
        f"{what}, which is not a listening history this program understands. Understood "
        f"formats: {understood_formats()}",
        name,
        reason=what,
    )


# ----------------------------------------------------------------------------- one file
def parse_bytes(name: str, data: bytes, min_play_ms: int = MIN_PLAY_MS) -> ParsedFile:
    """Recognise and parse one file's content (not a zip)."""
    text = _decode(name, data)
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return _parse_json(name, text, min_play_ms)
    if not head:
        raise _unrecognised(name, "the file is empty")
    return _parse_delimited(name, text)


def _decode(name: str, data: bytes) -> str:
    """Text of a file: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise HistoryFormatError(f"invalid UTF-16 text at byte {e.start}", name) from None
    if data.startswith(b"%PDF"):
        raise _unrecognised(name, "the file is a PDF document")
    if b"\x00" in data[:4096]:
        raise _unrecognised(name, "the file is binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


#: JSON lists longer than this (characters) are decoded item by item (:func:`loads_json`).
JSON_ITEMWISE_CHARS = 1 << 20
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def loads_json(text: str) -> Any:
    """``json.loads(text)``, but a long JSON list is decoded one item at a time.

    One ``json.loads`` of a 13 MB Spotify file is a single C call that holds the GIL for its
    whole ~60 ms of CPU (several times that on a busy machine), so a server importing a history
    in a worker thread stops answering for that long; between items the GIL is given up. The
    result and the errors (message, line, column) are the same as ``json.loads``'s; a
    100,000-stream import costs ~0.2 s more CPU (docs/BENCHMARKS.md).
    """
    if len(text) <= JSON_ITEMWISE_CHARS:
        return json.loads(text)
    i = _JSON_SPACE.match(text).end()
    if not text.startswith("[", i):
        return json.loads(text)
    decode, space, n = _DECODER.raw_decode, _JSON_SPACE.match, len(text)
    items: list[Any] = []
    i = space(text, i + 1).end()
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            item, i = decode(text, i)
            items.append(item)
            i = space(text, i).end()
            if text.startswith(",", i):
                i = space(text, i + 1).end()
            elif text.startswith("]", i):
                i += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
    end = space(text, i).end()
    if end != n:
        raise json.JSONDecodeError("Extra data", text, end)
    return items


def _parse_json(name: str, text: str, min_play_ms: int) -> ParsedFile:
    try:
        doc = loads_json(text)
    except json.JSONDecodeError as e:
        raise HistoryFormatError(
            f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}", name
        ) from None
    if not isinstance(doc, list):
        raise _unrecognised(name, "the file is a JSON object, not a list of streams")
    if not doc:
        return ParsedFile(name, "spotify-extended", _empty_plays(), 0)
    first = doc[0]
    if not isinstance(first, dict):
        raise _unrecognised(name, "the file is a JSON list whose items are not objects")
    if "ms_played" in first and ("master_metadata_album_artist_name" in first or "ts" in first):
        return _spotify(name, doc, "spotify-extended", "master_metadata_album_artist_name",
                        "ms_played", min_play_ms)  # fmt: skip
    if "msPlayed" in first and ("artistName" in first or "endTime" in first):
        return _spotify(name, doc, "spotify-account", "artistName", "msPlayed", min_play_ms)
    keys = ", ".join(sorted(first)[:8])
    raise _unrecognised(name, f"the file is a JSON list of objects with keys {keys}")


def _spotify(
    name: str, doc: list[Any], fmt: str, artist_key: str, ms_key: str, min_play_ms: int
) -> ParsedFile:
    try:
        artists = [r.get(artist_key) for r in doc]
        ms = [r.get(ms_key) for r in doc]
    except AttributeError:
        bad = next(i for i, r in enumerate(doc) if not isinstance(r, dict))
        raise HistoryFormatError(
            f"item {bad + 1} of the list is not an object like the others", name
        ) from None
    artist, has = _clean_artists(pd.Series(artists, dtype=object))
    played = pd.to_numeric(pd.Series(ms, dtype=object), errors="coerce").to_numpy(np.float64)
    bad = has & ~np.isfinite(played)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise HistoryFormatError(f"item {i + 1} has no valid {ms_key} (got {ms[i]!r})", name)
    long_enough = played >= min_play_ms
    counted = has & long_enough
    df = pd.DataFrame({"artist": artist[counted], "plays": np.ones(int(counted.sum()), np.int64)})
    return ParsedFile(
        name,
        fmt,
        _sum_plays(df),
        rows=len(doc),
        skipped_rows=int((~has).sum()),
        short_streams=int((has & ~long_enough).sum()),
    )


def _delimiter(text: str) -> str:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "\t" in first:
        return "\t"
    if first.count(";") > first.count(","):
        return ";"
    return ","


#: Largest play count accepted in a plays table (more than a lifetime of listening).
MAX_PLAYS = 10**9


def _is_count(values: pd.Series) -> np.ndarray:
    """Mask of cells that are whole numbers 0..MAX_PLAYS ("12", "12.0", " 7 ")."""
    num = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(np.float64)
    return np.isfinite(num) & (num >= 0) & (num <= MAX_PLAYS) & (num == np.round(num))


def _parse_delimited(name: str, text: str) -> ParsedFile:
    sep = _delimiter(text)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise _unrecognised(name, "the file is empty") from None
    except pd.errors.ParserError as e:
        msg = str(e).replace("Error tokenizing data. C error: ", "")
        raise HistoryFormatError(f"not a valid CSV/TSV file: {msg}", name) from None
    table = table.fillna("")
    kind = "TSV" if sep == "\t" else "CSV"
    header = [str(c).strip().casefold() for c in table.iloc[0]]
    artist_col = next((i for i, h in enumerate(header) if h in _ARTIST_COLUMNS), None)
    if artist_col is not None:
        body = table.iloc[1:]
        plays_col = next((i for i, h in enumerate(header) if h in _PLAYS_COLUMNS), None)
        mbid_col = next((i for i, h in enumerate(header) if h in _MBID_COLUMNS), None)
        mbid = body[mbid_col] if mbid_col is not None else None
        if plays_col is not None:
            return _plays_table(name, body[artist_col], body[plays_col], mbid, first_line=2)
        return _per_play(name, "lastfm-csv", body[artist_col], mbid)
    ncols = table.shape[1]
    if ncols == 2:
        # a first row whose second cell is not a number is a header, whatever it says
        first = pd.to_numeric(table[1].iloc[:1].str.strip(), errors="coerce")
        start = 1 if pd.isna(first.iloc[0]) and len(table) > 1 else 0
        body = table.iloc[start:]
        ok = _is_count(body[1])
        if ok.mean() >= 0.5:  # a plays table; a bad row is an error that names its line
            return _plays_table(name, body[0], body[1], None, first_line=start + 1)
        bad = int(np.flatnonzero(~ok)[0])
        raise _unrecognised(
            name,
            f"a two-column {kind} whose second column is not a play count "
            f"(line {bad + start + 1}: {body[1].iloc[bad]!r})",
        )
    if ncols == 4:
        dates = table[3].str.contains(r"\d", regex=True).to_numpy(bool)
        if dates.mean() >= 0.9:
            return _per_play(name, "lastfm-headerless", table[0], None)
    raise _unrecognised(
        name,
        f"a {kind} with {ncols} column(s) and no header naming an artist column "
        f"(first line: {', '.join(header[:6])})",
    )


def _plays_table(
    name: str, artists: pd.Series, plays: pd.Series, mbid: pd.Series | None, first_line: int
) -> ParsedFile:
    artist, has = _clean_artists(artists.reset_index(drop=True))
    raw = plays.reset_index(drop=True)
    ok = _is_count(raw)
    bad = has & ~ok
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise HistoryFormatError(
            f"line {i + first_line}: the play count must be a whole number from 0 to "
            f"{MAX_PLAYS:,}, got {raw.iloc[i]!r}",
            name,
        )
    counts = pd.to_numeric(raw.str.strip(), errors="coerce").fillna(0).to_numpy(np.float64)
    keep = has & (counts > 0)
    df = pd.DataFrame({"artist": artist[keep], "plays": counts[keep].astype(np.int64)})
    if mbid is not None:
        df["mbid"] = mbid.reset_index(drop=True)[keep].str.strip().to_numpy(object)
    return ParsedFile(
        name, "plays-table", _sum_plays(df), rows=len(raw), skipped_rows=int((~has).sum())
    )


def _per_play(name: str, fmt: str, artists: pd.Series, mbid: pd.Series | None) -> ParsedFile:
    artist, has = _clean_artists(artists.reset_index(drop=True))
    df = pd.DataFrame({"artist": artist[has], "plays": np.ones(int(has.sum()), np.int64)})
    if mbid is not None:
        df["mbid"] = mbid.reset_index(drop=True)[has].str.strip().to_numpy(object)
    return ParsedFile(name, fmt, _sum_plays(df), rows=len(artist), skipped_rows=int((~has).sum()))


# ----------------------------------------------------------------------------- entries
def parse_entries(entries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Validate ``[{"name": str, "plays": int}]`` or ``[{"artist_id": int, "plays": int}]``
    (the API's JSON form) into a frame with ``artist`` (str or None), ``artist_id`` (int or
    -1) and ``plays``. Raises ValueError naming the first bad entry."""
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise ValueError("entries must be a list of {name, plays} or {artist_id, plays} objects")
    names: list[str | None] = []
    ids: list[int] = []
    plays: list[int] = []
    for i, e in enumerate(entries, start=1):
        if not isinstance(e, Mapping):
            raise ValueError(f"entry {i} must be an object with name or artist_id, and plays")
        has_name, has_id = "name" in e, "artist_id" in e
        if has_name == has_id:
            raise ValueError(f"entry {i} must have exactly one of name or artist_id")
        p = e.get("plays")
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 1 <= p <= MAX_PLAYS:
            raise ValueError(
                f"entry {i}: plays must be a whole number from 1 to {MAX_PLAYS:,}, got {p!r}"
            )
        if has_name:
            n = e["name"]
            if not isinstance(n, str) or not n.strip():
                raise ValueError(f"entry {i}: name must be a non-empty string, got {n!r}")
            names.append(n.strip())
            ids.append(-1)
        else:
            a = e["artist_id"]
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
                raise ValueError(f"entry {i}: artist_id must be an integer, got {a!r}")
            if not -(2**63) <= a < 2**63:  # beyond int64: no catalogue has such an id
                raise ValueError(f"entry {i}: unknown artist id {a}")
            names.append(None)
            ids.append(int(a))
        plays.append(int(p))
    return pd.DataFrame(
        {
            "artist": pd.Series(names, dtype=object),
            "artist_id": np.asarray(ids, dtype=np.int64),
            "plays": np.asarray(plays, dtype=np.int64),
        }
    )
