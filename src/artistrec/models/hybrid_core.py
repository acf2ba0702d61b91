"""Hybrid EASE recommender core (pure numpy/scipy).

Model: EASE^R (closed-form item-item ridge regression, Steck 2019) on the artists that
have at least ``min_users`` training listeners, with

* a log-damped input transform of listen counts,
* tag augmentation: the L2-normalised artist x tag matrix (transposed) is stacked under the
  interaction matrix as weighted pseudo-user rows, so co-tagged artists become similar,
* friend smoothing for known users: the user's normalised profile plus ``friend_alpha`` times the
  mean of the friends' normalised profiles is multiplied by B,
* for new users (fold-in from ``{artist_index: level}``): level-weighted profile @ B plus a
  popularity prior whose weight decays with the number of revealed artists.

Every function is vectorised; the learned state is a dict of numpy arrays (npz-serialisable).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

DEFAULT_PARAMS: dict[str, float] = {
    # tuned on validation data carved from training data (see /work/research/tune*.py)
    "lam": 100.0,  # EASE L2 regularisation of B (known users)
    "min_users": 2,  # artists with fewer training listeners are not modelled by B
    "input_log_a": 0.0,  # input value = 1 + a * log1p(count)  (0 -> binary; log hurt on validation)
    "row_norm_p": 0.0,  # rows divided by (row sum)^p before the Gram matrix
    "tag_weight": 10.0,  # weight of tag pseudo-user rows in the Gram matrix of B
    "tag_idf": 1.0,  # 1 -> idf-weight tags before L2 normalising artists
    "lam_new": 1000.0,  # >0: separate, more strongly regularised B_new for new-user fold-in
    "tag_weight_new": 10.0,  # tag weight used for B_new
    "friend_alpha": 0.0,  # known users: weight of mean friends' profile (fed through B)
    "friend_direct": 0.05,  # known users: weight of mean friends' profile added directly to scores
    "pop_beta": 0.005,  # new users: popularity prior weight (multiplied by 1/N^pop_decay)
    "pop_decay": 1.0,
    # new users: profile weight per revealed level 1..5
    "lw1": 0.5,
    "lw2": 1.0,
    "lw3": 1.5,
    "lw4": 2.0,
    "lw5": 2.5,
}


def _input_values(counts: np.ndarray, a: float) -> np.ndarray:
    return (1.0 + a * np.log1p(counts)).astype(np.float32)


def _level_of(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts)
    return np.select(
        [c <= 0, c == 1, c <= 1000, c <= 10000, c <= 50000], [0, 1, 2, 3, 4], 5
    ).astype(np.int64)


def _transform_rows(rows: sp.csr_matrix, a: float, p: float) -> sp.csr_matrix:
    """raw counts -> model input (log-damped values, optional row normalisation)."""
    R = sp.csr_matrix(rows, dtype=np.float32, copy=True)
    R.eliminate_zeros()
    R.data = _input_values(R.data, a)
    if p:
        s = np.asarray(R.sum(1)).ravel()
        R = sp.diags(np.power(np.maximum(s, 1e-9), -p).astype(np.float32)) @ R
    return R.tocsr()


def _tag_features(artist_tags: sp.csr_matrix, items: np.ndarray, idf: float) -> sp.csr_matrix:
    """L2-normalised (optionally idf-weighted) tag rows of the modelled artists."""
    T = sp.csr_matrix(artist_tags, dtype=np.float32)[items]
    T.data = np.log1p(T.data)
    if idf:
        df = np.asarray((T > 0).sum(0)).ravel().astype(np.float32)
        w = np.where(df > 0, np.log((1.0 + T.shape[0]) / (1.0 + df)), 0.0).astype(np.float32)
        T = T @ sp.diags(w)
    n = np.sqrt(np.asarray(T.multiply(T).sum(1)).ravel())
    T = sp.diags((1.0 / np.maximum(n, 1e-9)).astype(np.float32)) @ T
    return T.tocsr()


def _ease(G: np.ndarray, lam: float) -> np.ndarray:
    """EASE closed form from a Gram matrix via Cholesky (float32)."""
    A = np.asfortranarray(G, dtype=np.float32)
    A[np.diag_indices_from(A)] += lam
    c, info = lapack.spotrf(A, lower=0, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"spotrf failed: {info}")
    P, info = lapack.spotri(c, lower=0, overwrite_c=1)
    P = np.triu(P)
    P += np.triu(P, 1).T
    d = np.diag(P).copy()
    B = P / (-d[None, :])
    B[np.diag_indices_from(B)] = 0.0
    return np.ascontiguousarray(B, dtype=np.float32)


def fit(
    interactions: sp.csr_matrix,
    artist_tags: sp.csr_matrix | None = None,
    friends: sp.csr_matrix | None = None,
    params: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Fit the hybrid model.

    interactions: users x artists raw listen counts (csr float32).
    artist_tags: artists x tags assignment counts (csr float32) or None.
    friends: users x users symmetric adjacency (unused at fit time; kept for API symmetry).
    Returns the learned state: dict of numpy arrays.
    """
    p = dict(DEFAULT_PARAMS)
    if params:
        p.update(params)
    X = sp.csr_matrix(interactions, dtype=np.float32)
    n_items = X.shape[1]
    cnt = np.diff(sp.csc_matrix(X > 0).indptr).astype(np.float32)
    items = np.flatnonzero(cnt >= p["min_users"]).astype(np.int64)
    R = _transform_rows(X, p["input_log_a"], p["row_norm_p"])[:, items]
    G = (R.T @ R).toarray()
    GT = None
    if artist_tags is not None and (p["tag_weight"] > 0 or p["tag_weight_new"] > 0):
        T = _tag_features(artist_tags, items, p["tag_idf"])
        GT = (T @ T.T).toarray()
    B_new = None
    if p["lam_new"] > 0:
        Gn = (
            G + p["tag_weight_new"] * GT if GT is not None and p["tag_weight_new"] > 0 else G.copy()
        )
        B_new = _ease(Gn, p["lam_new"])
        del Gn
    if GT is not None and p["tag_weight"] > 0:
        G += p["tag_weight"] * GT
    del GT
    B = _ease(G, p["lam"])
    del G
    if B_new is None:
        B_new = B
    pop = cnt / max(cnt.max(), 1.0)
    item_pos = np.full(n_items, -1, np.int64)
    item_pos[items] = np.arange(len(items))
    state = {
        "items": items,
        "item_pos": item_pos,
        "B": B,
        "B_new": B_new,
        "pop": pop.astype(np.float32),
        "n_items": np.array(n_items, np.int64),
        "level_weights": np.array([0.0] + [p[f"lw{i}"] for i in range(1, 6)], np.float32),
    }
    for k in (
        "input_log_a",
        "row_norm_p",
        "friend_alpha",
        "friend_direct",
        "pop_beta",
        "pop_decay",
    ):
        state[k] = np.array(p[k], np.float32)
    return state


def _profile(state: Mapping[str, np.ndarray], rows: sp.csr_matrix) -> sp.csr_matrix:
    """raw rows -> L1-normalised model-input rows."""
    R = _transform_rows(rows, float(state["input_log_a"]), 0.0)
    s = np.asarray(R.sum(1)).ravel()
    return (sp.diags((1.0 / np.maximum(s, 1e-9)).astype(np.float32)) @ R).tocsr()


def _expand(
    state: Mapping[str, np.ndarray], S_items: np.ndarray, prior: np.ndarray | None
) -> np.ndarray:
    n = int(state["n_items"])
    out = np.zeros((S_items.shape[0], n), np.float32)
    out[:, state["items"]] = S_items
    out += 1e-6 * state["pop"][None, :]  # tie-break / cold items by popularity
    if prior is not None:
        out += prior
    return out


def score_users(
    state: Mapping[str, np.ndarray],
    user_rows: sp.csr_matrix,
    friend_adj: sp.csr_matrix | None = None,
    all_rows: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Scores for known users.

    user_rows: (n x artists) raw listen counts of the users to score.
    friend_adj: optional (n x n_users) friend adjacency rows of these users, indexing rows of all_rows.
    all_rows: optional (n_users x artists) raw listen counts of every user (friends' profiles).
    Returns dense (n x artists) scores; the caller masks already-known artists.
    """
    R = _profile(state, user_rows)
    alpha = float(state["friend_alpha"])
    gamma = float(state.get("friend_direct", 0.0))
    prior = None
    if (alpha or gamma) and friend_adj is not None and all_rows is not None:
        A = sp.csr_matrix(friend_adj, dtype=np.float32)
        deg = np.asarray(A.sum(1)).ravel()
        A = sp.diags((1.0 / np.maximum(deg, 1.0)).astype(np.float32)) @ A
        FR = (A @ _profile(state, all_rows)).tocsr()
        if alpha:
            R = R + alpha * FR
        if gamma:
            prior = gamma * FR.toarray()
    R = sp.csr_matrix(R)[:, state["items"]]
    S = np.asarray(R @ state["B"])
    return _expand(state, S, prior)


def _new_rows(state: Mapping[str, np.ndarray], reqs: list[Mapping[int, int]]) -> sp.csr_matrix:
    lens = np.fromiter((len(r) for r in reqs), np.int64, len(reqs))
    cols = np.fromiter((a for r in reqs for a in r.keys()), np.int64, int(lens.sum()))
    lv = np.fromiter((lvl for r in reqs for lvl in r.values()), np.int64, int(lens.sum()))
    rows = np.repeat(np.arange(len(reqs)), lens)
    vals = state["level_weights"][np.clip(lv, 0, 5)]
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(reqs), int(state["n_items"])))


def score_new_users(state: Mapping[str, np.ndarray], reqs: list[Mapping[int, int]]) -> np.ndarray:
    """Batch fold-in: each request is {artist_index: level (1..5)}. Returns dense scores."""
    R = _new_rows(state, reqs)
    s = np.asarray(R.sum(1)).ravel()
    n = np.diff(R.indptr).astype(np.float32)
    R = sp.diags((1.0 / np.maximum(s, 1e-9)).astype(np.float32)) @ R
    S = np.asarray(sp.csr_matrix(R)[:, state["items"]] @ state["B_new"])
    w = float(state["pop_beta"]) / np.power(np.maximum(n, 1.0), float(state["pop_decay"]))
    return _expand(state, S, w[:, None] * state["pop"][None, :])


def score_new_user(state: Mapping[str, np.ndarray], ratings: Mapping[int, int]) -> np.ndarray:
    """Single-request fold-in (low latency path). Returns (artists,) scores."""
    return score_new_users(state, [ratings])[0]


def recommend_new_user(
    state: Mapping[str, np.ndarray],
    ratings: Mapping[int, int],
    k: int = 10,
    exclude_rated: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Low-latency fold-in + top-k for one new user given {artist_index: level}.

    Returns (artist indices, scores), best first.
    """
    n_items = int(state["n_items"])
    pop = state["pop"]
    idx = np.fromiter(ratings.keys(), np.int64, len(ratings))
    lv = np.clip(np.fromiter(ratings.values(), np.int64, len(ratings)), 0, 5)
    n = max(len(idx), 1)
    c = float(state["pop_beta"]) / n ** float(state["pop_decay"]) + 1e-6
    out = pop * np.float32(c)
    if len(idx):
        w = state["level_weights"][lv]
        w = w / max(float(w.sum()), 1e-9)
        pos = state["item_pos"][idx]
        keep = pos >= 0
        if keep.any():
            out[state["items"]] += w[keep] @ state["B_new"][pos[keep]]
        if exclude_rated:
            out[idx] = -np.inf
    k = min(k, n_items)
    top = np.argpartition(-out, k - 1)[:k]
    top = top[np.argsort(-out[top], kind="stable")]
    return top, out[top]


def similar_items(
    state: Mapping[str, np.ndarray], artist_index: int, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Artists most similar to ``artist_index``: largest EASE weights B[i, :] (how strongly liking i
    predicts j). Artists outside the modelled set have no learned row and get an empty result.

    Returns (artist indices, weights), best first.
    """
    pos = int(state["item_pos"][artist_index])
    if pos < 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    row = state["B_new"][pos]
    k = min(k, len(row) - 1)
    top = np.argpartition(-row, k)[: k + 1]
    top = top[np.argsort(-row[top], kind="stable")]
    top = top[top != pos][:k]
    return state["items"][top], row[top]
