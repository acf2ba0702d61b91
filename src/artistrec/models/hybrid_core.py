"""Hybrid EASE + ALS + item-kNN + tags recommender core (numpy/scipy; ALS via ``implicit``).

Model: EASE^R (closed-form item-item ridge regression, Steck 2019) on the artists that
have at least ``min_listeners`` training listeners, with

* a log-damped input transform of listen counts,
* tag augmentation: the L2-normalised artist x tag matrix (transposed) is stacked under the
  interaction matrix as weighted pseudo-user rows, so co-tagged artists become similar,
* friend smoothing for known users: the user's normalised profile plus ``friend_alpha`` times the
  mean of the friends' normalised profiles is multiplied by B,
* an implicit-feedback ALS model (Hu, Koren & Volinsky 2008) blended in for known users: EASE and
  ALS scores are each scaled to max |score| = 1 over the user's unseen artists and added; that sum,
  scaled to max 1 again, gets ``known_rp3`` x the max-scaled RP3beta scores (a popularity-discounted
  random walk, Paudel et al. 2017) on top,
* for new users (fold-in from ``{artist_index: level}``): a blend of item-kNN cosine scores of the
  level-weighted profile (co-occurrence over listens plus each user's 20 most listened tagged,
  unlisted artists), the exact ALS fold-in, a denoising linear autoencoder (DLAE, Steck
  2020: EASE trained to predict a whole row from a row with 95% of its entries dropped, which is
  the new-user task itself), a tag-profile term (the revealed artists' tf-idf tag rows against
  each artist's, through a rank-128 embedding) and a set autoencoder (``set_autoencoder``: a
  softmax network with one tanh layer, trained on "3-10 revealed artists -> the rest" over the
  artists with >= 5 listeners), each scaled to max |score| = 1 per request, plus
  a popularity prior whose weight decays with the number of revealed artists. (A separate,
  strongly regularised EASE matrix for new users was dropped: on validation users carved from
  training users, kNN + ALS beat it at N = 3/5/10 and it cost a second dense inverse.)

Blend weights, ALS confidence, tag weight and the DLAE dropout were tuned on validation splits
carved from training data only (pseudo-new users held out of the training users of 3 outer folds;
known users: a nested hold-out / RecBole's valid part). ``benchmarks/tune_hybrid.py`` re-runs the
final choice of the blend weights; docs/BENCHMARKS.md summarises the wider searches.
Every function is vectorised; the learned state is a dict of numpy arrays (npz-serialisable).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from artistrec.data.scale import REPRESENTATIVE_COUNTS
from artistrec.models import set_autoencoder
from artistrec.models.capping import (
    DEFAULT_MAX_ARTISTS,
    SOFTMAX_MAX_ARTISTS,
    SOFTMAX_MAX_STEPS,
    capped_artists,
)
from artistrec.models.dlae import dlae_weights
from artistrec.models.ease import ease_weights
from artistrec.models.linalg import single_blas_thread
from artistrec.models.sparse import (
    csr_row_entries,
    row_stochastic,
    topk_product,
    with_tagged,
)
from artistrec.models.tags import tag_embedding, tag_features
from artistrec.models.weighting import PRIOR_EPS, weigh

#: Settings of the core that the ``Hybrid`` model does not expose (the exposed ones, with their
#: tuned defaults, are declared once on :class:`artistrec.models.hybrid.Hybrid`).
FIXED_PARAMS: dict[str, float] = {
    "input_log_a": 0.0,  # input value = 1 + a * log1p(count)  (0 -> binary; log hurt on validation)
    "row_norm_p": 0.0,  # rows divided by (row sum)^p before the Gram matrix
    "tag_idf": 1.0,  # 1 -> idf-weight tags before L2 normalising artists
    "friend_alpha": 0.0,  # known users: weight of mean friends' profile (fed through B)
    "als_iterations": 15,
    # size caps (artistrec.models.capping): EASE / DLAE / the tag embedding cover at most the
    # max_artists most listened artists, the set autoencoder's softmax at most dae_max_artists
    # and dae_max_steps Adam steps
    "max_artists": DEFAULT_MAX_ARTISTS,
    "dae_max_artists": SOFTMAX_MAX_ARTISTS,
    "dae_max_steps": SOFTMAX_MAX_STEPS,  # Adam steps in total (a step's cost is users-blind)
    "pop_decay": 1.0,  # the new-user popularity prior's weight is new_pop / N^pop_decay
    # new users: kNN profile weight per revealed level 1..5
    "lw1": 0.5,
    "lw2": 1.0,
    "lw3": 1.5,
    "lw4": 2.0,
    "lw5": 2.5,
}

#: scalar parameters copied into the learned state (used at scoring time)
_SCORING_KEYS = (
    "input_log_a",
    "row_norm_p",
    "friend_alpha",
    "friend_direct",
    "known_als",
    "known_rp3",
    "als_l2",
    "als_alpha",
    "new_als",
    "new_dlae",
    "new_tags",
    "new_dae",
    "new_pop",
    "pop_decay",
)


def _input_values(counts: np.ndarray, a: float) -> np.ndarray:
    return (1.0 + a * np.log1p(counts)).astype(np.float32)


def _transform_rows(rows: sp.csr_matrix, a: float, p: float) -> sp.csr_matrix:
    """raw counts -> model input (log-damped values, optional row normalisation)."""
    R = sp.csr_matrix(rows, dtype=np.float32, copy=True)
    R.eliminate_zeros()
    R.data = _input_values(R.data, a)
    if p:
        s = np.asarray(R.sum(1)).ravel()
        R = sp.diags(np.power(np.maximum(s, 1e-9), -p).astype(np.float32)) @ R
    return R.tocsr()


def _knn(X: sp.csr_matrix, shrink: float, neighbors: int = 0) -> sp.csr_matrix:
    """Shrunk cosine similarity of artists' binary listener vectors (sparse, zero diagonal),
    optionally only each artist's ``neighbors`` nearest neighbours (by blocks of artists:
    :func:`~artistrec.models.sparse.topk_product`)."""
    b = sp.csr_matrix(X > 0, dtype=np.float32)
    norms = np.sqrt(np.asarray(b.sum(0), dtype=np.float64).ravel())

    def cosine(r: np.ndarray, c: np.ndarray, co: np.ndarray) -> np.ndarray:
        return np.where(r == c, 0.0, co / (norms[r] * norms[c] + shrink))

    k = int(neighbors) if neighbors > 0 else b.shape[1]
    return topk_product(b.T.tocsr(), b, k, cosine)


def _rp3(Xb: sp.csr_matrix, beta: float, neighbors: int) -> sp.csr_matrix:
    """RP3beta (Paudel et al. 2017, alpha = 1) on binary listens: the artist -> user -> artist
    transition probabilities, each column discounted by (listeners)^-beta, no diagonal, each row
    pruned to its ``neighbors`` largest weights (by blocks of artists)."""
    deg = np.maximum(np.asarray(Xb.sum(0)).ravel(), 1.0)
    discount = np.power(deg, -beta).astype(np.float32)

    def discounted(r: np.ndarray, c: np.ndarray, walk: np.ndarray) -> np.ndarray:
        return np.where(r == c, np.float32(0.0), walk * discount[c])

    return topk_product(
        row_stochastic(Xb.T.tocsr()), row_stochastic(Xb), int(neighbors), discounted
    )


def _als_confidence(values: np.ndarray, alpha: float) -> np.ndarray:
    return (1.0 + alpha * np.log1p(values)).astype(np.float32)


def _als(X: sp.csr_matrix, p: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Implicit ALS (deterministic: fixed seed, one thread); exact user factors at the end."""
    from implicit.cpu.als import AlternatingLeastSquares

    C = sp.csr_matrix(X, dtype=np.float32, copy=True)
    C.eliminate_zeros()
    C.data = _als_confidence(C.data, p["als_alpha"])
    with single_blas_thread():
        m = AlternatingLeastSquares(
            factors=int(p["als_factors"]),
            regularization=float(p["als_l2"]),
            alpha=1.0,  # the confidence is already in C
            iterations=int(p["als_iterations"]),
            random_state=0,
            calculate_training_loss=False,
            num_threads=1,
        )
        m.fit(C, show_progress=False)
        U = m.recalculate_user(np.arange(C.shape[0]), C)
    return np.ascontiguousarray(U, np.float32), np.ascontiguousarray(m.item_factors, np.float32)


def fit(
    interactions: sp.csr_matrix,
    artist_tags: sp.csr_matrix | None = None,
    friends: sp.csr_matrix | None = None,
    *,
    params: Mapping[str, float],
    known: sp.csr_matrix | None = None,
) -> dict[str, np.ndarray]:
    """Fit the hybrid model.

    interactions: users x artists raw listen counts (csr float32).
    artist_tags: artists x tags assignment counts (csr float32) or None.
    friends: users x users symmetric adjacency (unused at fit time; kept for API symmetry).
    params: the ``Hybrid`` model's parameters (``Hybrid().get_params()``); ``FIXED_PARAMS`` fill
    in the rest.
    known: optional users x artists, non-zero where a user listened to or tagged an artist
    (``Dataset.known_artists``): the new-user item-kNN adds up to ``knn_tagged_cap`` tagged,
    unlisted artists per user to its co-occurrence counts.
    Returns the learned state: dict of numpy arrays (the kNN similarity as CSR parts).
    """
    p = {**FIXED_PARAMS, **params}
    X = sp.csr_matrix(interactions, dtype=np.float32)
    n_items = X.shape[1]
    cnt = np.diff(sp.csc_matrix(X > 0).indptr).astype(np.float32)
    items = capped_artists(cnt, int(p["min_listeners"]), int(p["max_artists"]))
    R = _transform_rows(X, p["input_log_a"], p["row_norm_p"])[:, items]
    G = (R.T @ R).toarray()
    Xb = sp.csr_matrix(X[:, items] > 0, dtype=np.float32)
    D = None
    if p["new_dlae"] > 0:  # on binary listens: the Gram matrix above when the EASE input is binary
        binary = p["input_log_a"] == 0 and p["row_norm_p"] == 0
        Gb = G if binary else (Xb.T @ Xb).toarray()
        D, _ = dlae_weights(Gb, float(p["dlae_dropout"]), float(p["dlae_l2"]))  # Gb unchanged
    W = _rp3(Xb, float(p["rp3_beta"]), int(p["rp3_neighbors"])) if p["known_rp3"] > 0 else None
    # a data set without tags (Last.fm-360K, generic logs) has an empty matrix: nothing to add,
    # and the tag embedding's eigendecomposition of a zero Gram matrix would be wasted (360K
    # size: minutes)
    has_tags = artist_tags is not None and artist_tags.nnz > 0
    if has_tags and p["tag_weight"] > 0:
        T = tag_features(artist_tags, items, bool(p["tag_idf"]))
        G += p["tag_weight"] * (T @ T.T).toarray()
    B = np.ascontiguousarray(ease_weights(G, float(p["ease_l2"]))[0], dtype=np.float32)
    del G
    U, V = _als(X, p)
    knn_input = X
    if known is not None and p["knn_tagged_cap"] > 0:
        knn_input = with_tagged(X, known, cnt, int(p["knn_tagged_cap"]))
    S = _knn(knn_input, p["knn_shrink"], int(p["knn_neighbors"]))
    pop = cnt / max(cnt.max(), 1.0)
    item_pos = np.full(n_items, -1, np.int64)
    item_pos[items] = np.arange(len(items))
    state = {
        "items": items,
        "item_pos": item_pos,
        "B": B,
        "user_factors": U,
        "item_factors": V,
        # new-user fast path: the modelled artists' factors, transposed (contiguous rows)
        "item_factors_mod_t": np.ascontiguousarray(V[items].T),
        "item_gram": (V.astype(np.float64).T @ V.astype(np.float64)),
        "knn_data": S.data,
        "knn_indices": S.indices.astype(np.int32),
        "knn_indptr": S.indptr.astype(np.int64),
        "pop": pop.astype(np.float32),
        "n_items": np.array(n_items, np.int64),
        "level_weights": np.array([0.0] + [p[f"lw{i}"] for i in range(1, 6)], np.float32),
    }
    if D is not None:
        state["D"] = D
    if W is not None:
        state["rp3_data"] = W.data
        state["rp3_indices"] = W.indices.astype(np.int32)
        state["rp3_indptr"] = W.indptr.astype(np.int64)
    if has_tags and p["new_tags"] > 0:
        # every artist's embedded unit tag row (a profile may hold rare artists) and the scored
        # artists' (>= tag_min_listeners listeners: scoring rarer ones too did not help on validation)
        targets = np.flatnonzero(cnt[items] >= p["tag_min_listeners"])  # positions among `items`
        if targets.size:
            T_all = tag_features(artist_tags, np.arange(n_items), bool(p["tag_idf"]))
            F, E_t = tag_embedding(T_all, items[targets], int(p["tag_rank"]))
            state["tag_emb"] = F
            state["tag_targets"] = targets.astype(np.int64)
            state["tag_emb_targets"] = E_t
    if p["new_dae"] > 0:
        # the network's input weight of an artist is the kNN profile weight of its level
        lw = state["level_weights"]
        # positions among `items`
        dae_targets = capped_artists(
            cnt[items], int(p["dae_min_listeners"]), int(p["dae_max_artists"])
        )
        Xd = weigh(X[:, items[dae_targets]], "levels")
        Xd.data = lw[Xd.data.astype(np.int64)]
        dae_row = np.full(n_items, -1, np.int32)
        dae_row[items[dae_targets]] = np.arange(dae_targets.size, dtype=np.int32)
        net = set_autoencoder.fit(
            Xd,
            factors=int(p["dae_factors"]),
            iterations=int(p["dae_iterations"]),
            learning_rate=float(p["dae_learning_rate"]),
            batch_size=int(p["dae_batch_size"]),
            max_steps=int(p["dae_max_steps"]),
        )
        state.update({f"dae_{k}": v for k, v in net.items()})
        state["dae_targets"] = dae_targets.astype(np.int64)
        state["dae_row"] = dae_row
    for k in _SCORING_KEYS:
        state[k] = np.array(p[k], np.float32)
    return state


def _max_scale(S: np.ndarray) -> np.ndarray:
    """Rows divided by their max |value| (all-zero rows stay zero); in place."""
    m = np.abs(S).max(axis=-1, keepdims=True)
    S /= np.where(m > 0, m, 1.0)
    return S


def _profile(state: Mapping[str, np.ndarray], rows: sp.csr_matrix) -> sp.csr_matrix:
    """raw rows -> L1-normalised model-input rows."""
    R = _transform_rows(rows, float(state["input_log_a"]), 0.0)
    s = np.asarray(R.sum(1)).ravel()
    return (sp.diags((1.0 / np.maximum(s, 1e-9)).astype(np.float32)) @ R).tocsr()


def _masked_max_scale(S: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Rows divided by their max |value| outside the (rows, cols) cells (known artists); in place."""
    saved = S[rows, cols]
    S[rows, cols] = 0.0
    _max_scale(S)
    S[rows, cols] = saved  # unscaled, but the caller excludes known artists anyway
    return S


def _rp3_matrix(state: Mapping[str, np.ndarray]) -> sp.csr_matrix:
    """The known-user RP3beta transition matrix over the modelled artists."""
    n = state["items"].size
    return sp.csr_matrix(
        (state["rp3_data"], state["rp3_indices"], state["rp3_indptr"]), shape=(n, n)
    )


def _mean_of_friends(friend_adj: sp.csr_matrix) -> sp.csr_matrix:
    """The friend adjacency with rows divided by their degree: ``A @ rows`` is each user's mean
    friend row (users without friends get a zero row)."""
    A = sp.csr_matrix(friend_adj, dtype=np.float32)
    deg = np.asarray(A.sum(1)).ravel()
    return (sp.diags((1.0 / np.maximum(deg, 1.0)).astype(np.float32)) @ A).tocsr()


def known_user_inputs(
    state: Mapping[str, np.ndarray], all_rows: sp.csr_matrix, friend_adj: sp.csr_matrix
) -> dict[str, sp.csr_matrix]:
    """What :func:`score_users` derives from the training data for every known user, computed
    once: model-input profiles, the mean of each user's friends' profiles (both also sliced to
    the modelled artists), the listened modelled artists, the RP3beta matrix.
    Row-wise transforms, so ``out[k][users]`` equals the per-request computation exactly."""
    P = _profile(state, all_rows)
    A = _mean_of_friends(friend_adj)
    FP = (A @ P).tocsr()
    items = state["items"]
    out = {
        "profiles_items": P[:, items].tocsr(),
        "friend_profiles": FP,
        "friend_profiles_items": FP[:, items].tocsr(),
        "listened_items": (sp.csr_matrix(all_rows)[:, items] > 0).astype(np.float32).tocsr(),
    }
    if "rp3_indptr" in state:
        out["rp3"] = _rp3_matrix(state)
    return out


def score_users(
    state: Mapping[str, np.ndarray],
    user_rows: sp.csr_matrix,
    friend_adj: sp.csr_matrix | None = None,
    all_rows: sp.csr_matrix | None = None,
    users: np.ndarray | None = None,
    known: Mapping[str, sp.csr_matrix] | None = None,
) -> np.ndarray:
    """Scores for known users.

    user_rows: (n x artists) raw listen counts of the users to score.
    friend_adj: optional (n x n_users) friend adjacency rows of these users, indexing rows of all_rows.
    all_rows: optional (n_users x artists) raw listen counts of every user (friends' profiles).
    users: the users' row indices in the training data (needed for the ALS blend).
    known: optional :func:`known_user_inputs` of every user (``users`` then indexes them): the
        same scores without recomputing profiles per request.
    Returns dense (n x artists) scores; the caller masks already-known artists.
    """
    cached = known is not None and users is not None
    R = None if cached else _profile(state, user_rows)
    alpha = float(state["friend_alpha"])
    gamma = float(state.get("friend_direct", 0.0))
    n = int(state["n_items"])
    out = np.zeros((user_rows.shape[0], n), np.float32)
    if cached:  # the same sums as below, on rows sliced to the modelled artists beforehand
        R = known["profiles_items"][users]
        if alpha:
            R = R + alpha * known["friend_profiles_items"][users]
        if gamma:
            out += gamma * known["friend_profiles"][users].toarray()
    elif (alpha or gamma) and friend_adj is not None and all_rows is not None:
        A = _mean_of_friends(friend_adj)
        # only the friends' profiles (a row-wise transform): profiling every user of the data set
        # cost ~25 ms per known-user request
        friends = np.unique(A.indices)
        FR = (A[:, friends] @ _profile(state, sp.csr_matrix(all_rows)[friends])).tocsr()
        if alpha:
            R = R + alpha * FR
        if gamma:
            out += gamma * FR.toarray()
    if not cached:
        R = sp.csr_matrix(R)[:, state["items"]]
    out[:, state["items"]] += np.asarray(R @ state["B"])
    seen = sp.csr_matrix(user_rows).tocoo()
    w_als = float(state.get("known_als", 0.0))
    if w_als and users is not None:
        _masked_max_scale(out, seen.row, seen.col)
        als = state["user_factors"][np.asarray(users)] @ state["item_factors"].T
        out += np.float32(w_als) * _masked_max_scale(als, seen.row, seen.col)
    w_rp3 = float(state.get("known_rp3", 0.0))
    if w_rp3 and "rp3_indptr" in state:
        items = state["items"]
        if cached:
            W, listened = known["rp3"], known["listened_items"][users]
        else:
            W = _rp3_matrix(state)
            listened = (sp.csr_matrix(user_rows)[:, items] > 0).astype(np.float32)
        rp3 = np.zeros_like(out)
        rp3[:, items] = (listened @ W).toarray()
        _masked_max_scale(out, seen.row, seen.col)
        out += np.float32(w_rp3) * _masked_max_scale(rp3, seen.row, seen.col)
    out += PRIOR_EPS * state["pop"][None, :]  # tie-break / cold items by popularity
    return out


def _check_request(
    state: Mapping[str, np.ndarray], items: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validated (artists, levels) of one request, level-0 entries dropped."""
    items = np.asarray(items, np.int64).ravel()
    levels = np.asarray(levels, np.int64).ravel()
    if items.shape != levels.shape:
        raise ValueError(f"items and levels differ in length: {items.size} vs {levels.size}")
    n = int(state["n_items"])
    if items.size and (items.min() < 0 or items.max() >= n):
        raise IndexError(f"artist index out of range 0..{n - 1}")
    if levels.size and (levels.min() < 0 or levels.max() > 5):
        raise ValueError("levels must be in 0..5")
    keep = levels > 0
    return items[keep], levels[keep]


def _als_fold_in(
    state: Mapping[str, np.ndarray], items: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Exact ALS user vector for one person: (YtY + Yt(C - I)Y + reg I)^-1 Yt C p."""
    y = state["item_factors"][items].astype(np.float64)
    counts = REPRESENTATIVE_COUNTS[levels].astype(np.float64)
    c = 1.0 + float(state["als_alpha"]) * np.log1p(counts)
    a = state["item_gram"] + (y.T * (c - 1.0)) @ y
    a.flat[:: a.shape[0] + 1] += float(state["als_l2"])
    # symmetric positive definite: Cholesky solve (LAPACK posv), ~3x less overhead than solve()
    _, x, info = lapack.dposv(a, y.T @ c, overwrite_a=1, overwrite_b=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dposv failed: {info}")
    return x


def score_new_user(
    state: Mapping[str, np.ndarray], items: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Fold-in of one new person (low-latency path, no sparse matrices): (artists,) scores.

    items: artist indices; levels: their levels 0..5 (0 = no signal, ignored).
    Score = kNN / max|kNN| + new_dlae * DLAE / max|DLAE| + new_tags * TAGS / max|TAGS|
    + new_dae * NET / max NET + new_als * ALS / max|ALS| (maxima over unrevealed artists; all
    but kNN on the modelled artists only, TAGS on those with >= tag_min_listeners listeners, NET on
    those with >= dae_min_listeners) + new_pop / N^pop_decay * pop.
    """
    items, levels = _check_request(state, items, levels)
    pop = state["pop"]
    n_rev = items.size
    c = float(state["new_pop"]) / max(n_rev, 1) ** float(state["pop_decay"]) + PRIOR_EPS
    out = pop * np.float32(c)
    if not n_rev:
        return out
    # item-kNN: level-weighted sum of the revealed artists' similarity rows (CSR rows gathered)
    flat, lens = csr_row_entries(state["knn_indptr"], items)
    w = np.repeat(state["level_weights"][levels], lens) * state["knn_data"][flat]
    knn = np.bincount(state["knn_indices"][flat], weights=w, minlength=pop.size)
    knn[items] = 0.0
    m = float(knn.max())  # cosine similarities and level weights are >= 0
    if m > 0:
        knn *= 1.0 / m
        out += knn  # in place (float64 -> float32): no temporaries on the request path
    # DLAE, tags and ALS are scored on the modelled artists only (>= min_listeners listeners: the
    # rarer ones never reached the top on validation): summed there, added to `out` once
    mod = state["items"]
    pos = state["item_pos"][items]
    pos = pos[pos >= 0]  # revealed artists outside the modelled set carry no DLAE row
    acc = np.zeros(mod.size, np.float32)
    w_d = float(state.get("new_dlae", 0.0))
    if w_d and "D" in state and pos.size:
        d = state["D"][pos].sum(axis=0)
        d[pos] = 0.0
        _add_max_scaled(acc, d, w_d)
    w_t = float(state.get("new_tags", 0.0))
    if w_t and "tag_emb" in state:
        # tag profile: level-weighted sum of the revealed artists' (embedded) unit tf-idf tag rows;
        # the artists with >= tag_min_listeners listeners score their dot product with it (a cosine
        # up to the profile's norm)
        t = np.zeros(mod.size, np.float32)
        q = state["level_weights"][levels] @ state["tag_emb"][items]
        t[state["tag_targets"]] = state["tag_emb_targets"] @ q
        t[pos] = 0.0
        _add_max_scaled(acc, t, w_t)
    w_ae = float(state.get("new_dae", 0.0))
    if w_ae and "dae_E" in state:
        rows = state["dae_row"][items]
        known = rows >= 0  # revealed artists the network has an input row for
        if known.any():
            net = {k: state[f"dae_{k}"] for k in set_autoencoder.PARAM_KEYS}
            a = np.zeros(mod.size, np.float32)
            a[state["dae_targets"]] = set_autoencoder.scores(
                net, rows[known], state["level_weights"][levels[known]]
            )
            a[pos] = 0.0
            _add_max_scaled(acc, a, w_ae)
    w_als = float(state["new_als"])
    if w_als:
        x = _als_fold_in(state, items, levels).astype(np.float32)
        # BLAS gemv over the contiguous transposed factors (~2-3x faster than einsum's loop).
        # Serving processes run BLAS on one thread (api/server.py): a threaded gemv on busy
        # cores waited for them (p99 > 100 ms measured on the loaded 2-core machine)
        a = x @ state["item_factors_mod_t"]
        a[pos] = 0.0
        _add_max_scaled(acc, a, w_als)
    out[mod] += acc
    return out


def _add_max_scaled(acc: np.ndarray, part: np.ndarray, weight: float) -> None:
    """acc += weight * part / max|part| (in place; an all-zero part adds nothing)."""
    m = max(float(part.max()), -float(part.min()))
    if m > 0:
        part *= np.float32(weight / m)
        acc += part
