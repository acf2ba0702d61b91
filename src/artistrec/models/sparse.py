"""Sparse-matrix helpers shared by the models: per-row top-k pruning, CSR row gathers,
row-stochastic scaling and diagonal removal (vectorised, no Python loops over rows)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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


def row_stochastic(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to sum 1 (transition probabilities; empty rows stay empty), float32 CSR."""
    sums = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ m, dtype=np.float32)


def csr_row_entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in a CSR matrix's data/indices of every entry of ``rows`` (in order), and each
    row's entry count: a gather without building scipy matrices (per-request paths)."""
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    flat = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    return flat, lens


def with_tagged(
    X: sp.csr_matrix, known: sp.csr_matrix, listeners: np.ndarray, cap: int
) -> sp.csr_matrix:
    """Binary listens plus each user's ``cap`` most listened artists they know but did not list
    (tagged; ties by artist index). HetRec lists only each user's top-50 listens, and those
    tagged pairs are mostly listens beyond that cut."""
    listened = sp.csr_matrix(X > 0, dtype=np.float32)
    extra = (sp.csr_matrix(known > 0, dtype=np.float32) - listened).tocsr()
    extra.data = np.where(extra.data > 0, listeners[extra.indices] + 1.0, 0.0).astype(np.float32)
    tagged = prune_rows(extra, cap)  # ranks by listeners (+1 keeps unlistened artists non-zero)
    tagged.data[:] = 1.0
    return sp.csr_matrix(listened + tagged, dtype=np.float32)
