"""How listen counts become model inputs, and the popularity prior every model breaks ties with.

- :func:`weigh`: listen counts -> input weights (``binary``, ``log``, ``levels`` or ``bm25``);
  :func:`ratings_row` turns a new person's levels 1..5 into the same kind of row.
- :func:`popularity_prior` / :func:`add_prior`: listener counts scaled to [0, 1], added to a
  model's scores with weight :data:`PRIOR_EPS` relative to the row's largest score, so ties
  (artists a model knows nothing about) are ordered by popularity and a person without signal
  gets the popularity ranking.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from artistrec.data.scale import from_levels, to_levels

#: How listen counts become input weights before a model sees them.
WEIGHTINGS = ("binary", "log", "levels", "bm25")

#: BM25 constants (as in implicit's Last.fm example): saturation K1 and length normalisation B.
BM25_K1, BM25_B = 100.0, 0.8

#: Size of the popularity tie-break relative to a row's largest absolute score: small enough
#: never to reorder two distinct float32 scores of similar size (float32 has ~7 digits).
PRIOR_EPS = 1e-6


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


def query_weights(
    items: np.ndarray,
    levels: np.ndarray,
    weighting: str,
    length_norm: np.ndarray | None,
    n_items: int,
) -> np.ndarray:
    """The values of ``weigh(ratings_row(items, levels, n_items), weighting, length_norm)`` for
    ``items`` (levels >= 1), without building sparse matrices (the per-request path)."""
    counts = from_levels(np.asarray(levels, dtype=np.int64)).astype(np.float32)
    if weighting == "binary":
        return np.ones_like(counts)
    if weighting == "log":
        return np.log1p(counts).astype(np.float32)
    if weighting == "levels":
        return to_levels(counts).astype(np.float32)
    if weighting == "bm25":
        if length_norm is None:
            raise ValueError("bm25 weighting needs the training length norms")
        idf = np.log(n_items) - np.log1p(float(counts.size))
        w = counts * (BM25_K1 + 1.0) / (BM25_K1 * length_norm[items] + counts) * idf
        return w.astype(np.float32)
    check_weighting(weighting)
    raise AssertionError("unreachable")


def ratings_row(items: np.ndarray, levels: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A 1 x n_items CSR of representative listen counts for a new person's levels 1..5."""
    counts = from_levels(np.asarray(levels, dtype=np.int64)).astype(np.float32)
    items = np.asarray(items, dtype=np.int64)
    return sp.csr_matrix(
        (counts, (np.zeros(items.size, np.int64), items)), shape=(1, n_items), dtype=np.float32
    )


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


def tie_break(scores: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``scores + PRIOR_EPS * prior``: a fixed-size popularity tie-break, for scores on a known
    scale (at most ~1) where :func:`add_prior`'s per-row scaling is not wanted."""
    return scores + PRIOR_EPS * prior
