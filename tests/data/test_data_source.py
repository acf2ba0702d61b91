"""Data source order (dir > $LASTFM_DATA_DIR > cache > download) and the download path,
against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest
from hetrec_fixtures import dir_files, write_mini, zip_bytes

from artistrec.data import DownloadError, MissingDataError, load_dataset, resolve_data_dir
from artistrec.data.source import DATASET_NAME, cache_dir, download_dataset

Server = Callable[[dict[str, tuple[int, bytes, int | None]]], str]
TIMEOUT = 5.0


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache root; no $LASTFM_DATA_DIR."""
    root = tmp_path / "cache"
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(root))
    monkeypatch.delenv("LASTFM_DATA_DIR", raising=False)
    monkeypatch.delenv("ARTISTREC_DATA_URL", raising=False)
    return root


@pytest.fixture()
def mini_zip(tmp_path: Path) -> bytes:
    return zip_bytes(dir_files(write_mini(tmp_path / "zipsrc")))


def _assert_nothing_left(root: Path) -> None:
    assert not (root / DATASET_NAME).exists()
    leftovers = list(root.glob(".download-*")) if root.exists() else []
    assert leftovers == []


# ------------------------------------------------------------------------------ order
def test_cache_dir_env_overrides_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ARTISTREC_CACHE_DIR")
    assert cache_dir() == Path(platformdirs.user_cache_dir("artistrec"))


def test_explicit_dir_beats_env_beats_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = write_mini(tmp_path / "explicit")
    env = write_mini(tmp_path / "env")
    cached = write_mini(cache / DATASET_NAME)
    monkeypatch.setenv("LASTFM_DATA_DIR", str(env))
    assert resolve_data_dir(explicit, download=False) == explicit
    assert resolve_data_dir(None, download=False) == env
    monkeypatch.delenv("LASTFM_DATA_DIR")
    assert resolve_data_dir(None, download=False) == cached


def test_bad_env_dir_is_an_error_not_a_fallback(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_mini(cache / DATASET_NAME)
    monkeypatch.setenv("LASTFM_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(
        MissingDataError, match=r"typo \(given by \$LASTFM_DATA_DIR\) does not exist"
    ):
        resolve_data_dir(None, download=False)


def test_no_data_without_download_says_what_to_do(cache: Path) -> None:
    with pytest.raises(MissingDataError, match="pass --data-dir, set LASTFM_DATA_DIR"):
        resolve_data_dir(None, download=False)


def test_incomplete_cache_is_not_used(cache: Path) -> None:
    write_mini(cache / DATASET_NAME, {"user_friends.dat": None})
    with pytest.raises(MissingDataError):
        resolve_data_dir(None, download=False)


# ---------------------------------------------------------------------------- download
def test_load_downloads_into_the_cache_when_nothing_else(
    cache: Path,
    http_server: Server,
    mini_zip: bytes,
    monkeypatch: pytest.MonkeyPatch,
    mini_dir: Path,
) -> None:
    base = http_server({"/hetrec.zip": (200, mini_zip, None)})
    monkeypatch.setenv("ARTISTREC_DATA_URL", f"{base}/hetrec.zip")
    ds = load_dataset()
    assert (cache / DATASET_NAME / "artists.dat").read_bytes() == (
        mini_dir / "artists.dat"
    ).read_bytes()
    assert ds.summary() == load_dataset(mini_dir, use_cache=False).summary()
    assert list(ds.artist_names)[:2] == ["Titãs", '"Weird Al" Yankovic']
    assert list(cache.glob(".download-*")) == []
    # the next resolution finds the cache without the server
    monkeypatch.setenv("ARTISTREC_DATA_URL", f"{base}/gone.zip")
    assert resolve_data_dir(None, download=True) == cache / DATASET_NAME


def test_download_of_a_flat_zip(tmp_path: Path, http_server: Server, mini_dir: Path) -> None:
    base = http_server({"/flat.zip": (200, zip_bytes(dir_files(mini_dir), folder=""), None)})
    root = tmp_path / "root"
    path = download_dataset(f"{base}/flat.zip", root, progress=False, timeout=TIMEOUT)
    assert path == root / DATASET_NAME
    assert sorted(p.name for p in path.iterdir()) == sorted(dir_files(mini_dir))


def test_download_404(cache: Path, http_server: Server) -> None:
    base = http_server({})
    with pytest.raises(DownloadError, match=r"the server answered HTTP 404 Not Found"):
        download_dataset(f"{base}/nope.zip", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)


def test_download_truncated_body(cache: Path, http_server: Server, mini_zip: bytes) -> None:
    half = mini_zip[: len(mini_zip) // 2]
    base = http_server({"/cut.zip": (200, half, len(mini_zip))})
    with pytest.raises(
        DownloadError, match=rf"was cut short: {len(half)} of {len(mini_zip)} bytes"
    ):
        download_dataset(f"{base}/cut.zip", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)


def test_download_not_a_zip(cache: Path, http_server: Server) -> None:
    base = http_server({"/page": (200, b"<html>" + b"x" * 5000 + b"</html>", None)})
    with pytest.raises(DownloadError, match="is not a valid zip archive"):
        download_dataset(f"{base}/page", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)


def test_download_tiny_body(cache: Path, http_server: Server) -> None:
    base = http_server({"/tiny": (200, b"oops", None)})
    with pytest.raises(DownloadError, match="is only 4 bytes: not a zip archive"):
        download_dataset(f"{base}/tiny", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)


def test_download_zip_missing_a_file(cache: Path, http_server: Server, mini_dir: Path) -> None:
    files = dir_files(mini_dir)
    del files["user_friends.dat"]
    base = http_server({"/part.zip": (200, zip_bytes(files), None)})
    with pytest.raises(DownloadError, match=r"lacks required file\(s\): user_friends\.dat$"):
        download_dataset(f"{base}/part.zip", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)


def test_download_refuses_unsafe_paths(cache: Path, http_server: Server, mini_dir: Path) -> None:
    files = {**dir_files(mini_dir), "../evil.txt": b"x" * 2000}
    base = http_server({"/evil.zip": (200, zip_bytes(files, folder=""), None)})
    with pytest.raises(DownloadError, match=r"refusing unsafe path in zip .*\.\./evil\.txt"):
        download_dataset(f"{base}/evil.zip", progress=False, timeout=TIMEOUT)
    _assert_nothing_left(cache)
    assert not (cache.parent / "evil.txt").exists()


def test_offline_error_says_how_to_use_a_local_copy(cache: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError) as err:
        download_dataset(f"http://127.0.0.1:{port}/x.zip", progress=False, timeout=TIMEOUT)
    msg = str(err.value)
    assert f"could not download the data set from http://127.0.0.1:{port}/x.zip" in msg
    assert "point at a local copy" in msg and "--data-dir" in msg and "LASTFM_DATA_DIR=" in msg
    _assert_nothing_left(cache)


def test_load_dataset_offline_fails_with_download_error(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ARTISTREC_DATA_URL", f"http://127.0.0.1:{port}/x.zip")
    with pytest.raises(DownloadError, match="point at a local copy"):
        load_dataset()


def test_stalled_server_times_out(cache: Path) -> None:
    """A server that accepts the connection but never answers: bounded by ``timeout``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # the kernel completes the handshake; nobody ever answers
        port = s.getsockname()[1]
        with pytest.raises(DownloadError, match="timed out"):
            download_dataset(f"http://127.0.0.1:{port}/x.zip", progress=False, timeout=0.5)
    _assert_nothing_left(cache)
