"""Item-based neighbourhood model, plus the machinery shared by the item-item families.

``ItemKNN`` scores a user as ``x_u @ S`` where ``S`` is a sparse item-item similarity (cosine
with shrinkage over weighted listen vectors), pruned to each item's ``neighbors`` nearest
neighbours. A new person is folded in exactly like a known one: ``r @ S`` with ``r`` their
levels mapped to representative listen counts and weighted as in training.

The helpers here (input weighting, top-k pruning, popularity tie-break and the
:class:`ItemItemRecommender` base) are reused by :mod:`~artistrec.models.ease` and
:mod:`~artistrec.models.rp3beta`; :mod:`~artistrec.models.als` reuses the weighting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.data.scale import from_levels, to_levels
from artistrec.models.base import Recommender

#: How listen counts become input weights before a model sees them.
WEIGHTINGS = ("binary", "log", "levels", "bm25")

#: BM25 constants (as in implicit's Last.fm example): saturation K1 and length normalisation B.
BM25_K1, BM25_B = 100.0, 0.8

#: Size of the popularity tie-break relative to a row's largest absolute score.
PRIOR_EPS = 1e-6


# ------------------------------------------------------------------------------- weighting
def check_weighting(weighting: str) -> str:
    """Validate a weighting name (clear error for a typo)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    return weighting


def bm25_length_norm(counts: sp.csr_matrix) -> np.ndarray:
    """Per-artist BM25 length normalisation from training counts (artists are the documents)."""
    totals = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    mean = max(float(totals.mean()), 1e-12) if totals.size else 1.0
    return ((1.0 - BM25_B) + BM25_B * totals / mean).astype(np.float32)


def weigh(
    counts: sp.csr_matrix, weighting: str, length_norm: np.ndarray | None = None
) -> sp.csr_matrix:
    """Listen counts (users x artists CSR) -> float32 input weights, same sparsity.

    ``binary``: 1; ``log``: log1p(count); ``levels``: the 1..5 scale; ``bm25``: BM25 with artists
    as documents and listeners as terms (needs ``length_norm`` from :func:`bm25_length_norm`);
    a user's idf is ``log(n_artists) - log1p(n_listened)``, so it is defined for new users too.
    """
    x = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    x.eliminate_zeros()
    data = x.data
    if weighting == "binary":
        x.data = np.ones_like(data)
    elif weighting == "log":
        x.data = np.log1p(data).astype(np.float32)
    elif weighting == "levels":
        x.data = to_levels(data).astype(np.float32)
    elif weighting == "bm25":
        if length_norm is None:
            raise ValueError("bm25 weighting needs the training length norms")
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        idf = np.log(x.shape[1]) - np.log1p(np.diff(x.indptr).astype(np.float64))
        w = data * (BM25_K1 + 1.0) / (BM25_K1 * length_norm[x.indices] + data) * idf[rows]
        x.data = w.astype(np.float32)
    else:
        check_weighting(weighting)
    return x


def ratings_row(items: np.ndarray, levels: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A 1 x n_items CSR of representative listen counts for a new person's levels 1..5."""
    counts = from_levels(np.asarray(levels, dtype=np.int64)).astype(np.float32)
    items = np.asarray(items, dtype=np.int64)
    return sp.csr_matrix(
        (counts, (np.zeros(items.size, np.int64), items)), shape=(1, n_items), dtype=np.float32
    )


# ------------------------------------------------------------------------------- scoring helpers
def listener_counts(counts: sp.spmatrix) -> np.ndarray:
    """Number of listeners per artist (float32)."""
    x = sp.csr_matrix(counts)
    return np.bincount(x.indices[x.data > 0], minlength=x.shape[1]).astype(np.float32)


def popularity_prior(counts: sp.spmatrix) -> np.ndarray:
    """Listener counts scaled to [0, 1]: the tie-break and the cold-start ranking."""
    n = listener_counts(counts)
    return n / max(float(n.max(initial=0.0)), 1.0)


def add_prior(scores: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``scores`` plus a popularity term too small to reorder distinct scores.

    Each row gets ``PRIOR_EPS * max|row| * prior`` (``prior`` itself for an all-zero row), so
    ties (items the model knows nothing about) are ordered by popularity, and a person with no
    signal gets the popularity ranking.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float32))
    scale = np.abs(scores).max(axis=1, keepdims=True)
    scale = np.where(scale > 0, PRIOR_EPS * scale, 1.0).astype(np.float32)
    return scores + scale * prior[None, :]


def prune_rows(m: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row of a sparse matrix (vectorised, ties stable).

    Ties keep the lower column index. Only rows with more than ``k`` entries are sorted (one
    two-key lexsort over their entries; the column order inside a row breaks ties).
    """
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.eliminate_zeros()
    m.sort_indices()
    n = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), n)
    keep = n[rows] <= k
    heavy = np.flatnonzero(~keep)
    if heavy.size:
        order = heavy[np.lexsort((-m.data[heavy], rows[heavy]))]  # by row, then value desc
        r = rows[order]
        rank = np.arange(order.size) - np.searchsorted(r, r, side="left")
        keep[order[rank < k]] = True
    indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=m.shape[0]), out=indptr[1:])
    return sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def zero_diagonal(m: sp.spmatrix) -> sp.csr_matrix:
    """A copy of a square sparse matrix without its diagonal."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.setdiag(0.0)
    m.eliminate_zeros()
    return m


def check_positive(name: str, value: Any, integer: bool = False, allow_zero: bool = False) -> None:
    """Raise a clear ValueError for a hyper-parameter that must be (>=) > 0."""
    numbers = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok_type = isinstance(value, numbers)
    if isinstance(value, bool) or not ok_type or not (value >= 0 if allow_zero else value > 0):
        kind = "integer" if integer else "number"
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} {kind}")


# ------------------------------------------------------------------------------- base class
class ItemItemRecommender(Recommender):
    """Scores are ``weigh(x) @ W`` for a learned item-item matrix ``W`` (plus a popularity tie-break).

    Subclasses set ``self.weighting`` (a parameter) and implement ``_fit_weights(x)`` that stores
    their learned matrix, ``_propagate(x) -> dense (n, n_items)`` and ``_similar_scores``.
    """

    weighting: str

    def _fit(self, dataset: Dataset) -> None:
        check_weighting(self.weighting)
        self.prior_ = popularity_prior(self.seen_)
        self.length_norm_ = bm25_length_norm(self.seen_)
        self._fit_weights(weigh(self.seen_, self.weighting, self.length_norm_))

    def _fit_weights(self, x: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        x = weigh(self.seen_[users], self.weighting, self.length_norm_)
        return add_prior(self._propagate(x), self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        x = weigh(ratings_row(items, levels, self.n_items), self.weighting, self.length_norm_)
        return add_prior(self._propagate(x), self.prior_)[0]

    def _base_state(self) -> dict[str, Any]:
        return {"prior": self.prior_, "length_norm": self.length_norm_}

    def _set_base_state(self, state: dict[str, Any]) -> None:
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.length_norm_ = np.asarray(state["length_norm"], dtype=np.float32)


class ItemKNN(ItemItemRecommender):
    """Item-based k-nearest-neighbours with shrunk cosine similarity.

    ``S_ij = x_i . x_j / (|x_i| |x_j| + shrink)`` over weighted listener vectors, diagonal removed,
    each item keeping its ``neighbors`` most similar items (sparse). Scores ``x_u @ S``.
    """

    name = "item-knn"

    def __init__(
        self, neighbors: int = 1000, shrink: float = 5.0, weighting: str = "binary"
    ) -> None:
        self.neighbors = neighbors
        self.shrink = shrink
        self.weighting = weighting

    def _fit_weights(self, x: sp.csr_matrix) -> None:
        check_positive("neighbors", self.neighbors, integer=True)
        check_positive("shrink", self.shrink, allow_zero=True)
        xc = x.tocsc()
        norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0), dtype=np.float64).ravel())
        co = zero_diagonal(xc.T @ xc).tocoo()
        denom = norms[co.row] * norms[co.col] + float(self.shrink)
        sim = sp.csr_matrix(
            ((co.data / np.maximum(denom, 1e-12)).astype(np.float32), (co.row, co.col)),
            shape=co.shape,
        )
        # row i of prune_rows(sim) = i's nearest neighbours; transposed, column j holds the
        # neighbours used to score j (the matrix is symmetric before pruning).
        self.similarity_ = prune_rows(sim, int(self.neighbors)).T.tocsr()

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:
        return (x @ self.similarity_).toarray().astype(np.float32)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        if measure == "cosine":  # the artist's own nearest neighbours (column of S)
            scores = self.similarity_[:, artist].toarray().ravel()
        else:  # number of shared listeners
            b = (self.seen_ > 0).astype(np.float32)
            scores = (b[:, [artist]].T @ b).toarray().ravel()
        return add_prior(scores, self.prior_)[0]

    def _state(self) -> dict[str, Any]:
        return {**self._base_state(), "similarity": self.similarity_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_base_state(state)
        self.similarity_ = sp.csr_matrix(state["similarity"], dtype=np.float32)
