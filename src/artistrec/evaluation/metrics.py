"""Top-K ranking metrics with binary relevance, vectorised over users.

Conventions (stated because papers and libraries differ):

- ``precision@K`` = hits / K.
- ``recall@K`` = hits / |test| (the standard definition, and RecBole's ``Recall``).
- ``ndcg@K``: DCG with gain 1 and discount ``1/log2(rank + 1)``, divided by the ideal DCG of
  ``min(|test|, K)`` hits (RecBole's ``NDCG``).
- ``map@K``: sum over hit positions of precision@i, divided by ``min(|test|, K)`` (RecBole's ``MAP``).
- ``mrr@K``: 1 / rank of the first hit (0 without a hit).
- ``hit_rate@K``: 1 when at least one hit.
- ``coverage@K`` (list-level): distinct recommended artists / catalogue size.
- ``novelty@K`` (list-level): mean self-information ``-log2(p_i)`` of recommended artists, where
  ``p_i`` is the share of training users who listened to artist i (floored at one listener, so
  artists unseen in training count as the rarest possible).

Recommendation lists may contain ``-1`` padding (a model with fewer than K candidates); padded
slots are never hits and are ignored by coverage and novelty.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Per-user metrics (one value per evaluated user).
USER_METRICS: tuple[str, ...] = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
#: List-level metrics (one value per evaluation run).
LIST_METRICS: tuple[str, ...] = ("coverage", "novelty")
ALL_METRICS: tuple[str, ...] = USER_METRICS + LIST_METRICS


def _check_recs(recs: np.ndarray, k: int | None) -> tuple[np.ndarray, int]:
    recs = np.asarray(recs)
    if recs.ndim != 2 or not np.issubdtype(recs.dtype, np.integer):
        raise ValueError("recs must be a 2-D integer array (users x K) of artist indices")
    k = recs.shape[1] if k is None else int(k)
    if k < 1 or k > recs.shape[1]:
        raise ValueError(f"k must be in 1..{recs.shape[1]} (the list length), got {k}")
    return recs[:, :k].astype(np.int64), k


def hit_matrix(recs: np.ndarray, test: sp.spmatrix) -> np.ndarray:
    """Boolean (n, K): is ``recs[u, i]`` in row ``u`` of ``test`` (rows aligned with ``recs``)."""
    recs = np.asarray(recs, dtype=np.int64)
    test = sp.csr_matrix(test)
    if test.shape[0] != recs.shape[0]:
        raise ValueError(f"test has {test.shape[0]} rows but recs has {recs.shape[0]}")
    if recs.size and recs.max() >= test.shape[1]:
        raise ValueError(f"recommended artist index {recs.max()} >= catalogue size {test.shape[1]}")
    valid = recs >= 0
    rows = np.broadcast_to(np.arange(recs.shape[0])[:, None], recs.shape)
    out = np.zeros(recs.shape, dtype=bool)
    if valid.any():
        vals = np.asarray(test[rows[valid], recs[valid]]).ravel()
        out[valid] = vals > 0
    return out


def user_metrics(
    recs: np.ndarray, test: sp.spmatrix, k: int | None = None
) -> dict[str, np.ndarray]:
    """Per-user precision, recall, NDCG, MAP, MRR and hit rate at ``k`` (float64 arrays).

    ``recs`` is (n, >=k) best-first artist indices; ``test`` is (n, n_artists) with the relevant
    artists of each user as non-zeros. Every user must have at least one test artist.
    """
    recs, k = _check_recs(recs, k)
    test = sp.csr_matrix(test)
    n_rel = np.diff(test.indptr).astype(np.float64)
    if np.any(n_rel == 0):
        raise ValueError(f"{int((n_rel == 0).sum())} user(s) have no test artists; drop them first")
    hits = hit_matrix(recs, test).astype(np.float64)
    n_hits = hits.sum(axis=1)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    discount = 1.0 / np.log2(ranks + 1.0)
    ideal_n = np.minimum(n_rel, k).astype(np.int64)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[ideal_n]
    prec_at_i = np.cumsum(hits, axis=1) / ranks
    first = np.where(n_hits > 0, np.argmax(hits > 0, axis=1) + 1.0, np.inf)
    return {
        "precision": n_hits / k,
        "recall": n_hits / n_rel,
        "ndcg": (hits * discount).sum(axis=1) / ideal,
        "map": (prec_at_i * hits).sum(axis=1) / ideal_n,
        "mrr": 1.0 / first,
        "hit_rate": (n_hits > 0).astype(np.float64),
    }


def coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the catalogue (``n_items`` artists) that appears in at least one list."""
    recs = np.asarray(recs)
    if n_items < 1:
        raise ValueError("n_items must be positive")
    return float(np.unique(recs[recs >= 0]).size) / float(n_items)


def self_information(train: sp.spmatrix) -> np.ndarray:
    """``-log2(listeners_i / n_users)`` per artist from the training matrix (>= 1 listener assumed)."""
    train = sp.csr_matrix(train)
    listeners = np.bincount(train.indices, minlength=train.shape[1]).astype(np.float64)
    n_users = max(int(np.count_nonzero(np.diff(train.indptr))), 1)
    return -np.log2(np.maximum(listeners, 1.0) / n_users)


def novelty(recs: np.ndarray, info: np.ndarray) -> float:
    """Mean self-information (bits) of the recommended artists; ``info`` from :func:`self_information`."""
    recs = np.asarray(recs)
    valid = recs[recs >= 0]
    return float(np.mean(info[valid])) if valid.size else float("nan")


def evaluate_lists(
    recs: np.ndarray, test: sp.spmatrix, train: sp.spmatrix, k: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """All metrics of one run: (per-user arrays, list-level values incl. per-user means)."""
    recs, k = _check_recs(recs, k)
    per_user = user_metrics(recs, test, k)
    summary = {name: float(np.mean(v)) for name, v in per_user.items()}
    summary["coverage"] = coverage(recs, test.shape[1])
    summary["novelty"] = novelty(recs, self_information(train))
    return per_user, summary
