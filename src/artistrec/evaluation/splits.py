"""Seeded, leak-free train/test splits of the user x artist matrix (vectorised, no user loops).

Three protocols:

- :func:`warm_split`: per-user random hold-out of a fraction of each user's artists (users keep
  the rest in training) -- "known user" recommendation.
- :func:`new_user_holdout` / :func:`new_user_kfold`: whole users removed from training; each
  evaluated held-out user reveals ``N`` random artists with their 1-5 levels (the fold-in
  input) and the rest of their artists is the test set. The revealed sets are nested
  (3 within 5 within 10) and the evaluated user set is the same for every ``N``. By default the
  test set is "everything not revealed" (it shrinks as N grows); with ``fixed_test=True`` it is
  the artists not revealed at the largest N, identical for every N, so a metric-vs-N curve shows
  only the effect of revealing more.
- :func:`recbole_split`: RecBole's random per-user 80/10/10 ratio split (same rounding rules as
  ``recbole.data.dataset.Dataset._calcu_split_ids``) into train / valid / test.

All splits work on a CSR matrix (raw listen counts) and return CSR matrices of the same shape,
so a training set is built with ``dataset.with_interactions(split.train)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from artistrec.data.scale import to_levels

DEFAULT_N_REVEALED: tuple[int, ...] = (3, 5, 10)


# ----------------------------------------------------------------------------- helpers
def _as_csr(interactions: sp.spmatrix) -> sp.csr_matrix:
    if not sp.issparse(interactions):
        raise TypeError("interactions must be a scipy.sparse matrix")
    m = sp.csr_matrix(interactions, dtype=np.float32, copy=True)
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    if m.nnz and m.data.min() < 0:
        raise ValueError("interactions must be non-negative")
    return m


def _check_fraction(name: str, value: float) -> float:
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return float(value)


def _row_of_entry(m: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))


def random_ranks(m: sp.csr_matrix, rng: np.random.Generator) -> np.ndarray:
    """For every stored entry of ``m``, its position 0..n_u-1 in a random order of its row."""
    rows = _row_of_entry(m)
    order = np.lexsort((rng.random(m.nnz), rows))  # rows ascending, random within a row
    ranks = np.empty(m.nnz, dtype=np.int64)
    ranks[order] = np.arange(m.nnz, dtype=np.int64) - m.indptr[rows[order]]
    return ranks


def _select(m: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
    """The entries of ``m`` where ``mask`` (over stored entries) is True, as CSR of the same shape."""
    rows = _row_of_entry(m)
    out = sp.csr_matrix(
        (m.data[mask], (rows[mask], m.indices[mask])), shape=m.shape, dtype=np.float32
    )
    out.sort_indices()
    return out


# ----------------------------------------------------------------------------- warm
@dataclass(frozen=True, eq=False)
class WarmSplit:
    """Known-user split: ``train`` + ``test`` = the input; ``users`` have at least one test item."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    seed: int

    @property
    def users(self) -> np.ndarray:
        return np.flatnonzero(np.diff(self.test.indptr) > 0)


def warm_split(
    interactions: sp.spmatrix, test_fraction: float = 0.2, seed: int = 0, min_items: int = 2
) -> WarmSplit:
    """Hold out ``round(test_fraction * n_u)`` random artists of each user (at least 1, at most n_u - 1).

    Users with fewer than ``min_items`` (>= 2) artists keep everything in training.
    """
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if min_items < 2:
        raise ValueError("min_items must be at least 2 (a user needs a training artist)")
    m = _as_csr(interactions)
    n_u = np.diff(m.indptr)
    n_test = np.clip(np.rint(test_fraction * n_u).astype(np.int64), 1, np.maximum(n_u - 1, 1))
    n_test[n_u < min_items] = 0
    ranks = random_ranks(m, np.random.default_rng(seed))
    is_test = ranks < n_test[_row_of_entry(m)]
    return WarmSplit(train=_select(m, ~is_test), test=_select(m, is_test), seed=seed)


# ----------------------------------------------------------------------------- RecBole
@dataclass(frozen=True, eq=False)
class RecBoleSplit:
    """RecBole-style ratio split: ``train`` / ``valid`` / ``test`` partition the input."""

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    seed: int


def recbole_counts(n: np.ndarray, ratios: Sequence[float]) -> np.ndarray:
    """Per-user (train, valid, test) sizes with RecBole's rounding (``_calcu_split_ids``).

    ``cnt[i] = int(ratio_i * n)`` for valid/test, train takes the rest; then, walking from the
    last part backwards and while train keeps more than one item, a part whose share is in (0, 1)
    gets one item from train.
    """
    n = np.asarray(n, dtype=np.int64)
    r = np.asarray(ratios, dtype=np.float64)
    if r.shape != (3,) or np.any(r <= 0):
        raise ValueError(f"ratios must be three positive numbers, got {ratios!r}")
    r = r / r.sum()
    cnt = np.floor(r[None, :] * n[:, None]).astype(np.int64)
    cnt[:, 0] = n - cnt[:, 1:].sum(axis=1)
    for part in (2, 1):  # RecBole: for i in 1..len-1: cnt[-i]; stops once cnt[0] <= 1
        share = r[part] * n
        bump = (cnt[:, 0] > 1) & (share > 0) & (share < 1)
        cnt[:, part] += bump
        cnt[:, 0] -= bump
    return cnt


def recbole_split(
    interactions: sp.spmatrix, ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> RecBoleSplit:
    """Random per-user split into train/valid/test with RecBole's ``RS: [0.8, 0.1, 0.1]`` rules."""
    m = _as_csr(interactions)
    cnt = recbole_counts(np.diff(m.indptr), ratios)
    ranks = random_ranks(m, np.random.default_rng(seed))
    rows = _row_of_entry(m)
    n_train, n_valid = cnt[rows, 0], cnt[rows, 1]
    is_train = ranks < n_train
    is_valid = ~is_train & (ranks < n_train + n_valid)
    is_test = ~is_train & ~is_valid
    return RecBoleSplit(
        train=_select(m, is_train),
        valid=_select(m, is_valid),
        test=_select(m, is_test),
        seed=seed,
    )


# ----------------------------------------------------------------------------- new users
@dataclass(frozen=True, eq=False)
class NewUserFold:
    """One fold of the new-user protocol.

    ``train`` has every row of ``held_out`` emptied; ``users`` are the held-out users that are
    evaluated (at least ``max(n_revealed) + 1`` artists). ``revealed[N]`` holds N artists of
    each evaluated user as 1-5 levels; ``test[N]`` holds the rest of that user's artists (raw
    counts; with ``fixed_test`` the artists beyond the largest N, the same for every N). Both are
    CSR over the full shape with only ``users``' rows filled.
    """

    fold: int
    seed: int
    train: sp.csr_matrix
    held_out: np.ndarray
    users: np.ndarray
    revealed: dict[int, sp.csr_matrix] = field(repr=False)
    test: dict[int, sp.csr_matrix] = field(repr=False)

    def ratings(self, n: int, user: int) -> dict[int, int]:
        """The fold-in input of one evaluated user: {artist index: level} of its N revealed artists."""
        m = self.revealed[n]
        lo, hi = m.indptr[int(user)], m.indptr[int(user) + 1]
        return dict(zip(m.indices[lo:hi].tolist(), m.data[lo:hi].astype(int).tolist(), strict=True))


def _check_n_revealed(n_revealed: Sequence[int]) -> tuple[int, ...]:
    ns = tuple(sorted({int(n) for n in n_revealed}))
    if not ns or ns[0] < 1:
        raise ValueError(f"n_revealed must be positive integers, got {n_revealed!r}")
    return ns


def _new_user_fold(
    m: sp.csr_matrix,
    held_out: np.ndarray,
    ns: tuple[int, ...],
    rng: np.random.Generator,
    fold: int,
    seed: int,
    min_items: int | None,
    fixed_test: bool = False,
) -> NewUserFold:
    n_u = np.diff(m.indptr)
    need = max(ns) + 1 if min_items is None else int(min_items)
    if need < max(ns) + 1:
        raise ValueError(f"min_items must be at least max(n_revealed) + 1 = {max(ns) + 1}")
    is_held = np.zeros(m.shape[0], dtype=bool)
    is_held[held_out] = True
    rows = _row_of_entry(m)
    entry_held = is_held[rows]
    train = _select(m, ~entry_held)
    users = np.flatnonzero(is_held & (n_u >= need))
    ranks = random_ranks(m, rng)
    entry_eval = entry_held & (n_u >= need)[rows]
    revealed, test = {}, {}
    for n in ns:  # a handful of N values, not users
        rev = _select(m, entry_eval & (ranks < n))
        rev.data = to_levels(rev.data).astype(np.float32)
        revealed[n] = rev
        test[n] = _select(m, entry_eval & (ranks >= (max(ns) if fixed_test else n)))
    return NewUserFold(
        fold=fold,
        seed=seed,
        train=train,
        held_out=np.sort(np.asarray(held_out, dtype=np.int64)),
        users=users,
        revealed=revealed,
        test=test,
    )


def new_user_holdout(
    interactions: sp.spmatrix,
    user_fraction: float = 0.2,
    seed: int = 0,
    n_revealed: Sequence[int] = DEFAULT_N_REVEALED,
    min_items: int | None = None,
    fixed_test: bool = False,
) -> NewUserFold:
    """Remove a random ``user_fraction`` of users from training; evaluate them as new users.

    ``min_items`` defaults to ``max(n_revealed) + 1`` so the same users are scored for every N.
    """
    user_fraction = _check_fraction("user_fraction", user_fraction)
    m = _as_csr(interactions)
    ns = _check_n_revealed(n_revealed)
    rng = np.random.default_rng(seed)
    n_held = max(1, int(round(user_fraction * m.shape[0])))
    held = np.sort(rng.permutation(m.shape[0])[:n_held])
    return _new_user_fold(m, held, ns, rng, 0, seed, min_items, fixed_test)


def new_user_kfold(
    interactions: sp.spmatrix,
    n_folds: int = 10,
    seed: int = 0,
    n_revealed: Sequence[int] = DEFAULT_N_REVEALED,
    min_items: int | None = None,
    fixed_test: bool = False,
) -> list[NewUserFold]:
    """K-fold cross-validation over users: each fold holds out 1/``n_folds`` of the users.

    Every user is held out in exactly one fold. Returns the folds (cheap: a few CSR matrices each).
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    m = _as_csr(interactions)
    if n_folds > m.shape[0]:
        raise ValueError(f"n_folds={n_folds} exceeds the number of users {m.shape[0]}")
    ns = _check_n_revealed(n_revealed)
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(m.shape[0]), n_folds)
    return [
        _new_user_fold(m, np.sort(p), ns, rng, i, seed, min_items, fixed_test)
        for i, p in enumerate(parts)
    ]
