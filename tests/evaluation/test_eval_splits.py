"""Splits: disjoint, covering, seeded, and no held-out listen in training."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.data.scale import to_levels
from artistrec.evaluation.splits import (
    new_user_holdout,
    new_user_kfold,
    recbole_counts,
    recbole_split,
    warm_split,
)


def _pairs(m: sp.spmatrix) -> set[tuple[int, int]]:
    c = sp.coo_matrix(m)
    return set(zip(c.row.tolist(), c.col.tolist(), strict=True))


def _same(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    return (sp.csr_matrix(a) != sp.csr_matrix(b)).nnz == 0


def test_warm_split_partitions_and_sizes(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    s = warm_split(x, test_fraction=0.2, seed=3)
    assert _same(s.train + s.test, x)  # covers, values intact
    assert not _pairs(s.train) & _pairs(s.test)  # disjoint
    n = np.diff(x.indptr)
    n_test = np.diff(s.test.indptr)
    expected = np.clip(np.rint(0.2 * n), 1, n - 1).astype(int)
    np.testing.assert_array_equal(n_test[n >= 2], expected[n >= 2])
    assert np.all(np.diff(s.train.indptr) >= 1)  # every user keeps a training artist
    assert s.train.dtype == np.float32


def test_warm_split_small_users_stay_in_train() -> None:
    x = sp.csr_matrix(np.array([[5, 0, 0], [1, 2, 0], [0, 0, 0]], dtype=np.float32))
    s = warm_split(x, test_fraction=0.5, seed=0)
    assert s.test.getrow(0).nnz == 0 and s.train.getrow(0).nnz == 1
    assert s.test.getrow(1).nnz == 1 and s.train.getrow(1).nnz == 1
    np.testing.assert_array_equal(s.users, [1])


def test_warm_split_seeded(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    a, b, c = (warm_split(x, seed=s) for s in (0, 0, 1))
    assert _same(a.test, b.test)
    assert not _same(a.test, c.test)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (50, (40, 5, 5)),
        (10, (8, 1, 1)),
        (15, (13, 1, 1)),
        (5, (3, 1, 1)),
        (2, (1, 0, 1)),
        (1, (1, 0, 0)),
    ],
)
def test_recbole_counts_match_recbole_rounding(n: int, expected: tuple[int, int, int]) -> None:
    # values worked out by hand from RecBole's Dataset._calcu_split_ids
    np.testing.assert_array_equal(recbole_counts(np.array([n]), (0.8, 0.1, 0.1))[0], expected)


def test_recbole_split_partitions(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    r = recbole_split(x, seed=1)
    assert _same(r.train + r.valid + r.test, x)
    tr, va, te = _pairs(r.train), _pairs(r.valid), _pairs(r.test)
    assert not (tr & va) and not (tr & te) and not (va & te)
    cnt = recbole_counts(np.diff(x.indptr), (0.8, 0.1, 0.1))
    np.testing.assert_array_equal(np.diff(r.test.indptr), cnt[:, 2])
    np.testing.assert_array_equal(np.diff(r.valid.indptr), cnt[:, 1])
    assert _same(recbole_split(x, seed=1).test, r.test)
    assert not _same(recbole_split(x, seed=2).test, r.test)


def test_new_user_kfold_holds_every_user_out_once_and_never_trains_on_them(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    folds = new_user_kfold(x, n_folds=5, seed=0, n_revealed=(3, 5, 10))
    held = np.concatenate([f.held_out for f in folds])
    np.testing.assert_array_equal(np.sort(held), np.arange(x.shape[0]))
    n_u = np.diff(x.indptr)
    for f in folds:
        # no listen of a held-out user is in training; everyone else's listens all are
        assert np.all(np.diff(f.train.indptr)[f.held_out] == 0)
        others = np.setdiff1d(np.arange(x.shape[0]), f.held_out)
        assert _same(f.train[others], x[others])
        # evaluated users: held out, >= max(N) + 1 artists, the same set for every N
        assert set(f.users) <= set(f.held_out)
        np.testing.assert_array_equal(f.users, f.held_out[n_u[f.held_out] >= 11])
        prev: set[tuple[int, int]] = set()
        for n in (3, 5, 10):
            rev, test = f.revealed[n], f.test[n]
            assert np.all(np.diff(rev.indptr)[f.users] == n)
            assert not _pairs(rev) & _pairs(test)
            mask = np.zeros(x.shape[0], dtype=np.float32)
            mask[f.users] = 1.0
            full = sp.diags(mask) @ x  # the evaluated users' rows only
            assert _pairs(rev) | _pairs(test) == _pairs(full)
            # revealed values are the 1-5 levels of the real counts
            rc = sp.coo_matrix(rev)
            np.testing.assert_array_equal(rc.data, to_levels(np.asarray(x[rc.row, rc.col]).ravel()))
            assert prev <= _pairs(rev)  # nested: 3 within 5 within 10
            prev = _pairs(rev)
            assert not _pairs(test) & _pairs(f.train)


def test_new_user_holdout_fraction_and_seed(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    f = new_user_holdout(x, user_fraction=0.25, seed=4)
    assert f.held_out.size == 50
    assert np.all(np.diff(f.train.indptr)[f.held_out] == 0)
    g = new_user_holdout(x, user_fraction=0.25, seed=4)
    np.testing.assert_array_equal(f.held_out, g.held_out)
    assert _same(f.revealed[5], g.revealed[5])
    assert not np.array_equal(new_user_holdout(x, 0.25, seed=5).held_out, f.held_out)
    ratings = f.ratings(5, int(f.users[0]))
    assert len(ratings) == 5 and all(1 <= v <= 5 for v in ratings.values())


def test_split_arguments_are_checked(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    with pytest.raises(ValueError, match="test_fraction"):
        warm_split(x, test_fraction=1.0)
    with pytest.raises(ValueError, match="n_folds"):
        new_user_kfold(x, n_folds=1)
    with pytest.raises(ValueError, match="min_items"):
        new_user_holdout(x, n_revealed=(3, 10), min_items=5)
    with pytest.raises(ValueError, match="ratios"):
        recbole_split(x, ratios=(0.8, 0.2))
    with pytest.raises(TypeError, match="sparse"):
        warm_split(np.ones((3, 3)))


def test_new_user_fixed_test_is_the_same_for_every_n(synthetic_ds) -> None:
    x = synthetic_ds.interactions
    f = new_user_holdout(x, user_fraction=0.3, seed=2, fixed_test=True)
    g = new_user_holdout(x, user_fraction=0.3, seed=2)
    assert _same(f.test[3], f.test[10]) and _same(f.test[10], g.test[10])
    assert _same(f.revealed[3], g.revealed[3])
    assert not _pairs(f.test[3]) & _pairs(f.revealed[10])
    assert g.test[3].nnz == f.test[3].nnz + 7 * f.users.size  # default: the rest after N = 3
