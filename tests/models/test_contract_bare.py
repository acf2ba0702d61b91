"""The model contract of ``test_contract.py``, for every registered model, again on data WITHOUT
tags or friends: small synthetic sets in the Last.fm-360K format (what Last.fm-360K and people's
own logs give). The tests are the same functions; this module only swaps the data fixtures they
ask for (separate session fixtures, so nothing fitted on the tagged set is reused here).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from test_contract import *  # noqa: F403  (the contract's tests, collected here once more)

import artistrec
from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate
from artistrec.models import registered_models
from artistrec.models.base import Recommender

# the helpers of this folder's conftest (loaded by path: two conftest modules share that name)
_spec = importlib.util.spec_from_file_location(
    "_models_conftest_helpers", Path(__file__).with_name("conftest.py")
)
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def _bare(path: Path, seed: int) -> Dataset:
    # no artist written both with and without an MBID: those split into two artists (the
    # loader tests cover that quirk), which would make this a different, noisier data set
    # rather than the same listens without tags and friends
    spec = SyntheticSpec(seed=seed, mixed_mbid_share=0.0)
    ds = load_dataset(generate(path, spec, format="lastfm360k"), use_cache=False)
    assert not ds.has_tags and not ds.has_friends
    assert ds.artist_tags.nnz == 0 and ds.friends.nnz == 0
    return ds


@pytest.fixture(scope="session")
def synthetic_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """200 users x 500 artists in the Last.fm-360K format: no tags, no friends."""
    return _bare(tmp_path_factory.mktemp("bare"), seed=0)


@pytest.fixture(scope="session")
def other_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return _bare(tmp_path_factory.mktemp("bare_other"), seed=1)


@pytest.fixture(scope="session")
def fitted_models(synthetic_ds: Dataset) -> dict[str, Recommender]:
    return {name: artistrec.create_model(name).fit(synthetic_ds) for name in registered_models()}


@pytest.fixture(scope="session")
def clustered_ds(synthetic_ds: Dataset) -> Dataset:
    x = _helpers.clustered_interactions(synthetic_ds.n_users, synthetic_ds.n_artists)
    return synthetic_ds.with_interactions(x)


@pytest.fixture(scope="session")
def synthetic_warm_ndcg(clustered_ds: Dataset) -> Callable[[str], float]:
    cache: dict[str, float] = {}

    def run(name: str) -> float:
        if name not in cache:
            model = artistrec.create_model(name)
            cache[name] = _helpers.warm_ndcg(model, clustered_ds, seed=0)
        return cache[name]

    return run
