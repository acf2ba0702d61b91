"""Data layer: load, validate, cache and download listening data.

Formats: HetRec 2011 Last.fm (the default, downloaded on first use), Last.fm-360K, and a
generic ``interactions.csv`` / ``.parquet`` log (:mod:`artistrec.data.formats`).
"""

from __future__ import annotations

import os
from pathlib import Path

from artistrec.data.cache import load_parsed, save_parsed
from artistrec.data.dataset import Dataset, IdMap, UnknownIdError
from artistrec.data.errors import DataError, DownloadError, MissingDataError
from artistrec.data.fingerprint import fingerprint_of
from artistrec.data.formats import FORMATS, detect_format, file_hashes, read_raw
from artistrec.data.scale import from_levels, to_levels
from artistrec.data.source import cache_dir, download_dataset, resolve_data_dir

__all__ = [
    "DataError",
    "Dataset",
    "DownloadError",
    "FORMATS",
    "IdMap",
    "MissingDataError",
    "UnknownIdError",
    "detect_format",
    "download_dataset",
    "from_levels",
    "load_dataset",
    "resolve_data_dir",
    "to_levels",
]


def load_dataset(
    data_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True, download: bool = True
) -> Dataset:
    """Load the data set: explicit ``data_dir`` -> ``$LASTFM_DATA_DIR`` -> cache -> download.

    The directory may hold HetRec 2011, Last.fm-360K or a generic interactions log (see
    :mod:`artistrec.data.formats`). The first load parses and validates the files and caches
    a binary copy keyed by the files' hashes; later loads of the same files read that copy
    (large files are not re-hashed while their size, mtime and sampled blocks are unchanged:
    :mod:`artistrec.data.fingerprint`).
    """
    path = resolve_data_dir(data_dir, download=download)
    hashes = file_hashes(path, _hash_index())
    fp = fingerprint_of(hashes)
    cache_file = cache_dir() / "parsed" / f"{fp}.npz"
    if use_cache:
        ds = load_parsed(cache_file, fp)
        if ds is not None:
            return ds
    ds = Dataset.from_raw(read_raw(path, hashes))
    if use_cache:
        try:
            save_parsed(ds, cache_file)
        except OSError:
            pass  # a read-only cache only costs speed
    return ds


def _hash_index() -> Path:
    """The index of large files' hashes (next to the parsed caches)."""
    return cache_dir() / "parsed" / "file-hashes.json"


def parsed_cache_path(data_dir: Path) -> Path:
    """Where the binary cache of the data in ``data_dir`` lives."""
    fp = fingerprint_of(file_hashes(data_dir, _hash_index()))
    return cache_dir() / "parsed" / f"{fp}.npz"
