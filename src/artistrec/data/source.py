"""Where the data comes from: explicit directory, ``$LASTFM_DATA_DIR``, the user cache, or a download.

The download fetches GroupLens' ``hetrec2011-lastfm-2k.zip`` with a progress bar, checks its
size, and extracts it atomically (temp dir + rename), so an interrupted download never leaves a
half-written data directory behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import platformdirs
from tqdm.auto import tqdm

from artistrec.data.errors import DownloadError, MissingDataError
from artistrec.data.loader import REQUIRED_FILES

DATASET_NAME = "hetrec2011-lastfm-2k"
DEFAULT_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
ENV_DATA_DIR = "LASTFM_DATA_DIR"
ENV_CACHE_DIR = "ARTISTREC_CACHE_DIR"
ENV_URL = "ARTISTREC_DATA_URL"
#: The GroupLens zip is about 2.5 MB; anything far smaller is not the data set.
MIN_ZIP_BYTES = 1_000


def cache_dir() -> Path:
    """The user cache directory (``$ARTISTREC_CACHE_DIR`` overrides platformdirs)."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env) if env else Path(platformdirs.user_cache_dir("artistrec"))


def is_complete(path: Path) -> bool:
    """Whether ``path`` holds every required HetRec file."""
    return all((Path(path) / n).is_file() for n in REQUIRED_FILES)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Find the data: ``data_dir`` -> ``$LASTFM_DATA_DIR`` -> cache -> download (if allowed)."""
    if data_dir is not None:
        return _checked(Path(data_dir), "the data_dir argument")
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return _checked(Path(env), f"${ENV_DATA_DIR}")
    cached = cache_dir() / DATASET_NAME
    if is_complete(cached):
        return cached
    if not download:
        raise MissingDataError(
            f"no data found: pass --data-dir, set {ENV_DATA_DIR}, or run `artistrec data download`"
        )
    return download_dataset()


def _checked(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise MissingDataError(f"data directory from {origin} does not exist: {path}")
    missing = [n for n in REQUIRED_FILES if not (path / n).is_file()]
    if missing:
        raise MissingDataError(f"data directory from {origin} ({path}) lacks: {', '.join(missing)}")
    return path


def download_dataset(
    url: str | None = None, dest_root: Path | None = None, progress: bool = True
) -> Path:
    """Download and extract the data set into the cache; returns the data directory."""
    url = url or os.environ.get(ENV_URL) or DEFAULT_URL
    root = Path(dest_root) if dest_root is not None else cache_dir()
    target = root / DATASET_NAME
    if is_complete(target):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        zpath = Path(tmp) / "data.zip"
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - fixed https URL
                total = int(resp.headers.get("Content-Length") or 0)
                got = 0
                with (
                    open(zpath, "wb") as fh,
                    tqdm(
                        total=total or None,
                        unit="B",
                        unit_scale=True,
                        desc="download",
                        disable=not progress,
                    ) as bar,
                ):
                    while chunk := resp.read(1 << 16):
                        fh.write(chunk)
                        got += len(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DownloadError(
                f"could not download the data set from {url}: {exc}. Without internet access, "
                f"point at a local copy with --data-dir or {ENV_DATA_DIR}=/path/to/{DATASET_NAME}"
            ) from exc
        if total and got != total:
            raise DownloadError(f"download from {url} was cut short: {got} of {total} bytes")
        if got < MIN_ZIP_BYTES:
            raise DownloadError(f"download from {url} is only {got} bytes: not the data set")
        extract = Path(tmp) / "extract"
        try:
            with zipfile.ZipFile(zpath) as zf:
                for member in zf.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise DownloadError(f"refusing unsafe path in zip: {member}")
                zf.extractall(extract)
        except zipfile.BadZipFile as exc:
            raise DownloadError(
                f"the file downloaded from {url} is not a valid zip: {exc}"
            ) from exc
        found = [p.parent for p in extract.rglob("user_artists.dat")]
        if not found or not is_complete(found[0]):
            raise DownloadError(
                f"the zip from {url} does not contain all of {', '.join(REQUIRED_FILES)}"
            )
        if target.exists():  # an incomplete leftover from elsewhere
            shutil.rmtree(target)
        os.replace(found[0], target)
    return target
