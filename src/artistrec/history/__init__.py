"""Listening-history import: Spotify / Last.fm exports and play tables -> rated catalogue artists.

``formats`` recognises and parses files (by content); ``importer`` sums plays, matches artists
with the shared name matcher and turns plays into levels. Interfaces call
``HistoryImporter.from_files`` / ``from_entries`` and show ``HistoryImport.to_dict()``.
"""

from artistrec.history.formats import (
    FORMATS,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    MIN_PLAY_MS,
    HistoryFormatError,
    HistoryTooLargeError,
    ParsedFile,
    ParsedHistory,
    UnrecognisedFormatError,
    parse_bytes,
    parse_entries,
    read_sources,
    understood_formats,
)
from artistrec.history.importer import (
    CONFIDENT_SCORE,
    CONFIRM_SCORE,
    EmptyHistoryError,
    HistoryImport,
    HistoryImporter,
    RatedArtist,
)

__all__ = [
    "CONFIDENT_SCORE",
    "CONFIRM_SCORE",
    "FORMATS",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "MIN_PLAY_MS",
    "EmptyHistoryError",
    "HistoryFormatError",
    "HistoryImport",
    "HistoryImporter",
    "HistoryTooLargeError",
    "ParsedFile",
    "ParsedHistory",
    "RatedArtist",
    "UnrecognisedFormatError",
    "parse_bytes",
    "parse_entries",
    "read_sources",
    "understood_formats",
]
