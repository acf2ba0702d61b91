"""Shared fixtures: small synthetic data written by the tests, and the real data when available."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate

REAL_DATA = os.environ.get("LASTFM_DATA_DIR")


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test session gets its own parsed-data cache, never the user's."""
    if "ARTISTREC_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic data set on disk (200 users, 500 artists)."""
    return generate(tmp_path_factory.mktemp("synthetic"), SyntheticSpec(seed=0))


@pytest.fixture(scope="session")
def synthetic_ds(synthetic_dir: Path) -> Dataset:
    """The small synthetic data set, loaded."""
    return load_dataset(synthetic_dir, use_cache=False)


@pytest.fixture(scope="session")
def real_ds() -> Dataset:
    """The real HetRec data from $LASTFM_DATA_DIR (integration tests skip without it)."""
    if not REAL_DATA or not Path(REAL_DATA).is_dir():
        pytest.skip("LASTFM_DATA_DIR is not set to the real data set")
    return load_dataset(REAL_DATA)
