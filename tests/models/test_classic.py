"""Model-specific checks of the classic families: each computes what its docstring says."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.nearest_neighbours import bm25_weight
from sklearn.metrics.pairwise import cosine_similarity

import artistrec
from artistrec.data import Dataset
from artistrec.data.scale import to_levels
from artistrec.models.als import ALS
from artistrec.models.bpr import BPR, _FoldInObjective
from artistrec.models.dlae import DLAE
from artistrec.models.ease import EASE
from artistrec.models.item_knn import ItemKNN
from artistrec.models.linalg import spd_inverse
from artistrec.models.rp3beta import RP3beta
from artistrec.models.sparse import prune_rows
from artistrec.models.weighting import (
    PRIOR_EPS,
    add_prior,
    bm25_length_norm,
    ratings_row,
    weigh,
)

CLASSIC = ["als", "bpr", "item-knn", "ease", "rp3beta"]


def _dense(m: sp.spmatrix) -> np.ndarray:
    return np.asarray(m.todense())


def _user_ratings(ds: Dataset, user: int) -> tuple[np.ndarray, np.ndarray]:
    x = ds.interactions
    s, e = x.indptr[user], x.indptr[user + 1]
    return x.indices[s:e].astype(np.int64), to_levels(x.data[s:e]).astype(np.int64)


# ----------------------------------------------------------------------------------- helpers
def test_weighting_functions() -> None:
    x = sp.csr_matrix(np.array([[1.0, 0, 45], [3_000, 60_000, 0]], dtype=np.float32))
    np.testing.assert_array_equal(_dense(weigh(x, "binary")), (_dense(x) > 0).astype(np.float32))
    np.testing.assert_allclose(_dense(weigh(x, "log")), np.log1p(_dense(x)), rtol=1e-6)
    np.testing.assert_array_equal(_dense(weigh(x, "levels")), [[1, 0, 2], [3, 5, 0]])
    with pytest.raises(ValueError, match="weighting must be one of"):
        weigh(x, "tfidf")
    with pytest.raises(ValueError, match="length norms"):
        weigh(x, "bm25")


def test_bm25_matches_implicit() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(40, 70, density=0.1, random_state=1, format="csr", dtype=np.float32)
    x.data = np.round(rng.lognormal(4, 2, x.nnz)).astype(np.float32) + 1
    ours = _dense(weigh(x, "bm25", bm25_length_norm(x)))
    theirs = _dense(bm25_weight(x.T.tocoo(), K1=100, B=0.8).T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_levels_weighting_of_a_new_user_round_trips() -> None:
    row = ratings_row(np.array([4, 2, 9]), np.array([5, 1, 3]), 12)
    assert row.shape == (1, 12)
    np.testing.assert_array_equal(_dense(weigh(row, "levels"))[0, [4, 2, 9]], [5, 1, 3])


def test_prune_rows_keeps_the_largest() -> None:
    rng = np.random.default_rng(3)
    dense = rng.random((30, 40)) * (rng.random((30, 40)) < 0.5)
    pruned = _dense(prune_rows(sp.csr_matrix(dense), 4))
    assert ((pruned > 0).sum(axis=1) == np.minimum((dense > 0).sum(axis=1), 4)).all()
    for r in range(30):
        kept = np.sort(pruned[r][pruned[r] > 0])
        np.testing.assert_allclose(kept, np.sort(dense[r])[::-1][: kept.size][::-1], rtol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_prune_rows_is_exact_with_ties_and_unsorted_input(seed: int) -> None:
    """Same entries as a per-row stable sort (value desc, then lower column); input untouched."""
    rng = np.random.default_rng(seed)
    dense = rng.choice([0.0, 0.0, 0.25, 0.5, 1.0], size=(25, 60)).astype(np.float32)  # ties
    unique = rng.random(dense.shape) < 0.3
    dense[unique] = rng.random(int(unique.sum()), dtype=np.float32)
    coo = sp.coo_matrix(dense)
    perm = rng.permutation(coo.nnz)  # unsorted column order inside rows
    m = sp.csr_matrix((coo.data[perm], (coo.row[perm], coo.col[perm])), shape=dense.shape)
    m.has_sorted_indices = False
    before = m.copy()
    k = int(rng.integers(1, 20))
    out = prune_rows(m, k).toarray()
    expected = np.zeros_like(dense)
    for r in range(dense.shape[0]):
        nz = np.flatnonzero(dense[r])
        top = nz[np.lexsort((nz, -dense[r, nz]))][:k]
        expected[r, top] = dense[r, top]
    np.testing.assert_array_equal(out, expected)
    assert (m != before).nnz == 0  # the caller's matrix is not modified


def test_add_prior_breaks_ties_only() -> None:
    prior = np.array([0.1, 1.0, 0.5, 0.0], dtype=np.float32)
    scores = np.array([[0.0, 0.0, 3.0, 0.0], [2.0, 1.0, 2.5, -1.0], [0, 0, 0, 0]], np.float32)
    out = add_prior(scores, prior)
    assert np.argsort(-out[0]).tolist() == [2, 1, 0, 3]
    assert np.argsort(-out[1]).tolist() == np.argsort(-scores[1]).tolist()
    assert np.abs(out[1] - scores[1]).max() <= PRIOR_EPS * 2.5 * 1.1
    np.testing.assert_array_equal(out[2], prior)


# ----------------------------------------------------------------------------------- families
@pytest.mark.parametrize("name", CLASSIC)
def test_no_signal_is_exactly_the_popularity_ranking(name: str, synthetic_ds: Dataset) -> None:
    model = artistrec.create_model(name).fit(synthetic_ds)
    pop = artistrec.create_model("popularity").fit(synthetic_ds)
    np.testing.assert_array_equal(
        model.recommend_new_user({}, k=20)[0], pop.recommend_new_user({}, k=20)[0]
    )


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("als", {"factors": 0}, "factors"),
        ("als", {"weighting": "tfidf"}, "weighting"),
        ("als", {"random_state": None}, "random_state"),
        ("bpr", {"learning_rate": 0}, "learning_rate"),
        ("item-knn", {"shrink": -1}, "shrink"),
        ("item-knn", {"neighbors": 2.5}, "neighbors"),
        ("ease", {"l2": -1.0}, "l2"),
        ("ease", {"min_listeners": 0}, "min_listeners"),
        ("rp3beta", {"beta": -0.5}, "beta"),
        ("rp3beta", {"weighting": "raw"}, "weighting"),
    ],
)
def test_bad_hyper_parameters_fail_clearly(
    name: str, params: dict, message: str, synthetic_ds: Dataset
) -> None:
    with pytest.raises(ValueError, match=message):
        artistrec.create_model(name, **params).fit(synthetic_ds)


def test_ease_is_the_closed_form(synthetic_ds: Dataset) -> None:
    model = EASE(l2=50.0, min_listeners=1, weighting="binary").fit(synthetic_ds)
    x = (_dense(synthetic_ds.interactions) > 0).astype(np.float64)
    keep = x.sum(axis=0) >= 1
    xs = x[:, keep]
    p = np.linalg.inv(xs.T @ xs + 50.0 * np.eye(xs.shape[1]))
    b = np.eye(p.shape[0]) - p / np.diag(p)[None, :]
    np.testing.assert_allclose(model.weights_, b, atol=2e-5)
    assert np.all(np.diag(model.weights_) == 0)


def test_ease_subset_and_symmetric_cosine(synthetic_ds: Dataset) -> None:
    model = EASE(min_listeners=3).fit(synthetic_ds)
    listeners = synthetic_ds.artist_listeners()
    np.testing.assert_array_equal(model.items_, np.flatnonzero(listeners >= 3))
    rare = np.flatnonzero(listeners < 3)
    assert rare.size > 0
    scores = model._score_users(np.arange(20))
    # artists outside the subset only carry the tiny popularity tie-break
    assert np.abs(scores[:, rare]).max() <= PRIOR_EPS * np.abs(scores).max() * 1.1
    a, b = model.items_[:2]
    sa, sb = model._similar_scores(int(a), "cosine"), model._similar_scores(int(b), "cosine")
    assert sa[b] == pytest.approx(sb[a], rel=1e-3, abs=1e-6)


def test_dlae_is_the_dropout_denoising_closed_form(synthetic_ds: Dataset) -> None:
    """B = I - (G + Λ)⁻¹ Λ with Λ = diag(p/(1-p) diag(G) + l2), diagonal zeroed (Steck 2020)."""
    model = DLAE(dropout=0.6, l2=10.0, min_listeners=2).fit(synthetic_ds)
    x = (_dense(synthetic_ds.interactions) > 0).astype(np.float64)
    keep = x.sum(axis=0) >= 2
    np.testing.assert_array_equal(model.items_, np.flatnonzero(keep))
    g = x[:, keep].T @ x[:, keep]
    lam = 0.6 / 0.4 * np.diag(g) + 10.0
    b = np.eye(g.shape[0]) - np.linalg.solve(g + np.diag(lam), np.diag(lam))
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(model.weights_, b, atol=2e-5)
    # the fold-in of a new person is r @ B on the modelled artists
    items, levels = np.flatnonzero(keep)[[0, 4, 9]], np.array([2, 3, 1])
    scores = model.score_new_user(dict(zip(items.tolist(), levels.tolist(), strict=True)))
    expected = np.zeros(x.shape[1])
    expected[keep] = b[[0, 4, 9]].sum(axis=0)
    np.testing.assert_allclose(scores, expected, atol=1e-4 * np.abs(expected).max())
    # cosine similar artists are partial correlations: symmetric
    a, c = model.items_[:2]
    sa, sc = model._similar_scores(int(a), "cosine"), model._similar_scores(int(c), "cosine")
    assert sa[c] == pytest.approx(sc[a], rel=1e-3, abs=1e-6)


def test_dlae_predicts_held_out_artists_from_a_few_revealed(clustered_ds: Dataset) -> None:
    """Trained for "a few artists -> the rest": from 3 revealed artists of a user's taste
    cluster, the rest of that cluster ranks above the other clusters."""
    model = DLAE(min_listeners=1).fit(clustered_ds)
    x = clustered_ds.interactions
    user = 0
    listened = x.indices[x.indptr[user] : x.indptr[user + 1]]
    top, _ = model.recommend_new_user({int(a): 2 for a in listened[:3]}, k=10)
    cluster = np.arange(clustered_ds.n_artists) % 10 == listened[0] % 10
    assert cluster[top].mean() >= 0.9


def test_spd_inverse() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((50, 50))
    a = a @ a.T + 5 * np.eye(50)
    np.testing.assert_allclose(spd_inverse(a.copy()), np.linalg.inv(a), atol=1e-10)
    with pytest.raises(np.linalg.LinAlgError):
        spd_inverse(-np.eye(3))


@pytest.mark.parametrize("order", ["C", "F"])
def test_spd_inverse_spans_several_mirror_blocks(order: str) -> None:
    # 1,100 rows: the lower triangle is mirrored in three column blocks of 512
    rng = np.random.default_rng(1)
    x = rng.random((1100, 40)).astype(np.float32)
    a = np.asarray(x @ x.T + 50 * np.eye(1100, dtype=np.float32), order=order)
    inv = spd_inverse(a.copy(order="K"))
    np.testing.assert_array_equal(inv, inv.T)
    np.testing.assert_allclose(inv @ a, np.eye(1100), atol=1e-4)


def test_item_knn_is_pruned_cosine(synthetic_ds: Dataset) -> None:
    model = ItemKNN(neighbors=10_000, shrink=0.0, weighting="binary").fit(synthetic_ds)
    x = (_dense(synthetic_ds.interactions) > 0).astype(np.float64)
    expected = cosine_similarity(x.T)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(_dense(model.similarity_), expected, atol=1e-5)

    pruned = ItemKNN(neighbors=5, shrink=10.0, weighting="binary").fit(synthetic_ds)
    assert np.diff(pruned.similarity_.tocsc().indptr).max() <= 5
    # dot measure = number of shared listeners
    co = x.T @ x
    artist = int(np.argmax(x.sum(axis=0)))
    items, scores = pruned.similar_artists(artist, k=5, measure="dot")
    np.testing.assert_allclose(scores, co[artist, items], rtol=1e-4)
    assert scores[0] == pytest.approx(np.sort(np.delete(co[artist], artist))[-1], rel=1e-4)


def test_rp3beta_is_the_discounted_walk(synthetic_ds: Dataset) -> None:
    x = (_dense(synthetic_ds.interactions) > 0).astype(np.float64)
    p_ui = x / np.maximum(x.sum(axis=1, keepdims=True), 1)
    p_iu = x.T / np.maximum(x.T.sum(axis=1, keepdims=True), 1)
    walk = p_iu @ p_ui
    np.fill_diagonal(walk, 0.0)
    plain = RP3beta(alpha=1.0, beta=0.0, neighbors=10_000).fit(synthetic_ds)
    np.testing.assert_allclose(_dense(plain.weights_), walk, atol=1e-6)
    degree = np.maximum(x.sum(axis=0), 1)
    discounted = RP3beta(alpha=1.0, beta=0.5, neighbors=10_000).fit(synthetic_ds)
    np.testing.assert_allclose(_dense(discounted.weights_), walk / degree**0.5, atol=1e-6)
    pruned = RP3beta(neighbors=7).fit(synthetic_ds)
    assert np.diff(pruned.weights_.indptr).max() <= 7


def test_als_fold_in_is_the_exact_user_solution(synthetic_ds: Dataset) -> None:
    # with level weighting a known user's levels carry exactly their training input, so the
    # fold-in must reproduce the learned vector (the model recomputes users exactly after fit)
    model = ALS(factors=16, iterations=5, weighting="levels").fit(synthetic_ds)
    for user in (0, 7, 42):
        items, levels = _user_ratings(synthetic_ds, user)
        np.testing.assert_allclose(
            model.fold_in(items, levels), model.user_factors_[user], rtol=1e-3, atol=1e-4
        )
    assert np.all(model.fold_in(np.array([], np.int64), np.array([], np.int64)) == 0)


def test_als_fold_in_equals_implicits_recalculate_user(synthetic_ds: Dataset) -> None:
    """Our fold-in solves the same system as implicit's ``recalculate_user`` with our item
    factors, regularisation and confidences (1 + alpha * weight(count))."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = ALS(factors=12, iterations=4, alpha=2.0, l2=5.0).fit(synthetic_ds)
    reference = AlternatingLeastSquares(factors=12, regularization=5.0, alpha=1.0)
    reference.item_factors = model.item_factors_.copy()
    reference.user_factors = np.zeros((1, 12), np.float32)
    rng = np.random.default_rng(0)
    for size in (1, 4, 15):
        items = rng.choice(model.n_items, size=size, replace=False)
        levels = rng.integers(1, 6, size=size)
        conf = weigh(ratings_row(items, levels, model.n_items), "log")
        conf.data = 1.0 + 2.0 * conf.data
        theirs = reference.recalculate_user(0, conf)
        np.testing.assert_allclose(model.fold_in(items, levels), theirs, rtol=1e-3, atol=1e-4)


def test_bpr_fold_in_is_the_stationary_point(synthetic_ds: Dataset) -> None:
    model = BPR(factors=8, iterations=20).fit(synthetic_ds)
    items, levels = _user_ratings(synthetic_ds, 3)
    x = model.fold_in(items, levels)
    assert x[-1] == 1.0 and np.linalg.norm(x[:-1]) > 0
    q = model.negative_weights_.astype(np.float64).copy()
    q[items] = 0
    neg = np.flatnonzero(q > 0)
    y = model.item_factors_.astype(np.float64)
    objective = _FoldInObjective(y[items], y[neg], q[neg] / q[neg].sum(), model.l2)
    w = x[:-1].astype(np.float64)
    grad = objective.grad(w)
    assert np.linalg.norm(grad) < 1e-3 * max(1.0, np.linalg.norm(objective.grad(0 * w)))
    # a perturbation can only make the (convex) objective worse
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert objective.value(w + 0.05 * rng.normal(size=w.size)) > objective.value(w)
    # levels do not matter to BPR, only which artists were listened
    np.testing.assert_array_equal(model.fold_in(items, np.ones_like(levels)), x)


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_factor_similarity_uses_item_factors(name: str, synthetic_ds: Dataset) -> None:
    model = artistrec.create_model(name).fit(synthetic_ds)
    emb = model.item_embeddings().astype(np.float64)  # BPR's bias column left out
    np.testing.assert_array_equal(emb, model.item_factors_[:, : model.factors])
    artist = 5
    norms = np.linalg.norm(emb, axis=1)
    cosine = emb @ emb[artist] / np.maximum(norms * norms[artist], 1e-12)
    for measure, expected in (("cosine", cosine), ("dot", emb @ emb[artist])):
        items, scores = model.similar_artists(artist, k=5, measure=measure)
        np.testing.assert_allclose(scores, expected[items], rtol=1e-3, atol=1e-5)
        expected = expected.copy()
        expected[artist] = -np.inf
        np.testing.assert_array_equal(items, np.argsort(-expected, kind="stable")[:5])
