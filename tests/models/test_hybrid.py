"""The default ``hybrid`` model, checked through its public API only (parameters, ``score_users``,
``score_new_user``): each part of the blend adds exactly what the docstring says, computed
independently here (dense numpy) or by the standalone model that is the same algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import artistrec
from artistrec.data import Dataset
from artistrec.models import hybrid_core
from artistrec.models.als import ALS
from artistrec.models.dlae import DLAE
from artistrec.models.ease import EASE
from artistrec.models.hybrid import Hybrid
from artistrec.models.hybrid_core import FIXED_PARAMS, tag_embedding
from artistrec.models.set_autoencoder import SetAutoencoder
from artistrec.models.weighting import PRIOR_EPS

#: kNN / set-autoencoder / tag-profile weight of a revealed level 0..5 (the hybrid's fixed ones)
LEVEL_WEIGHTS = np.array([0.0] + [FIXED_PARAMS[f"lw{i}"] for i in range(1, 6)])
RATINGS = {3: 2, 40: 4, 41: 1, 99: 5}
#: every new-user part switched off but one (the weights that are 0 by choice)
NEW_PARTS = {"new_als": 0.0, "new_dlae": 0.0, "new_tags": 0.0, "new_dae": 0.0, "new_pop": 0.0}


@pytest.fixture(scope="module")
def fitted(synthetic_ds: Dataset) -> Hybrid:
    return Hybrid().fit(synthetic_ds)


@pytest.fixture(scope="module")
def variants(synthetic_ds: Dataset):  # noqa: ANN201
    """Hybrids fitted with some parameters changed, cached by those parameters."""
    cache: dict[tuple, Hybrid] = {}

    defaults = Hybrid().get_params()

    def get(**params: float) -> Hybrid:
        key = tuple(sorted((k, v) for k, v in params.items() if defaults[k] != v))
        if key not in cache:
            cache[key] = Hybrid(**params).fit(synthetic_ds)
        return cache[key]

    return get


def _listeners(ds: Dataset) -> np.ndarray:
    return np.asarray((ds.interactions > 0).sum(axis=0)).ravel()


def _pop(ds: Dataset) -> np.ndarray:
    n = _listeners(ds).astype(np.float64)
    return n / n.max()


def _max_scaled(part: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """``part`` divided by its largest |value| (over ``where``, a boolean mask, if given)."""
    m = np.abs(part if where is None else np.where(where, part, 0.0)).max(axis=-1, keepdims=True)
    return part / np.where(m > 0, m, 1.0)


def _revealed(ratings: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(list(ratings), np.int64), np.array(list(ratings.values()), np.int64)


def test_is_the_default_model() -> None:
    assert isinstance(artistrec.create_model("default"), Hybrid)


# ----------------------------------------------------------------------------------- known users
def test_known_users_ease_part_is_ease_on_normalised_profiles(
    variants, synthetic_ds: Dataset
) -> None:
    """Without ALS, RP3beta and friends, a known user scores (x_u / |x_u|_1) @ B with B the EASE
    weights over the artists with >= min_listeners listeners (plus the popularity tie-break)."""
    hybrid = variants(known_als=0.0, known_rp3=0.0, friend_direct=0.0, tag_weight=0.0)
    ease = EASE(l2=hybrid.ease_l2, min_listeners=hybrid.min_listeners).fit(synthetic_ds)
    users = np.arange(30)
    n_u = np.diff(synthetic_ds.interactions.indptr)[users][:, None]
    got = (hybrid.score_users(users) - PRIOR_EPS * _pop(synthetic_ds)) * n_u
    expected = ease.score_users(users)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, atol=1e-4 * scale)
    rare = _listeners(synthetic_ds) < hybrid.min_listeners
    assert rare.any() and np.abs(got[:, rare]).max() <= 1e-5 * scale  # not modelled


def test_known_users_als_and_rp3beta_are_max_scaled_and_added(
    variants, synthetic_ds: Dataset
) -> None:
    """EASE and ALS scores, each divided by its max |score| over the user's unseen artists, are
    added; that sum, scaled again, gets known_rp3 x the max-scaled RP3beta walk on top."""
    users = np.arange(40)
    x = (synthetic_ds.interactions[users] > 0).toarray()
    unseen = ~x
    pop = _pop(synthetic_ds)
    ease_only = variants(known_als=0.0, known_rp3=0.0)
    with_als = variants(known_rp3=0.0)
    full = variants()
    e = ease_only.score_users(users) - PRIOR_EPS * pop
    als = ALS(factors=full.als_factors, l2=full.als_l2, alpha=full.als_alpha, weighting="log").fit(
        synthetic_ds
    )
    a = als.score_users(users)
    blend = _max_scaled(e, unseen) + full.known_als * _max_scaled(a, unseen)
    got = with_als.score_users(users) - PRIOR_EPS * pop
    np.testing.assert_allclose(got[unseen], blend[unseen], atol=1e-4)

    # RP3beta (alpha 1) over the modelled artists, dense: p_iu @ p_ui, columns x listeners^-beta,
    # no diagonal, each row's rp3_neighbors largest weights kept (ties: lower index)
    items = np.flatnonzero(_listeners(synthetic_ds) >= full.min_listeners)
    xb = (synthetic_ds.interactions[:, items] > 0).toarray().astype(np.float64)
    p_ui = xb / np.maximum(xb.sum(axis=1, keepdims=True), 1e-12)
    p_iu = xb.T / np.maximum(xb.T.sum(axis=1, keepdims=True), 1e-12)
    walk = (p_iu @ p_ui) * np.power(np.maximum(xb.sum(axis=0), 1.0), -full.rp3_beta)[None, :]
    np.fill_diagonal(walk, 0.0)
    for row in walk:
        order = np.lexsort((np.arange(row.size), -row))
        row[order[full.rp3_neighbors :]] = 0.0
    rp3 = np.zeros((users.size, synthetic_ds.n_artists))
    rp3[:, items] = xb[users] @ walk
    expected = _max_scaled(blend, unseen) + full.known_rp3 * _max_scaled(rp3, unseen)
    got = full.score_users(users) - PRIOR_EPS * pop
    np.testing.assert_allclose(got[unseen], expected[unseen], atol=1e-4)


def test_known_users_get_a_share_of_their_friends_profiles(variants, synthetic_ds: Dataset) -> None:
    """friend_direct x the mean of the friends' L1-normalised listening rows is added."""
    users = np.arange(50)
    base = {"known_als": 0.0, "known_rp3": 0.0}
    without = variants(**base, friend_direct=0.0).score_users(users)
    gamma = 0.3
    with_friends = variants(**base, friend_direct=gamma).score_users(users)
    x = (synthetic_ds.interactions > 0).toarray().astype(np.float64)
    profiles = x / np.maximum(x.sum(axis=1, keepdims=True), 1e-9)
    adj = synthetic_ds.friends.toarray().astype(np.float64)[users]
    mean_friend = adj @ profiles / np.maximum(adj.sum(axis=1, keepdims=True), 1.0)
    assert np.abs(mean_friend).max() > 0  # the synthetic users do have friends
    np.testing.assert_allclose(with_friends - without, gamma * mean_friend, atol=1e-5)


# ----------------------------------------------------------------------------------- new users
def _knn_reference(ds: Dataset, shrink: float, neighbors: int, cap: int) -> np.ndarray:
    """Dense shrunk cosine of binary listener vectors, where each user also counts their ``cap``
    most listened tagged-but-unlisted artists; each row keeps its ``neighbors`` largest."""
    listened = (ds.interactions > 0).toarray()
    tagged_only = (ds.known_artists().toarray() > 0) & ~listened
    listeners = listened.sum(axis=0)
    b = listened.astype(np.float64)
    for u in range(b.shape[0]):
        cand = np.flatnonzero(tagged_only[u])
        top = cand[np.lexsort((cand, -listeners[cand]))][:cap]
        b[u, top] = 1.0
    co = b.T @ b
    norms = np.sqrt(np.diag(co))
    sim = co / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(sim, 0.0)
    if neighbors:
        for row in sim:
            order = np.lexsort((np.arange(row.size), -row))
            row[order[neighbors:]] = 0.0
    return sim


@pytest.mark.parametrize("params", [{}, {"friend_direct": 0.0}])
def test_known_users_precomputed_inputs_give_the_per_request_scores(
    variants, synthetic_ds: Dataset, params: dict
) -> None:
    """The profiles derived once per model (known_user_inputs) change no score: the numbers of
    profiling the users and their friends on every request (identical on the real data)."""
    model = variants(**params)
    users = np.arange(model.n_users)
    direct = hybrid_core.score_users(
        model.state_, model.seen_[users], model.friends_[users], model.seen_, users
    )
    # equal up to float32 summation order (sparse products over other row sets)
    np.testing.assert_allclose(model.score_users(users), direct, rtol=1e-5, atol=1e-6)
    one = np.array([5])
    np.testing.assert_allclose(model.score_users(one), direct[5:6], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("neighbors", "cap"), [(500, 20), (5, 0), (0, 3)])
def test_new_user_knn_part_is_level_weighted_shrunk_cosine(
    variants, synthetic_ds: Dataset, neighbors: int, cap: int
) -> None:
    hybrid = variants(**NEW_PARTS, knn_neighbors=neighbors, knn_tagged_cap=cap)
    items, levels = _revealed(RATINGS)
    sim = _knn_reference(synthetic_ds, hybrid.knn_shrink, neighbors, cap)
    part = LEVEL_WEIGHTS[levels] @ sim[items]
    part[items] = 0.0
    expected = part / part.max() + PRIOR_EPS * _pop(synthetic_ds)
    np.testing.assert_allclose(hybrid.score_new_user(RATINGS), expected, rtol=1e-5, atol=1e-6)


def _new_part(variants, weight_name: str, weight: float, ratings: dict[int, int]) -> np.ndarray:
    """What the part ``weight_name`` adds to the default hybrid's new-user scores."""
    full = variants(**{weight_name: weight})
    without = variants(**{weight_name: 0.0})
    return full.score_new_user(ratings) - without.score_new_user(ratings)


def _expected_part(
    raw: np.ndarray, modelled: np.ndarray, revealed: np.ndarray, weight: float
) -> np.ndarray:
    part = np.where(modelled, raw, 0.0)
    part[revealed] = 0.0
    return weight * _max_scaled(part)


def test_new_user_dlae_part_is_the_dlae_model(variants, synthetic_ds: Dataset) -> None:
    """new_dlae x the DLAE fold-in (the registered ``dlae`` model with the hybrid's dropout, L2
    and artist subset), revealed artists zeroed, scaled to max 1."""
    hybrid = variants()
    dlae = DLAE(
        dropout=hybrid.dlae_dropout, l2=hybrid.dlae_l2, min_listeners=hybrid.min_listeners
    ).fit(synthetic_ds)
    items, _ = _revealed(RATINGS)
    modelled = _listeners(synthetic_ds) >= hybrid.min_listeners
    expected = _expected_part(dlae.score_new_user(RATINGS), modelled, items, 1.3)
    np.testing.assert_allclose(_new_part(variants, "new_dlae", 1.3, RATINGS), expected, atol=1e-4)


def test_new_user_als_part_is_the_exact_als_fold_in(variants, synthetic_ds: Dataset) -> None:
    """new_als x the ALS model's exact fold-in scores on the modelled artists, revealed zeroed,
    scaled to max |score| 1 (the hybrid's ALS is the ``als`` model with its parameters)."""
    hybrid = variants()
    als = ALS(
        factors=hybrid.als_factors, l2=hybrid.als_l2, alpha=hybrid.als_alpha, weighting="log"
    ).fit(synthetic_ds)
    ratings = {**RATINGS, int(np.argmin(_listeners(synthetic_ds))): 3}  # one not modelled
    items, _ = _revealed(ratings)
    modelled = _listeners(synthetic_ds) >= hybrid.min_listeners
    expected = _expected_part(als.score_new_user(ratings), modelled, items, 0.6)
    np.testing.assert_allclose(_new_part(variants, "new_als", 0.6, ratings), expected, atol=1e-4)


def test_new_user_set_autoencoder_part_is_the_set_autoencoder(
    variants, synthetic_ds: Dataset
) -> None:
    """new_dae x the set autoencoder's softmax (the ``set-autoencoder`` model with the hybrid's
    settings: level weights only scale the unit-normalised input), revealed zeroed, max 1."""
    hybrid = variants()
    net = SetAutoencoder(
        factors=hybrid.dae_factors,
        iterations=hybrid.dae_iterations,
        learning_rate=hybrid.dae_learning_rate,
        batch_size=hybrid.dae_batch_size,
        min_listeners=hybrid.dae_min_listeners,
    ).fit(synthetic_ds)
    items, _ = _revealed(RATINGS)
    vocabulary = _listeners(synthetic_ds) >= hybrid.dae_min_listeners
    assert vocabulary[items].sum() < items.size  # a revealed artist outside it is not input
    expected = _expected_part(net.score_new_user(RATINGS), vocabulary, items, 1.0)
    np.testing.assert_allclose(_new_part(variants, "new_dae", 1.0, RATINGS), expected, atol=1e-4)


def test_new_user_tag_part_is_the_tag_profile_cosine(variants, synthetic_ds: Dataset) -> None:
    """new_tags x (T_a . sum_r lw[level_r] T_r) over the artists with >= tag_min_listeners
    listeners, T = unit tf-idf rows of log1p tag counts, revealed zeroed, scaled to max 1."""
    hybrid = variants()
    T = np.log1p(synthetic_ds.artist_tags.toarray().astype(np.float64))
    df = (T > 0).sum(0)
    T *= np.where(df > 0, np.log((1.0 + T.shape[0]) / (1.0 + df)), 0.0)
    T /= np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-9)
    items, levels = _revealed(RATINGS)
    listeners = _listeners(synthetic_ds)
    targets = listeners >= max(hybrid.tag_min_listeners, hybrid.min_listeners)
    assert 0 < targets.sum() < (listeners >= hybrid.min_listeners).sum()
    raw = T @ (LEVEL_WEIGHTS[levels] @ T[items])
    expected = _expected_part(raw, targets, items, 0.8)
    np.testing.assert_allclose(_new_part(variants, "new_tags", 0.8, RATINGS), expected, atol=1e-4)


def test_more_revealed_artists_weaken_the_popularity_prior(variants, synthetic_ds: Dataset) -> None:
    """The prior adds new_pop / N x popularity (N = revealed artists with a positive level)."""
    pop = _pop(synthetic_ds)
    for ratings in ({3: 3}, {3: 3, 4: 3, 5: 3, 6: 3, 7: 0}):
        n = sum(1 for v in ratings.values() if v > 0)
        part = _new_part(variants, "new_pop", 0.9, ratings)
        np.testing.assert_allclose(part, 0.9 / n * pop, rtol=1e-3, atol=1e-6)


def test_tag_embedding_is_the_truncated_svd_of_the_scored_rows() -> None:
    """E_t @ F[i] = (best rank-r approximation of T[targets]) @ T[i]; exact at full rank."""
    T = sp.random(300, 200, density=0.05, format="csr", dtype=np.float32, random_state=1)
    targets = np.arange(0, 300, 5)  # 60 scored rows
    Tt = T[targets].toarray().astype(np.float64)
    full = T.toarray().astype(np.float64).T
    F, E_t = tag_embedding(T, targets, 100)  # rank >= 60: exact
    assert F.shape[0] == 300 and E_t.shape[0] == 60 and F.dtype == E_t.dtype == np.float32
    np.testing.assert_allclose(E_t @ F.T, Tt @ full, atol=1e-4)
    F, E_t = tag_embedding(T, targets, 20)
    assert F.shape == (300, 20) and E_t.shape == (60, 20)
    U, S, Vt = np.linalg.svd(Tt, full_matrices=False)
    best = (U[:, :20] * S[:20]) @ Vt[:20]  # Eckart-Young
    np.testing.assert_allclose(E_t @ F.T, best @ full, atol=1e-4)


# ----------------------------------------------------------------------------------- similar, misc
def test_similar_artists_dot_is_the_ease_row_and_cosine_the_knn_row(
    variants, synthetic_ds: Dataset
) -> None:
    """``dot``: the EASE weights B[a, :] (how strongly liking a predicts j; without tags, the
    ``ease`` model's); ``cosine``: the new-user item-kNN row of a."""
    artist = int(np.argmax(_listeners(synthetic_ds)))
    plain = variants(tag_weight=0.0)
    ease = EASE(l2=plain.ease_l2, min_listeners=plain.min_listeners).fit(synthetic_ds)
    items, scores = plain.similar_artists(artist, k=8, measure="dot")
    expected_items, expected_scores = ease.similar_artists(artist, k=8, measure="dot")
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)
    hybrid = variants()
    sim = _knn_reference(synthetic_ds, hybrid.knn_shrink, hybrid.knn_neighbors, 20)
    items, scores = hybrid.similar_artists(artist, k=8, measure="cosine")
    np.testing.assert_allclose(scores, sim[artist, items], rtol=1e-4, atol=1e-5)
    order = np.lexsort(
        (np.arange(sim.shape[1]), -np.where(np.arange(sim.shape[1]) == artist, -1, sim[artist]))
    )
    np.testing.assert_array_equal(items, order[:8])


def test_item_embeddings_are_the_als_part(fitted: Hybrid, synthetic_ds: Dataset) -> None:
    als = ALS(
        factors=fitted.als_factors, l2=fitted.als_l2, alpha=fitted.als_alpha, weighting="log"
    ).fit(synthetic_ds)
    np.testing.assert_allclose(fitted.item_embeddings(), als.item_embeddings(), atol=1e-5)


def test_parts_with_zero_weight_are_not_fitted(synthetic_ds: Dataset, tmp_path) -> None:  # noqa: ANN001
    """A zero weight skips fitting that part: the saved artifact holds less."""
    full = Hybrid().fit(synthetic_ds)
    lean = Hybrid(new_dlae=0.0, new_tags=0.0, new_dae=0.0, known_rp3=0.0).fit(synthetic_ds)
    size_full = full.save(tmp_path / "full.npz").stat().st_size
    size_lean = lean.save(tmp_path / "lean.npz").stat().st_size
    assert size_lean < 0.8 * size_full
