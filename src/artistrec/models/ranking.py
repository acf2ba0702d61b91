"""The one ranking helper every model and every call goes through: top-k with candidates and filters.

:func:`rank` turns scores into a best-first top-k list, like implicit's ``items=`` /
``filter_items=`` and RecTools' shared ranker:

- ``items`` restricts the ranking to a candidate set of column indices,
- ``exclude`` removes column indices.

Each is ``None``, a 1-D array of column indices (the same set for every row), or — for a batch
of score rows — a scipy sparse matrix with one row per score row whose non-zero entries are that
row's set. Ties are broken by the lower column index, the same way for every ``k`` (the top-k
of a longer list starts with the top-k of a shorter one). Scores of ``-inf`` or NaN are never
returned: a 1-D result is shorter than ``k`` when fewer candidates remain, a batch result is
always (n, k) and pads those slots with index ``-1`` and score ``-inf``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

#: A candidate set or an exclusion: column indices, or a sparse matrix of per-row sets.
Filter = npt.ArrayLike | sp.spmatrix | None

#: Vectors longer than this are pre-filtered through a strided sample (see ``_top_candidates``).
_SAMPLE_ABOVE = 4096
#: Stride of that sample: 17,632 scores -> 276 sampled.
_SAMPLE_STRIDE = 64


def _top_candidates(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` largest entries of a long vector (unordered; ties at the cut arbitrary).

    numpy's introselect degrades badly when many entries share one value (~1 ms instead of
    ~0.03 ms for 17,632 scores with 13,000 scattered ties, as a fold-in leaves the artists no
    model part scores). So first keep only the entries above a threshold read off a strided
    sample (about 64 x (k/16 + 2) of them, all of the top k whenever at least k pass), and
    partition those; if fewer than ``k`` pass, partition everything.
    """
    n = scores.size
    if n > _SAMPLE_ABOVE:
        sample = np.sort(scores[::_SAMPLE_STRIDE])
        thr = sample[-min(sample.size, k // 16 + 2)]
        cand = np.flatnonzero(scores > thr)
        if cand.size >= k:
            return cand[np.argpartition(scores[cand], cand.size - k)[cand.size - k :]]
    return np.argpartition(scores, n - k)[n - k :]


def top_k_1d(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest entries of one score vector, best first, ties by
    index (the per-request path: no 2-D bookkeeping, no negated copy)."""
    n = scores.size
    k = min(k, n)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    if k < n:
        part = _top_candidates(scores, k)
        cut = scores[part].min()
        if np.count_nonzero(scores == cut) > np.count_nonzero(scores[part] == cut):
            # a tie straddles the cut: keep the lowest-index tied artists (deterministic in k)
            above = np.flatnonzero(scores > cut)
            part = np.concatenate([above, np.flatnonzero(scores == cut)[: k - above.size]])
    else:
        part = np.arange(n)
    vals = scores[part]
    order = np.lexsort((part, -vals))  # best first; ties by index
    return part[order].astype(np.int64), vals[order].astype(np.float32)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest entries of each row, best first, ties by index
    (vectorised over rows; the same answer as :func:`top_k_1d` row by row)."""
    scores = np.atleast_2d(scores)
    n_rows, n = scores.shape
    k = min(k, n)
    if k <= 0:
        return np.empty((n_rows, 0), np.int64), np.empty((n_rows, 0), np.float32)
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        cut = np.take_along_axis(scores, part, axis=1).min(axis=1)
        in_part = (np.take_along_axis(scores, part, axis=1) == cut[:, None]).sum(axis=1)
        straddle = np.flatnonzero((scores == cut[:, None]).sum(axis=1) > in_part)
        if straddle.size:  # ties across the cut: keep the lowest-index tied entries
            sub, c = scores[straddle], cut[straddle, None]
            above = sub > c
            tied = sub == c
            need = k - above.sum(axis=1)
            take = above | (tied & (np.cumsum(tied, axis=1) <= need[:, None]))
            part[straddle] = np.nonzero(take)[1].reshape(straddle.size, k)
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)  # best first; ties by index
    items = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return items, np.take_along_axis(vals, order, axis=1).astype(np.float32)


# ------------------------------------------------------------------------------- filters
def _indices(values: Filter, n_items: int, what: str) -> np.ndarray:
    """Sorted unique column indices of a 1-D filter (or of a one-row sparse matrix)."""
    if sp.issparse(values):
        m = sp.csr_matrix(values)
        if m.shape != (1, n_items):
            raise ValueError(f"{what} as a sparse matrix must have shape (1, {n_items}) here")
        idx = m.indices[m.data != 0].astype(np.int64)
    else:
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(f"{what} must be a 1-D array of artist indices, got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{what} must hold integer artist indices, got dtype {arr.dtype}")
        idx = arr.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= n_items):
            bad = idx[(idx < 0) | (idx >= n_items)]
            raise IndexError(
                f"{what}: artist index out of range 0..{n_items - 1}: {bad[:5].tolist()}"
            )
    return np.unique(idx)


def _row_sets(values: sp.spmatrix, shape: tuple[int, int], what: str) -> sp.coo_matrix:
    """The non-zero cells of a per-row filter, checked against the score matrix's shape."""
    m = sp.coo_matrix(values)
    if m.shape != shape:
        raise ValueError(f"{what} as a sparse matrix must have shape {shape}, got {m.shape}")
    keep = m.data != 0
    return sp.coo_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=shape)


def rank(
    scores: np.ndarray, k: int, *, items: Filter = None, exclude: Filter = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best-first top-``k`` (column indices, float32 scores) of one score vector or of each row of
    a (n, n_items) batch, restricted to ``items`` and without ``exclude`` (module docstring).

    The caller's ``scores`` are never modified.
    """
    scores = np.asarray(scores, dtype=np.float32)
    if scores.ndim == 1:
        return _rank_1d(scores, k, items, exclude)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 1-D or 2-D, got {scores.ndim}-D")
    return _rank_2d(scores, k, items, exclude)


def _rank_1d(
    scores: np.ndarray, k: int, items: Filter, exclude: Filter
) -> tuple[np.ndarray, np.ndarray]:
    n = scores.size
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), np.float32(-np.inf), scores)
    cand = None if items is None else _indices(items, n, "items")
    if exclude is not None:
        ex = _indices(exclude, n, "exclude")
        if cand is not None:
            cand = np.setdiff1d(cand, ex, assume_unique=True)
        elif ex.size:
            scores = scores.copy()
            scores[ex] = -np.inf
    if cand is None:
        idx, vals = top_k_1d(scores, k)
    else:
        idx, vals = top_k_1d(scores[cand], k)  # cand is sorted: ties stay by index
        idx = cand[idx]
    keep = vals > -np.inf
    return idx[keep], vals[keep]


def _rank_2d(
    scores: np.ndarray, k: int, items: Filter, exclude: Filter
) -> tuple[np.ndarray, np.ndarray]:
    s = np.array(scores, dtype=np.float32, copy=True)
    s[np.isnan(s)] = -np.inf
    cand = None
    if items is not None:
        if sp.issparse(items):
            allowed = _row_sets(items, s.shape, "items")
            mask = np.ones(s.shape, dtype=bool)
            mask[allowed.row, allowed.col] = False
            s[mask] = -np.inf
        else:
            cand = _indices(items, s.shape[1], "items")
    if exclude is not None:
        if sp.issparse(exclude):
            banned = _row_sets(exclude, s.shape, "exclude")
            s[banned.row, banned.col] = -np.inf
        else:
            s[:, _indices(exclude, s.shape[1], "exclude")] = -np.inf
    if cand is None:
        idx, vals = top_k(s, k)
    else:
        idx, vals = top_k(s[:, cand], k)
        idx = cand[idx]
    idx[vals == -np.inf] = -1
    if idx.shape[1] < k:  # fewer columns than k: pad, so a batch result is always (n, k)
        pad = ((0, 0), (0, k - idx.shape[1]))
        idx = np.pad(idx, pad, constant_values=-1)
        vals = np.pad(vals, pad, constant_values=-np.inf)
    return idx, vals
