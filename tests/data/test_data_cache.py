"""The parsed binary cache: equal to a fresh parse, keyed by the files, self-healing."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hetrec_fixtures import MINI, write_mini

import artistrec.data as data_mod
from artistrec.data import Dataset, load_dataset
from artistrec.data.cache import load_parsed
from artistrec.data.synthetic import SyntheticSpec, generate


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(root))
    return root


def assert_same(a: Dataset, b: Dataset) -> None:
    for m in ("interactions", "friends", "artist_tags"):
        x, y = getattr(a, m), getattr(b, m)
        assert x.shape == y.shape and x.dtype == y.dtype == np.float32
        assert (x != y).nnz == 0
    np.testing.assert_array_equal(a.user_ids, b.user_ids)
    np.testing.assert_array_equal(a.artist_ids, b.artist_ids)
    np.testing.assert_array_equal(a.tag_ids, b.tag_ids)
    assert a.artist_names.tolist() == b.artist_names.tolist()
    assert a.tag_names.tolist() == b.tag_names.tolist()
    pd.testing.assert_frame_equal(a.artists, b.artists)
    pd.testing.assert_frame_equal(a.tag_assignments, b.tag_assignments)
    assert a.findings == b.findings
    assert a.fingerprint == b.fingerprint


def _forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text files were parsed although the cache is valid")

    monkeypatch.setattr(data_mod, "read_raw", boom)


def test_second_load_comes_from_the_cache_and_is_equal(
    cache: Path, mini_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset(mini_dir)
    cache_file = data_mod.parsed_cache_path(mini_dir)
    assert cache_file.is_file() and cache_file.parent.parent == cache
    _forbid_parsing(monkeypatch)
    second = load_dataset(mini_dir)
    assert_same(first, second)
    assert second.artist_names.tolist()[:2] == ["Titãs", '"Weird Al" Yankovic']
    assert second.tag_assignments["date"].dt.year.min() == 1956
    assert len(second.findings) == 2


def test_cache_round_trips_a_generated_set(cache: Path, tmp_path: Path) -> None:
    d = generate(
        tmp_path / "gen", SyntheticSpec(n_users=60, n_artists=150, old_tag_dates=2, seed=5)
    )
    fresh = load_dataset(d, use_cache=False)
    load_dataset(d)
    assert_same(fresh, load_dataset(d))


def test_use_cache_false_neither_reads_nor_writes(cache: Path, mini_dir: Path) -> None:
    load_dataset(mini_dir, use_cache=False)
    assert not data_mod.parsed_cache_path(mini_dir).exists()


def test_changed_files_are_parsed_again(cache: Path, tmp_path: Path) -> None:
    d = write_mini(tmp_path / "d")
    old = load_dataset(d)
    old_file = data_mod.parsed_cache_path(d)
    write_mini(d, {"user_artists.dat": MINI["user_artists.dat"].replace("2\t1\t500", "2\t1\t777")})
    new = load_dataset(d)
    assert old.interactions[0, 0] == 500 and new.interactions[0, 0] == 777
    assert new.fingerprint != old.fingerprint
    assert data_mod.parsed_cache_path(d) != old_file and data_mod.parsed_cache_path(d).is_file()


def test_stale_cache_under_the_current_name_is_ignored(cache: Path, tmp_path: Path) -> None:
    """A cache file whose stored fingerprint differs (e.g. copied by hand) is not trusted."""
    a = write_mini(tmp_path / "a")
    b = write_mini(tmp_path / "b", {"tags.dat": MINI["tags.dat"].replace("rock", "pop")})
    load_dataset(a)
    target = data_mod.parsed_cache_path(b)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data_mod.parsed_cache_path(a).read_bytes())
    assert load_parsed(target, load_dataset(b, use_cache=False).fingerprint) is None
    assert load_dataset(b).tag_names.tolist()[0] == "pop"


def _corrupt_garbage(path: Path) -> None:
    path.write_bytes(b"this is not an npz file at all")


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _corrupt_member(path: Path) -> None:
    """A valid zip whose arrays are wrong (an entry missing)."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "artist_name.npy"}
    with zipfile.ZipFile(path, "w") as zf:
        for n, blob in members.items():
            zf.writestr(n, blob)


@pytest.mark.parametrize("corrupt", [_corrupt_garbage, _corrupt_truncate, _corrupt_member])
def test_corrupt_cache_is_ignored_and_rebuilt(
    cache: Path, mini_dir: Path, corrupt: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset(mini_dir)
    path = data_mod.parsed_cache_path(mini_dir)
    corrupt(path)  # type: ignore[operator]
    with pytest.warns(UserWarning, match="ignoring unreadable data cache"):
        again = load_dataset(mini_dir)
    assert_same(first, again)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_parsed(path, first.fingerprint) is not None  # rebuilt
    _forbid_parsing(monkeypatch)
    assert_same(first, load_dataset(mini_dir))


def test_read_only_cache_only_costs_speed(
    tmp_path: Path, mini_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(blocker / "cache"))
    assert load_dataset(mini_dir).n_users == 3


@pytest.mark.integration
def test_real_cache_is_equal_and_used(
    cache: Path, monkeypatch: pytest.MonkeyPatch, real_ds: Dataset
) -> None:
    """The second load of the real data comes from the binary cache, not the text files."""
    import os

    import artistrec.data as data_pkg

    real = Path(os.environ["LASTFM_DATA_DIR"])
    parsed = load_dataset(real)  # parses and writes this test's empty cache

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text files were parsed again despite a valid cache")

    monkeypatch.setattr(data_pkg, "read_raw", no_parse)
    cached = load_dataset(real)
    assert_same(parsed, cached)
    assert cached.artist_names[cached.artist_map.index([725])[0]] == "Titãs"
