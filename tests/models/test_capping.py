"""Size-aware artist caps (artistrec.models.capping): every model with a ``max_artists``
parameter fits on at most that many artists, stays within the memory that implies, ignores
ratings beyond the cap in the fold-in and maps its scores back to the full catalogue."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import artistrec
from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate
from artistrec.models import registered_models
from artistrec.models.capping import (
    DEFAULT_MAX_ARTISTS,
    capped_artists,
    dense_bytes,
    max_dense_artists,
    positions,
)
from artistrec.models.registry import model_class
from artistrec.models.weighting import listener_counts

#: registered models with a ``max_artists`` parameter (the ones whose cost grows with artists²)
CAPPED = [n for n in registered_models() if "max_artists" in model_class(n).param_specs()]

CAP = 40


def test_the_artists_squared_models_are_capped() -> None:
    assert {"ease", "dlae", "set-autoencoder"} <= set(CAPPED)


def test_budget_gives_the_default_cap() -> None:
    assert max_dense_artists(2 * 1024**3, 4) == 11_585 == DEFAULT_MAX_ARTISTS
    assert dense_bytes(DEFAULT_MAX_ARTISTS) <= 2 * 1024**3 < dense_bytes(DEFAULT_MAX_ARTISTS + 1)
    with pytest.raises(ValueError):
        max_dense_artists(0)


def test_capped_artists_keeps_the_most_listened() -> None:
    listeners = np.array([5, 1, 9, 5, 0, 7, 5, 2])
    np.testing.assert_array_equal(capped_artists(listeners, 2, 100), [0, 2, 3, 5, 6, 7])
    # the 4 most listened with >= 2 listeners; the tie at 5 goes to the lower indices
    np.testing.assert_array_equal(capped_artists(listeners, 2, 4), [0, 2, 3, 5])
    assert capped_artists(listeners, 2, 0).size == 0
    with pytest.raises(ValueError):
        capped_artists(listeners, 1, -1)
    np.testing.assert_array_equal(positions(np.array([2, 5]), 7), [-1, -1, 0, -1, -1, 1, -1])


@pytest.fixture(scope="module")
def wide_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Many artists with several listeners, so an uncapped dense model would be large."""
    path: Path = generate(
        tmp_path_factory.mktemp("wide"),
        SyntheticSpec(n_users=600, n_artists=2500, mean_per_user=40.0, popularity_exponent=0.5),
    )
    return load_dataset(path, use_cache=False)


@pytest.mark.parametrize("name", CAPPED)
def test_fit_beyond_the_cap_stays_within_it(name: str, wide_ds: Dataset, tmp_path: Path) -> None:
    listeners = listener_counts(wide_ds.interactions)
    model = artistrec.create_model(name, max_artists=CAP)
    eligible = np.flatnonzero(listeners >= model.min_listeners)
    assert eligible.size > 20 * CAP, "the data must ask for far more artists than the cap"
    uncapped_bytes = dense_bytes(eligible.size, matrices=1)  # one dense matrix over them

    tracemalloc.start()
    try:
        model.fit(wide_ds)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # every allocation of the fit (numpy's are traced) stays far below ONE uncapped matrix
    assert peak < uncapped_bytes / 4, (peak, uncapped_bytes)

    items = model.items_
    assert items.size == CAP
    np.testing.assert_array_equal(items, capped_artists(listeners, model.min_listeners, CAP))
    for value in model._state().values():  # no learned array spans the full catalogue twice
        shape = getattr(value, "shape", ())
        assert not (len(shape) == 2 and shape[0] * shape[1] > CAP * wide_ds.n_artists)

    # scores come back over the full catalogue; the top picks are capped artists
    inside = np.zeros(wide_ds.n_artists, bool)
    inside[items] = True
    top, _ = model.recommend(np.arange(30), k=3)
    assert top.shape == (30, 3) and inside[top].mean() > 0.95
    assert model.score_users([0]).shape == (1, wide_ds.n_artists)

    # the fold-in ignores ratings of artists beyond the cap
    outside = np.flatnonzero(~inside & (listeners > 0))[:5]
    rated = {int(items[0]): 4, int(items[3]): 2}
    both = {**rated, **{int(a): 5 for a in outside}}
    np.testing.assert_allclose(model.score_new_user(both), model.score_new_user(rated), rtol=1e-6)
    new_top, _ = model.recommend_new_user(both, k=5)
    assert inside[new_top].all()

    # and it round-trips through an artifact
    path = model.save(tmp_path / f"{name}.npz")
    loaded = artistrec.load_model(path)
    np.testing.assert_array_equal(loaded.recommend(np.arange(5), k=3)[0], top[:5])


@pytest.mark.parametrize("name", ["ease", "dlae"])
def test_cap_above_the_eligible_artists_changes_nothing(name: str, wide_ds: Dataset) -> None:
    a = artistrec.create_model(name).fit(wide_ds)
    b = artistrec.create_model(name, max_artists=10 * wide_ds.n_artists).fit(wide_ds)
    np.testing.assert_array_equal(a.items_, b.items_)
    np.testing.assert_array_equal(a.weights_, b.weights_)


def test_topk_product_by_blocks_equals_the_whole_product() -> None:
    """item-kNN / RP3beta compute their artist x artist matrices by blocks of rows: the same
    matrix as pruning the whole product, whatever the block size."""
    import scipy.sparse as sp

    from artistrec.models.sparse import product_blocks, prune_rows, topk_product

    rng = np.random.default_rng(3)
    x = sp.random(300, 120, density=0.08, random_state=4, dtype=np.float32, format="csr")
    x.data = rng.integers(1, 4, x.nnz).astype(np.float32)  # integer values: ties to break
    xt = x.T.tocsr()

    def no_diag(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.where(r == c, 0.0, v / (1.0 + c))

    whole = (xt @ x).tocoo()
    expected = sp.csr_matrix(
        (no_diag(whole.row, whole.col, whole.data), (whole.row, whole.col)), shape=whole.shape
    )
    expected = prune_rows(expected, 7)
    for budget in (1, 500, 10**9):  # one row per block, a few blocks, one block
        got = topk_product(xt, x, 7, no_diag, max_products=budget)
        assert (got != expected).nnz == 0 and got.nnz == expected.nnz
        np.testing.assert_array_equal(got.indptr, expected.indptr)
    assert len(product_blocks(xt, x, 1)) == 120
    assert len(product_blocks(xt, x, 10**9)) == 1


def test_packed_sort_is_the_two_key_lexsort() -> None:
    """prune_rows sorts by (row, value descending) with one packed-key sort: the same stable
    order as ``np.lexsort((-values, rows))``, negative values and ties included."""
    from artistrec.models.sparse import _row_value_desc_order

    rng = np.random.default_rng(5)
    rows = np.sort(rng.integers(0, 50, 20_000))
    values = (rng.random(rows.size) - 0.3).astype(np.float32)
    values[::5] = values[1::5][: values[::5].size]  # ties
    values[::11] = 0.0
    np.testing.assert_array_equal(_row_value_desc_order(rows, values), np.lexsort((-values, rows)))
