"""The default ``hybrid`` model: EASE + ALS for known users, item-kNN + ALS fold-in for new users."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import artistrec
from artistrec.data import Dataset
from artistrec.data.scale import REPRESENTATIVE_COUNTS
from artistrec.models import hybrid_core as core
from artistrec.models.hybrid import Hybrid


@pytest.fixture(scope="module")
def fitted(synthetic_ds: Dataset) -> Hybrid:
    return Hybrid().fit(synthetic_ds)


def test_is_the_default_model() -> None:
    assert isinstance(artistrec.create_model("default"), Hybrid)


def test_state_is_one_dense_matrix_on_modelled_artists(
    fitted: Hybrid, synthetic_ds: Dataset
) -> None:
    st = fitted.state_
    listeners = np.bincount(synthetic_ds.interactions.indices, minlength=fitted.n_items)
    np.testing.assert_array_equal(st["items"], np.flatnonzero(listeners >= fitted.min_users))
    assert st["B"].shape == (st["items"].size,) * 2 and st["B"].dtype == np.float32
    assert np.all(np.diag(st["B"]) == 0)
    assert "B_new" not in st  # no second dense inverse any more
    assert st["item_factors"].shape == (fitted.n_items, fitted.als_factors)
    assert st["user_factors"].shape == (fitted.n_users, fitted.als_factors)
    assert st["item_factors"].dtype == np.float32


def test_knn_is_shrunk_cosine_without_diagonal(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    st = fitted.state_
    S = sp.csr_matrix(
        (st["knn_data"], st["knn_indices"], st["knn_indptr"]), shape=(fitted.n_items,) * 2
    ).toarray()
    b = (synthetic_ds.interactions > 0).astype(np.float64).toarray()
    co = b.T @ b
    n = np.sqrt(np.diag(co))
    expected = co / (np.outer(n, n) + fitted.knn_shrink)
    np.fill_diagonal(expected, 0.0)
    if fitted.knn_topk:  # only each row's knn_topk largest similarities are kept
        assert (S > 0).sum(axis=1).max() <= fitted.knn_topk
        kept = S > 0
        np.testing.assert_allclose(S[kept], expected[kept], rtol=1e-5, atol=1e-7)
        cut = np.where(kept, S, np.inf).min(axis=1, initial=np.inf)
        assert np.all(np.where(kept, 0.0, expected).max(axis=1) <= cut + 1e-7)
    full = Hybrid(knn_topk=0).fit(synthetic_ds).state_
    S0 = sp.csr_matrix(
        (full["knn_data"], full["knn_indices"], full["knn_indptr"]), shape=(fitted.n_items,) * 2
    ).toarray()
    np.testing.assert_allclose(S0, expected, rtol=1e-5, atol=1e-7)


def test_als_fold_in_solves_its_normal_equations(fitted: Hybrid) -> None:
    st = fitted.state_
    items, levels = np.array([3, 40, 41, 99]), np.array([1, 2, 4, 5])
    x = core._als_fold_in(st, items, levels)
    y = st["item_factors"].astype(np.float64)
    c = np.ones(fitted.n_items)
    c[items] = 1.0 + fitted.als_alpha * np.log1p(REPRESENTATIVE_COUNTS[levels])
    p = np.zeros(fitted.n_items)
    p[items] = 1.0
    lhs = (y.T * c) @ y + fitted.als_reg * np.eye(y.shape[1])
    np.testing.assert_allclose(lhs @ x, (y.T * c) @ p, rtol=1e-6, atol=1e-6)


def test_single_and_batch_new_user_paths_agree(fitted: Hybrid) -> None:
    reqs = [{3: 2, 40: 4}, {7: 1}, {}, {10: 5, 11: 0, 12: 3, 200: 2}]
    batch = core.score_new_users(fitted.state_, reqs)
    for row, r in zip(batch, reqs, strict=True):
        items = np.array(list(r), np.int64)
        levels = np.array(list(r.values()), np.int64)
        np.testing.assert_array_equal(row, core.score_new_user(fitted.state_, items, levels))
        np.testing.assert_array_equal(row, fitted._score_new_user(items, levels))


def test_new_user_blend_parts_are_max_scaled(fitted: Hybrid) -> None:
    st = fitted.state_
    items, levels = np.array([3, 40]), np.array([2, 4])
    knn_only = {
        **st,
        "new_als": np.float32(0.0),
        "new_dlae": np.float32(0.0),
        "new_tags": np.float32(0.0),
        "new_dae": np.float32(0.0),
        "pop_beta": np.float32(0.0),
    }
    s = core.score_new_user(knn_only, items, levels)
    unrated = np.setdiff1d(np.arange(fitted.n_items), items)
    assert abs(np.abs(s[unrated]).max() - 1.0) < 1e-4  # kNN part scaled to max 1 (+1e-6 prior)
    full = core.score_new_user(st, items, levels)
    assert not np.allclose(full, s)  # the ALS fold-in and the prior do change the scores


def test_dlae_is_the_dropout_denoising_closed_form(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    """D = I - (G + L)^-1 L with L = diag(p/(1-p) diag(G) + lam), diagonal zeroed."""
    st = fitted.state_
    X = (synthetic_ds.interactions[:, st["items"]] > 0).astype(np.float64).toarray()
    G = X.T @ X
    L = fitted.dlae_p / (1 - fitted.dlae_p) * np.diag(G) + fitted.dlae_lam
    expected = np.eye(len(G)) - np.linalg.solve(G + np.diag(L), np.diag(L))
    np.fill_diagonal(expected, 0.0)
    assert st["D"].dtype == np.float32 and st["D"].shape == G.shape
    np.testing.assert_allclose(st["D"], expected, rtol=2e-3, atol=2e-5)


def test_dlae_part_of_the_new_user_score(fitted: Hybrid) -> None:
    st = fitted.state_
    items = st["items"][[0, 5, 9]]
    levels = np.array([3, 2, 4])
    without = core.score_new_user({**st, "new_dlae": np.float32(0.0)}, items, levels)
    with_d = core.score_new_user(st, items, levels)
    part = st["D"][[0, 5, 9]].sum(axis=0)
    part[[0, 5, 9]] = 0.0
    expected = np.zeros(fitted.n_items, np.float32)
    expected[st["items"]] = fitted.new_dlae * part / np.abs(part).max()
    np.testing.assert_allclose(with_d - without, expected, rtol=1e-4, atol=1e-5)
    no_dlae = Hybrid(new_dlae=0.0)
    assert "D" not in core.fit(fitted.seen_, params=no_dlae._core_params())


def test_tag_profile_part_of_the_new_user_score(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    """new_tags x (T_mod @ sum_r lw[level_r] T_r) / max, T = unit tf-idf rows of log1p counts."""
    st = fitted.state_
    items = np.array([st["items"][2], st["items"][7], 1])
    levels = np.array([2, 5, 3])
    without = core.score_new_user({**st, "new_tags": np.float32(0.0)}, items, levels)
    with_t = core.score_new_user(st, items, levels)
    # independent reference: dense tf-idf over all artists
    T = np.log1p(synthetic_ds.artist_tags.toarray().astype(np.float64))
    df = (T > 0).sum(0)
    T *= np.where(df > 0, np.log((1.0 + T.shape[0]) / (1.0 + df)), 0.0)
    T /= np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-9)
    prof = (st["level_weights"][levels][:, None] * T[items]).sum(0)
    listeners = np.asarray((fitted.seen_ > 0).sum(0)).ravel()
    targets = st["items"][listeners[st["items"]] >= fitted.tag_min_users]
    assert 0 < targets.size < st["items"].size  # the synthetic data exercises the restriction
    part = np.zeros(fitted.n_items)
    part[targets] = T[targets] @ prof
    part[items] = 0.0
    assert part.max() > 0
    expected = fitted.new_tags * part / part.max()
    np.testing.assert_allclose(with_t - without, expected, rtol=1e-4, atol=1e-5)
    no_tags = Hybrid(new_tags=0.0)
    assert "tag_emb" not in core.fit(
        fitted.seen_, synthetic_ds.artist_tags, params=no_tags._core_params()
    )


def test_set_autoencoder_part_of_the_new_user_score(fitted: Hybrid) -> None:
    """new_dae x the network's softmax over its artists (>= dae_min_users listeners), revealed
    artists zeroed, scaled to max 1; revealed artists outside its vocabulary are not input."""
    st = fitted.state_
    listeners = np.asarray((fitted.seen_ > 0).sum(0)).ravel()
    vocab = st["items"][st["dae_targets"]]
    np.testing.assert_array_equal(vocab, np.flatnonzero(listeners >= fitted.dae_min_users))
    assert 0 < vocab.size < st["items"].size  # the synthetic data exercises the restriction
    outside = np.setdiff1d(st["items"], vocab)[0]
    items = np.array([vocab[0], vocab[3], outside])
    levels = np.array([2, 5, 3])
    without = core.score_new_user({**st, "new_dae": np.float32(0.0)}, items, levels)
    with_n = core.score_new_user(st, items, levels)
    net = {k: st[f"dae_{k}"] for k in ("E", "b1", "W2", "b2")}
    w = st["level_weights"][levels[:2]].astype(np.float64)
    h = np.tanh((w / np.linalg.norm(w)) @ net["E"][[0, 3]] + net["b1"])
    z = h @ net["W2"] + net["b2"]
    part = np.zeros(fitted.n_items)
    part[vocab] = np.exp(z - z.max())
    part[items] = 0.0
    expected = fitted.new_dae * part / part.max()
    np.testing.assert_allclose(with_n - without, expected, rtol=1e-3, atol=1e-5)
    assert "dae_E" not in core.fit(fitted.seen_, params=Hybrid(new_dae=0.0)._core_params())


def test_als_part_of_the_new_user_score_is_the_exact_fold_in(fitted: Hybrid) -> None:
    """new_als x (V x) / max|V x| on the modelled artists, x the exact ALS solve; 0 elsewhere."""
    st = fitted.state_
    not_modelled = np.setdiff1d(np.arange(fitted.n_items), st["items"])
    items = np.array([st["items"][1], st["items"][4], not_modelled[0]])
    levels = np.array([4, 2, 3])
    without = core.score_new_user({**st, "new_als": np.float32(0.0)}, items, levels)
    with_a = core.score_new_user(st, items, levels)
    y = st["item_factors"][items].astype(np.float64)
    c = 1.0 + fitted.als_alpha * np.log1p(core.REPRESENTATIVE_COUNTS[levels])
    a = st["item_gram"] + y.T @ np.diag(c - 1.0) @ y + fitted.als_reg * np.eye(y.shape[1])
    x = np.linalg.solve(a, y.T @ c)
    part = np.zeros(fitted.n_items)
    part[st["items"]] = st["item_factors"][st["items"]] @ x
    part[items] = 0.0
    expected = fitted.new_als * part / np.abs(part).max()
    np.testing.assert_allclose(with_a - without, expected, rtol=1e-3, atol=1e-4)


def test_new_user_knn_counts_a_capped_share_of_tagged_artists(fitted: Hybrid) -> None:
    """kNN co-occurrence = listens + each user's ``knn_tagged_cap`` most listened tagged artists."""
    listened = sp.csr_matrix(fitted.seen_ > 0, dtype=np.float32)
    known = listened.tolil(copy=True)
    unlisted = np.flatnonzero(listened[0].toarray().ravel() == 0)[:40]
    known[0, unlisted] = 1.0  # user 0 "tagged" 40 artists they did not list
    known = sp.csr_matrix(known)
    listeners = np.asarray(listened.sum(0)).ravel().astype(np.float32)
    cap = 7
    # the reference: the 7 most listened of those (ties: lower index)
    top = unlisted[np.lexsort((unlisted, -listeners[unlisted]))][:cap]
    expected_input = listened.tolil(copy=True)
    expected_input[0, top] = 1.0
    params = {**fitted._core_params(), "knn_tagged_cap": cap}
    st = core.fit(fitted.seen_, params=params, known=known)
    expected = core._knn(sp.csr_matrix(expected_input), fitted.knn_shrink, fitted.knn_topk)
    np.testing.assert_array_equal(st["knn_indptr"], expected.indptr)
    np.testing.assert_array_equal(st["knn_indices"], expected.indices)
    np.testing.assert_allclose(st["knn_data"], expected.data)
    # cap 0, or no `known`: listens only; EASE (known users) never sees the tagged artists
    plain = core.fit(fitted.seen_, params={**params, "knn_tagged_cap": 0}, known=known)
    np.testing.assert_array_equal(
        plain["knn_indptr"], core.fit(fitted.seen_, params=params)["knn_indptr"]
    )
    np.testing.assert_array_equal(st["B"], plain["B"])


def test_tag_embedding_is_the_truncated_svd_of_the_scored_rows() -> None:
    """E_t @ F[i] = (best rank-r approximation of T[targets]) @ T[i]; exact at full rank."""
    T = sp.random(300, 200, density=0.05, format="csr", dtype=np.float32, random_state=1)
    targets = np.arange(0, 300, 5)  # 60 scored rows
    Tt = T[targets].toarray().astype(np.float64)
    full = T.toarray().astype(np.float64).T
    F, E_t = core._tag_embedding(T, targets, 100)  # rank >= 60: exact
    assert F.shape[0] == 300 and E_t.shape[0] == 60 and F.dtype == E_t.dtype == np.float32
    np.testing.assert_allclose(E_t @ F.T, Tt @ full, atol=1e-4)
    F, E_t = core._tag_embedding(T, targets, 20)
    assert F.shape == (300, 20) and E_t.shape == (60, 20)
    U, S, Vt = np.linalg.svd(Tt, full_matrices=False)
    best = (U[:, :20] * S[:20]) @ Vt[:20]  # Eckart-Young
    np.testing.assert_allclose(E_t @ F.T, best @ full, atol=1e-4)


def test_more_revealed_artists_weaken_the_popularity_prior(fitted: Hybrid) -> None:
    st = dict(fitted.state_)
    one = core.score_new_user(st, np.array([3]), np.array([3])) - core.score_new_user(
        {**st, "pop_beta": np.float32(0.0)}, np.array([3]), np.array([3])
    )
    items, levels = np.array([3, 4, 5, 6]), np.array([3, 3, 3, 3])
    four = core.score_new_user(st, items, levels) - core.score_new_user(
        {**st, "pop_beta": np.float32(0.0)}, items, levels
    )
    np.testing.assert_allclose(one, 4 * four, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(one, fitted.pop_beta * st["pop"], rtol=1e-3, atol=1e-6)


def test_known_user_als_weight_changes_ranking(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    users = np.arange(50)
    ease_only = {**fitted.state_, "known_als": np.float32(0.0)}
    seen = fitted.seen_[users]
    a = core.score_users(ease_only, seen, fitted.friends_[users], fitted.seen_, users=users)
    b = fitted._score_users(users)
    assert a.shape == b.shape == (50, fitted.n_items)
    top_a = np.argsort(-np.where(seen.toarray() > 0, -np.inf, a), axis=1)[:, :10]
    top_b = np.argsort(-np.where(seen.toarray() > 0, -np.inf, b), axis=1)[:, :10]
    assert (top_a != top_b).any()


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("lam", 0.0),
        ("min_users", 0),
        ("als_factors", 2.5),
        ("new_als", -1.0),
        ("pop_beta", -0.1),
        ("knn_topk", -1),
        ("dlae_p", 1.0),
        ("new_dae", -0.5),
        ("dae_epochs", 0),
        ("dae_lr", 0.0),
    ],
)
def test_bad_parameters_are_rejected(synthetic_ds: Dataset, param: str, value: float) -> None:
    with pytest.raises(ValueError, match=param):
        Hybrid(**{param: value}).fit(synthetic_ds)


def test_core_rejects_bad_requests(fitted: Hybrid) -> None:
    with pytest.raises(IndexError):
        core.score_new_user(fitted.state_, np.array([fitted.n_items]), np.array([3]))
    with pytest.raises(ValueError, match="levels"):
        core.score_new_user(fitted.state_, np.array([1]), np.array([6]))
    with pytest.raises(ValueError, match="length"):
        core.score_new_user(fitted.state_, np.array([1, 2]), np.array([3]))


def test_knn_topk_keeps_each_artists_nearest_neighbours(synthetic_ds: Dataset) -> None:
    full = Hybrid(knn_topk=0).fit(synthetic_ds).state_
    small = Hybrid(knn_topk=5).fit(synthetic_ds).state_
    n = synthetic_ds.n_artists

    def dense(st: dict) -> np.ndarray:
        parts = (st["knn_data"], st["knn_indices"], st["knn_indptr"])
        return sp.csr_matrix(parts, shape=(n, n)).toarray()

    F, P = dense(full), dense(small)
    assert (F > 0).sum(axis=1).max() > 5  # the synthetic data does exercise the pruning
    assert (P > 0).sum(axis=1).max() == 5
    np.testing.assert_array_equal(P[P > 0], F[P > 0])
    for row_p, row_f in zip(P, F, strict=True):
        if (row_p > 0).any():
            assert np.sort(row_f)[::-1][: (row_p > 0).sum()].min() == row_p[row_p > 0].min()


def test_rp3_is_the_discounted_random_walk(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    st = fitted.state_
    items = st["items"]
    xb = (synthetic_ds.interactions[:, items] > 0).astype(np.float64).toarray()
    p_ui = xb / np.maximum(xb.sum(axis=1, keepdims=True), 1e-12)
    p_iu = xb.T / np.maximum(xb.T.sum(axis=1, keepdims=True), 1e-12)
    walk = (p_iu @ p_ui) * np.power(np.maximum(xb.sum(axis=0), 1.0), -fitted.rp3_beta)[None, :]
    np.fill_diagonal(walk, 0.0)
    W = sp.csr_matrix(
        (st["rp3_data"], st["rp3_indices"], st["rp3_indptr"]), shape=(items.size,) * 2
    ).toarray()
    kept = W != 0
    assert kept.sum(axis=1).max() <= fitted.rp3_topk
    np.testing.assert_allclose(W[kept], walk[kept], rtol=1e-4, atol=1e-7)
    # what was dropped is never larger than what a row kept
    cut = np.where(kept, W, np.inf).min(axis=1)
    dropped = np.where(kept, 0.0, walk).max(axis=1)
    assert np.all(dropped[kept.any(axis=1)] <= cut[kept.any(axis=1)] + 1e-7)


def test_known_user_rp3_weight_changes_ranking(fitted: Hybrid) -> None:
    users = np.arange(60)
    seen = fitted.seen_[users]
    without = {**fitted.state_, "known_rp3": np.float32(0.0)}
    a = core.score_users(without, seen, fitted.friends_[users], fitted.seen_, users=users)
    b = fitted._score_users(users)
    mask = seen.toarray() > 0
    top_a = np.argsort(-np.where(mask, -np.inf, a), axis=1)[:, :10]
    top_b = np.argsort(-np.where(mask, -np.inf, b), axis=1)[:, :10]
    assert (top_a != top_b).any()
    assert "rp3_indptr" not in core.fit(fitted.seen_, params=Hybrid(known_rp3=0.0)._core_params())
