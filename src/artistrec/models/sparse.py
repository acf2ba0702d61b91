"""Sparse-matrix helpers shared by the models: per-row top-k pruning, CSR row gathers,
row-stochastic scaling and diagonal removal (vectorised, no Python loops over rows)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp


def prune_rows(m: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row of a sparse matrix (vectorised, ties stable).

    Ties keep the lower column index. Only rows with more than ``k`` entries are sorted (one
    stable sort of their entries by row and value; the column order inside a row breaks ties).
    """
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.eliminate_zeros()
    m.sort_indices()
    n = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), n)
    keep = n[rows] <= k
    heavy = np.flatnonzero(~keep)
    if heavy.size:
        order = heavy[_row_value_desc_order(rows[heavy], m.data[heavy])]
        r = rows[order]
        rank = np.arange(order.size) - np.searchsorted(r, r, side="left")
        keep[order[rank < k]] = True
    indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=m.shape[0]), out=indptr[1:])
    return sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def _row_value_desc_order(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The stable order by row, then value descending: ``np.lexsort((-values, rows))``, as ONE
    stable sort of a packed int64 key (row << 32 | descending order-preserving bits of the
    float32 value), ~5x faster than the two-key lexsort on 10M entries, the same order."""
    b = np.ascontiguousarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    ordered = np.where(b >= 0, b | 0x80000000, ~b & 0xFFFFFFFF)  # float order as unsigned
    key = (rows.astype(np.int64) << 32) | (0xFFFFFFFF - ordered)
    return np.argsort(key, kind="stable")


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


#: Scalar products one block of :func:`topk_product` may compute (bounds its memory: the
#: unpruned block product holds at most this many entries, ~0.6 GB at 12 bytes each).
BLOCK_PRODUCTS = 50_000_000


def product_blocks(a: sp.csr_matrix, b: sp.csr_matrix, max_products: int) -> list[tuple[int, int]]:
    """Row ranges of ``a`` whose product with ``b`` takes at most ``max_products`` scalar
    products each (a single row may exceed it alone)."""
    n = a.shape[0]
    blen = np.diff(b.indptr).astype(np.float64)
    rows = np.repeat(np.arange(n), np.diff(a.indptr))
    cum = np.cumsum(np.bincount(rows, weights=blen[a.indices], minlength=n))
    blocks, start = [], 0
    while start < n:  # a loop over blocks (a handful), not over rows
        base = cum[start - 1] if start else 0.0
        end = max(int(np.searchsorted(cum, base + max_products, side="right")), start + 1)
        blocks.append((start, min(end, n)))
        start = end
    return blocks


def topk_product(
    a: sp.csr_matrix,
    b: sp.csr_matrix,
    k: int,
    transform: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    max_products: int = BLOCK_PRODUCTS,
) -> sp.csr_matrix:
    """``prune_rows(f(a @ b), k)`` computed by blocks of ``a``'s rows, so the unpruned product
    (e.g. artist x artist co-occurrence over millions of listens) never exists whole.

    ``transform(rows, cols, values) -> values`` (optional) maps each block's entries (global row
    and column indices, float32 values) before pruning; zeros it returns are dropped (e.g. the
    diagonal). With ``k`` >= the row lengths nothing is pruned. Float32 CSR, sorted indices.
    """
    a = sp.csr_matrix(a, dtype=np.float32)
    b = sp.csr_matrix(b, dtype=np.float32)
    data, indices, counts = [], [], []
    for start, end in product_blocks(a, b, max_products):
        block = sp.csr_matrix(a[start:end] @ b, dtype=np.float32)
        if transform is not None:
            rows = np.repeat(np.arange(start, end), np.diff(block.indptr))
            block.data = np.asarray(transform(rows, block.indices, block.data), dtype=np.float32)
        block = prune_rows(block, k)
        data.append(block.data)
        indices.append(block.indices)
        counts.append(np.diff(block.indptr))
        del block
    indptr = np.zeros(a.shape[0] + 1, dtype=np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=indptr[1:])
    out = sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            indptr,
        ),
        shape=(a.shape[0], b.shape[1]),
    )
    out.has_sorted_indices = True
    return out
