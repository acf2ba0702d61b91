"""Fixtures for the model tests: every registered model fitted once, a warm hold-out split, NDCG.

A test that takes a ``model_name`` argument runs once per registered model
(``artistrec.models.registered_models()``, the one list of them), so a newly registered family is
held to the same checks without touching any test file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from model_extras import MODEL_NAMES, TRAINABLE, missing_extras  # tests/models is on sys.path

import artistrec
from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate
from artistrec.models.base import Recommender


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every ``model_name`` argument over the registered models; a model whose
    optional extra (e.g. PyTorch for two-tower) is not installed is skipped with the reason."""
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize(
            "model_name",
            [
                pytest.param(name, marks=pytest.mark.skipif(bool(why), reason=why or ""))
                for name in MODEL_NAMES
                for why in [missing_extras(name)]
            ],
        )


def warm_holdout(
    x: sp.spmatrix, seed: int, frac: float = 0.2
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per user, a random ``frac`` of their artists (at least 1, never all) held out."""
    x = sp.csr_matrix(x)
    rng = np.random.default_rng(seed)
    n = np.diff(x.indptr)
    rows = np.repeat(np.arange(x.shape[0]), n)
    order = np.lexsort((rng.random(x.nnz), rows))
    k = np.where(n >= 2, np.clip(np.round(frac * n), 1, n - 1), 0).astype(np.int64)
    rank = np.empty(x.nnz, np.int64)
    rank[order] = np.arange(x.nnz) - x.indptr[rows[order]]
    test = rank < k[rows]
    coo = x.tocoo()

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=x.shape)

    return part(~test), part(test)


def ndcg_at_10(items: np.ndarray, test: sp.spmatrix) -> float:
    """Mean binary-relevance NDCG@10 of (n_users, 10) recommendations over users with test items."""
    test = sp.csr_matrix(test)
    has = np.diff(test.indptr) > 0
    rel = np.asarray(test[np.arange(test.shape[0])[:, None], items].todense()) > 0
    disc = 1.0 / np.log2(np.arange(2, 12))
    dcg = (rel * disc).sum(axis=1)
    idcg = np.cumsum(disc)[np.minimum(np.diff(test.indptr), 10) - 1]
    return float((dcg[has] / idcg[has]).mean())


def warm_ndcg(model: Recommender, ds: Dataset, seed: int = 0) -> float:
    """Fit ``model`` on a warm 80% split of ``ds`` and return NDCG@10 on the held-out 20%."""
    train, test = warm_holdout(ds.interactions, seed)
    model.fit(ds.with_interactions(train))
    items, _ = model.recommend(np.arange(ds.n_users), k=10, exclude_seen=True)
    return ndcg_at_10(items, test)


@pytest.fixture(scope="session")
def fitted_models(synthetic_ds: Dataset) -> dict[str, Recommender]:
    """Each registered model this environment can train (``TRAINABLE``), with its default
    parameters, fitted once on ``synthetic_ds``."""
    return {name: artistrec.create_model(name).fit(synthetic_ds) for name in TRAINABLE}


@pytest.fixture(scope="session")
def other_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A second small synthetic data set (different fingerprint)."""
    path: Path = generate(tmp_path_factory.mktemp("synthetic_other"), SyntheticSpec(seed=1))
    return load_dataset(path, use_cache=False)


def clustered_interactions(
    n_users: int, n_items: int, n_clusters: int = 10, per_user: int = 20, seed: int = 0
) -> sp.csr_matrix:
    """Listen counts where taste, not popularity, decides: each user listens only inside one
    cluster of artists (Zipf-skewed within the cluster, all clusters equally popular)."""
    rng = np.random.default_rng(seed)
    user_cluster = np.arange(n_users) % n_clusters
    item_cluster = np.arange(n_items) % n_clusters
    within_rank = np.arange(n_items) // n_clusters
    weight = 1.0 / (within_rank + 1.0) ** 0.8
    # weighted sampling without replacement (Efraimidis-Spirakis keys), all users at once
    keys = rng.random((n_users, n_items)) ** (1.0 / weight)[None, :]
    keys[user_cluster[:, None] != item_cluster[None, :]] = -1.0
    cols = np.argpartition(-keys, per_user - 1, axis=1)[:, :per_user]
    rows = np.repeat(np.arange(n_users), per_user)
    counts = np.maximum(1.0, np.round(np.exp(rng.normal(5.5, 1.8, size=rows.size))))
    return sp.csr_matrix(
        (counts.astype(np.float32), (rows, cols.ravel())), shape=(n_users, n_items)
    )


@pytest.fixture(scope="session")
def clustered_ds(synthetic_ds: Dataset) -> Dataset:
    """``synthetic_ds`` with its listens replaced by :func:`clustered_interactions`.

    The generator's own data is dominated by global popularity (a Zipf catalogue), on which
    popularity is a hard baseline; here a model must learn who likes what to beat it.
    """
    x = clustered_interactions(synthetic_ds.n_users, synthetic_ds.n_artists)
    return synthetic_ds.with_interactions(x)


@pytest.fixture(scope="session")
def synthetic_warm_ndcg(clustered_ds: Dataset) -> Callable[[str], float]:
    """NDCG@10 of a model (by name, default parameters) on a warm split of ``clustered_ds``."""
    cache: dict[str, float] = {}

    def run(name: str) -> float:
        if name not in cache:
            cache[name] = warm_ndcg(artistrec.create_model(name), clustered_ds, seed=0)
        return cache[name]

    return run


@pytest.fixture(scope="session")
def warm_eval() -> Callable[[Recommender, Dataset, int], float]:
    """The warm hold-out evaluation as a function (fit on 80% per user, NDCG@10 on the rest)."""
    return warm_ndcg
