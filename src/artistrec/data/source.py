"""Where the data comes from: explicit directory, ``$LASTFM_DATA_DIR``, the user cache, or a download.

The download fetches GroupLens' ``hetrec2011-lastfm-2k.zip`` with a progress bar, checks its
size, and extracts it atomically (temp dir + rename), so an interrupted download never leaves a
half-written data directory behind.
"""

from __future__ import annotations

import http.client
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
from artistrec.data.formats import detect_format
from artistrec.data.loader import REQUIRED_FILES

DATASET_NAME = "hetrec2011-lastfm-2k"
DEFAULT_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
ENV_DATA_DIR = "LASTFM_DATA_DIR"
ENV_CACHE_DIR = "ARTISTREC_CACHE_DIR"
ENV_URL = "ARTISTREC_DATA_URL"
#: The smallest possible zip archive (an empty one) is 22 bytes; anything shorter is not a zip.
MIN_ZIP_BYTES = 22


def cache_dir() -> Path:
    """The user cache directory (``$ARTISTREC_CACHE_DIR`` overrides platformdirs)."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env) if env else Path(platformdirs.user_cache_dir("artistrec"))


def is_complete(path: Path) -> bool:
    """Whether ``path`` holds every required HetRec file."""
    return all((Path(path) / n).is_file() for n in REQUIRED_FILES)


def resolve_data_dir(
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    origin: str = "--data-dir / data_dir",
) -> Path:
    """Find the data: ``data_dir`` -> ``$LASTFM_DATA_DIR`` -> cache -> download (if allowed).

    ``data_dir`` and ``$LASTFM_DATA_DIR`` may hold any format :mod:`artistrec.data.formats`
    recognises; the cache and the download hold HetRec 2011. ``origin`` names where
    ``data_dir`` came from in error messages.
    """
    if data_dir is not None:
        return _checked(Path(data_dir), origin)
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
    """``path`` when it holds a data set of a known format; else a precise error."""
    detect_format(path, origin)
    return path


def download_dataset(
    url: str | None = None,
    dest_root: Path | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download and extract the data set into the cache; returns the data directory.

    ``url`` defaults to ``$ARTISTREC_DATA_URL``, else GroupLens. ``timeout`` bounds each network
    wait (connect and every read). Any failure raises :class:`DownloadError` and leaves nothing
    behind in the cache but what was there before.
    """
    url = url or os.environ.get(ENV_URL) or DEFAULT_URL
    root = Path(dest_root) if dest_root is not None else cache_dir()
    target = root / DATASET_NAME
    if is_complete(target):
        return target
    offline_hint = (
        f"Without internet access, point at a local copy of {DATASET_NAME} with --data-dir "
        f"or {ENV_DATA_DIR}=/path/to/{DATASET_NAME}"
    )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache directory {root}: {exc}") from exc
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        zpath = Path(tmp) / "data.zip"
        total = got = 0
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
                try:
                    total = int(resp.headers.get("Content-Length") or 0)
                except ValueError:
                    total = 0
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
        except urllib.error.HTTPError as exc:
            raise DownloadError(
                f"could not download the data set from {url}: the server answered HTTP "
                f"{exc.code} {exc.reason}. {offline_hint}"
            ) from exc
        except http.client.IncompleteRead as exc:
            raise DownloadError(
                f"download from {url} was cut short: {got + len(exc.partial)} of "
                f"{total or '?'} bytes received"
            ) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"could not download the data set from {url}: {reason}. {offline_hint}"
            ) from exc
        if total and got != total:
            raise DownloadError(f"download from {url} was cut short: {got} of {total} bytes")
        if got < MIN_ZIP_BYTES:
            raise DownloadError(f"download from {url} is only {got} bytes: not a zip archive")
        extract = Path(tmp) / "extract"
        try:
            with zipfile.ZipFile(zpath) as zf:
                for member in zf.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise DownloadError(f"refusing unsafe path in zip from {url}: {member}")
                zf.extractall(extract)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise DownloadError(
                f"the file downloaded from {url} is not a valid zip archive: {exc}"
            ) from exc
        found = sorted(p.parent for p in extract.rglob("user_artists.dat"))
        base = found[0] if found else extract
        missing = [n for n in REQUIRED_FILES if not (base / n).is_file()]
        if missing:
            raise DownloadError(f"the zip from {url} lacks required file(s): {', '.join(missing)}")
        if target.exists():  # an incomplete leftover from elsewhere
            shutil.rmtree(target)
        try:
            os.replace(base, target)
        except OSError:
            if not is_complete(target):  # another process may have won the race
                raise
    return target
