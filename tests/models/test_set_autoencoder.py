"""The set autoencoder (models/set_autoencoder.py): the training draw, the gradients, learning."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.data import Dataset
from artistrec.models import set_autoencoder as sa
from artistrec.models.hybrid import Hybrid


def _rows(n_users: int = 60, n_items: int = 40, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    X = sp.random(n_users, n_items, density=0.3, random_state=rng, format="csr", dtype=np.float32)
    X.data = rng.choice(np.array([0.5, 1.0, 1.5, 2.0], np.float32), X.nnz)
    return X


def test_reveal_draw_splits_each_row_into_unit_inputs_and_a_target_distribution() -> None:
    X = _rows()
    inputs, targets = sa.sample_reveal(X, np.random.default_rng(1), 3, 10)
    n = np.diff(X.indptr)
    k = np.diff(inputs.indptr)
    assert np.all(k == np.clip(k, np.minimum(3, n - 1), np.minimum(10, n - 1)))
    assert np.all(np.diff(targets.indptr) == n - k)
    # disjoint, together the whole row; inputs keep their weights' proportions
    assert inputs.multiply(targets).nnz == 0
    np.testing.assert_array_equal(((inputs + targets) > 0).toarray(), (X > 0).toarray())
    ratio = inputs.multiply(X.power(-1)).toarray()
    for r in range(X.shape[0]):
        nz = ratio[r][ratio[r] > 0]
        np.testing.assert_allclose(nz, nz[0], rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.asarray(inputs.multiply(inputs).sum(1))).ravel(), 1, 1e-5)
    np.testing.assert_allclose(np.asarray(targets.sum(1)).ravel(), 1.0, rtol=1e-5)


def test_reveal_draw_is_random_but_seeded() -> None:
    X = _rows()
    a, _ = sa.sample_reveal(X, np.random.default_rng(5), 3, 10)
    b, _ = sa.sample_reveal(X, np.random.default_rng(5), 3, 10)
    c, _ = sa.sample_reveal(X, np.random.default_rng(6), 3, 10)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0


def _nll64(params: dict[str, np.ndarray], inputs: sp.csr_matrix, targets: sp.csr_matrix) -> float:
    """The training loss in float64, written independently of the module."""
    x = inputs.toarray().astype(np.float64)
    h = np.tanh(x @ params["E"].astype(np.float64) + params["b1"])
    z = h @ params["W2"].astype(np.float64) + params["b2"]
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    return float(-(targets.toarray() * logp).sum(1).mean())


def test_gradients_match_finite_differences() -> None:
    X = _rows(n_users=12, n_items=15)
    params = sa.fit(
        X, factors=6, iterations=2, learning_rate=0.05, random_state=2
    )  # off the initial point
    inputs, targets = sa.sample_reveal(X, np.random.default_rng(4), 3, 10)
    grads, rows = sa.gradients(params, inputs, targets)
    assert np.array_equal(rows, np.unique(inputs.indices))
    full_e = np.zeros_like(params["E"], dtype=np.float64)
    full_e[rows] = grads["E"]
    analytic = {**grads, "E": full_e}
    rng = np.random.default_rng(0)
    eps = 1e-3
    for key in sa.PARAM_KEYS:
        p64 = {k: v.astype(np.float64) for k, v in params.items()}
        for flat in rng.choice(p64[key].size, size=min(6, p64[key].size), replace=False):
            idx = np.unravel_index(flat, p64[key].shape)
            p64[key][idx] += eps
            up = _nll64(p64, inputs, targets)
            p64[key][idx] -= 2 * eps
            down = _nll64(p64, inputs, targets)
            p64[key][idx] += eps
            assert analytic[key][idx] == pytest.approx((up - down) / (2 * eps), rel=2e-2, abs=2e-5)
    # artists nobody revealed get no embedding gradient at all
    assert np.all(full_e[np.setdiff1d(np.arange(X.shape[1]), rows)] == 0)


def test_training_learns_which_artists_go_together() -> None:
    """Two disjoint scenes of 20 artists; each user listens inside one. After training, revealing
    three artists of a scene ranks the rest of that scene above the other scene."""
    rng = np.random.default_rng(0)
    rows, cols = [], []
    for u in range(200):
        scene = u % 2
        picked = rng.choice(20, size=12, replace=False) + 20 * scene
        rows += [u] * picked.size
        cols += picked.tolist()
    X = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(200, 40))
    losses: list[float] = []
    probe_in, probe_t = sa.sample_reveal(X, np.random.default_rng(7), 3, 10)
    params = sa.fit(
        X,
        factors=16,
        iterations=30,
        learning_rate=0.01,
        batch_size=64,
        callback=lambda e, p: losses.append(_nll64(p, probe_in, probe_t)),
    )
    assert losses[-1] < losses[0] - 0.3
    assert losses[-1] < np.log(40) - 0.5  # far better than a uniform guess over 40 artists
    for scene in (0, 1):
        revealed = np.array([0, 5, 9]) + 20 * scene
        s = sa.scores(params, revealed, np.array([1.0, 2.0, 1.0]))
        same = np.setdiff1d(np.arange(20) + 20 * scene, revealed)
        other = np.arange(20) + 20 * (1 - scene)
        assert s[same].min() > s[other].max()
        assert s.max() == pytest.approx(1.0)


def test_single_and_batch_scores_agree_and_are_seeded() -> None:
    X = _rows()
    params = sa.fit(X, factors=8, iterations=3, random_state=1)
    again = sa.fit(X, factors=8, iterations=3, random_state=1)
    for k in sa.PARAM_KEYS:
        assert params[k].dtype == np.float32
        np.testing.assert_array_equal(params[k], again[k])
    pos, w = np.array([2, 7, 11]), np.array([1.0, 2.5, 0.5], np.float32)
    row = sp.csr_matrix((w, (np.zeros(3, int), pos)), shape=(1, X.shape[1]))
    np.testing.assert_allclose(sa.scores(params, pos, w), sa.scores_batch(params, row)[0], 1e-5)


def test_an_empty_vocabulary_still_serves(synthetic_ds: Dataset) -> None:
    """No artist reaches the listener threshold: the network has nothing to model, and the
    model (alone or inside the hybrid) falls back to its other signals instead of failing."""
    alone = sa.SetAutoencoder(min_listeners=10**6, iterations=1).fit(synthetic_ds)
    assert alone.items_.size == 0
    items, scores = alone.recommend_new_user({0: 3, 1: 5}, k=5)
    assert items.size == 5 and np.all(np.isfinite(scores))
    assert alone.recommend(np.array([0, 1]), k=5)[0].shape == (2, 5)
    assert alone.similar_artists(0, k=3)[0].size == 3

    hybrid = Hybrid(dae_min_listeners=10**6, dae_iterations=1).fit(synthetic_ds)
    without = Hybrid(new_dae=0.0).fit(synthetic_ds)
    ratings = {0: 3, 1: 5}
    np.testing.assert_allclose(
        hybrid.score_new_user(ratings), without.score_new_user(ratings), rtol=1e-6
    )
    np.testing.assert_array_equal(
        hybrid.recommend_new_user(ratings, k=5)[0], without.recommend_new_user(ratings, k=5)[0]
    )


def test_output_embeddings_feed_the_artist_map(synthetic_ds: Dataset) -> None:
    from artistrec import explore

    model = sa.SetAutoencoder(iterations=2, factors=8).fit(synthetic_ds)
    emb = model.item_embeddings()
    assert emb.shape == (model.n_items, 8)
    np.testing.assert_array_equal(explore.item_embeddings(model), emb)
    np.testing.assert_array_equal(emb[model.items_], model.params_["W2"].T)
    outside = np.setdiff1d(np.arange(model.n_items), model.items_)
    assert outside.size and not emb[outside].any()
