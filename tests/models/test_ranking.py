"""The one ranking helper: ``top_k`` (batched) and ``top_k_1d`` (the per-request path) agree and
break ties by index; ``rank`` restricts to candidates and drops exclusions like a reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from artistrec.models.ranking import rank, top_k, top_k_1d

scores_strategy = st.lists(
    st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0, -np.inf]), min_size=1, max_size=40
).map(lambda v: np.asarray(v, np.float32))


@settings(max_examples=300, deadline=None)
@given(scores=scores_strategy, k=st.integers(1, 50))
def test_top_k_1d_is_best_first_with_ties_by_index(scores: np.ndarray, k: int) -> None:
    items, vals = top_k_1d(scores, k)
    expected = np.lexsort((np.arange(scores.size), -scores))[:k]
    np.testing.assert_array_equal(items, expected)
    np.testing.assert_array_equal(vals, scores[expected])
    assert items.dtype == np.int64 and vals.dtype == np.float32
    # the batched version returns the same scores in the same order
    np.testing.assert_array_equal(top_k(scores[None, :], k)[1][0], vals)


def test_top_k_1d_is_consistent_across_k() -> None:
    scores = np.zeros(1000, np.float32)
    scores[::7] = 1.0
    for k in (5, 20, 21, 200):
        items, _ = top_k_1d(scores, k)
        np.testing.assert_array_equal(items, top_k_1d(scores, k + 1)[0][:k])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(4097, 20000),
    k=st.integers(1, 600),
    tied=st.floats(0.0, 1.0),
)
def test_top_k_1d_on_long_vectors_with_many_ties(seed: int, n: int, k: int, tied: float) -> None:
    """The sampled pre-filter of long vectors never changes the answer (ties, -inf, few highs)."""
    rng = np.random.default_rng(seed)
    scores = rng.choice([0.0, 0.5, 1.0], size=n).astype(np.float32)  # heavy ties everywhere
    unique = rng.random(n) > tied
    scores[unique] = rng.random(int(unique.sum()), dtype=np.float32)
    scores[rng.random(n) < 0.01] = -np.inf
    items, vals = top_k_1d(scores, k)
    expected = np.lexsort((np.arange(n), -scores))[:k]
    np.testing.assert_array_equal(items, expected)
    np.testing.assert_array_equal(vals, scores[expected])


def test_top_k_1d_partitions_only_a_sample_of_a_tied_vector(monkeypatch) -> None:  # noqa: ANN001
    """Not a timing test: introselect must not run over the 13,000 tied entries (that made one
    fold-in take ~1 ms); only the few entries above the sampled threshold are partitioned."""
    rng = np.random.default_rng(0)
    scores = rng.random(17632).astype(np.float32)
    scores[rng.choice(17632, 13000, replace=False)] = 0.001
    sizes: list[int] = []
    real = np.argpartition

    def spy(a, kth, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        sizes.append(np.asarray(a).size)
        return real(a, kth, *args, **kwargs)

    monkeypatch.setattr(np, "argpartition", spy)
    items, _ = top_k_1d(scores, 10)
    np.testing.assert_array_equal(items, np.argsort(-scores, kind="stable")[:10])
    assert sizes and max(sizes) < 1000


def _reference(scores: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best first among ``allowed`` finite entries, ties by index: a plain full sort."""
    idx = np.flatnonzero(allowed & (scores > -np.inf))
    order = idx[np.lexsort((idx, -scores[idx]))][:k]
    return order, scores[order]


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_rows=st.integers(1, 6),
    n=st.integers(1, 60),
    k=st.integers(1, 70),
)
def test_top_k_rows_are_top_k_1d_with_ties_by_index(seed: int, n_rows: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.choice([0.0, 0.5, 1.0, 2.0, -np.inf], size=(n_rows, n)).astype(np.float32)
    items, vals = top_k(scores, k)
    assert items.shape == (n_rows, min(k, n))
    for r in range(n_rows):
        expected = np.lexsort((np.arange(n), -scores[r]))[:k]
        np.testing.assert_array_equal(items[r], expected)
        np.testing.assert_array_equal(items[r], top_k_1d(scores[r], k)[0])
        np.testing.assert_array_equal(vals[r], scores[r, expected])


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 80), k=st.integers(1, 90))
def test_rank_with_candidates_and_exclusions_matches_a_full_sort(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.choice([0.0, 0.25, 1.0, 3.0, -np.inf, np.nan], size=n).astype(np.float32)
    cand = rng.choice(n, size=rng.integers(0, n + 1))  # duplicates allowed
    banned = rng.choice(n, size=rng.integers(0, n + 1))
    clean = np.where(np.isnan(scores), -np.inf, scores)
    everything = np.ones(n, bool)
    for items, exclude, allowed in (
        (None, None, everything),
        (cand, None, np.isin(np.arange(n), cand)),
        (None, banned, ~np.isin(np.arange(n), banned)),
        (cand, banned, np.isin(np.arange(n), cand) & ~np.isin(np.arange(n), banned)),
    ):
        got, vals = rank(scores, k, items=items, exclude=exclude)
        expected, expected_vals = _reference(clean, k, allowed)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(vals, expected_vals)
        # a batch of the same row, with the same filters per row, gives the same list, padded
        batch = np.vstack([scores, scores])
        per_row = None if items is None else sp.csr_matrix(np.vstack([allowed, allowed]))
        b_items, b_vals = rank(batch, k, items=per_row, exclude=exclude)
        assert b_items.shape == (2, k)
        np.testing.assert_array_equal(b_items[1, : got.size], got)
        assert np.all(b_items[:, got.size :] == -1) and np.all(np.isneginf(b_vals[:, got.size :]))


def test_rank_leaves_the_scores_alone_and_rejects_bad_filters() -> None:
    scores = np.array([0.5, 2.0, 1.0], np.float32)
    before = scores.copy()
    assert rank(scores, 2, exclude=[1])[0].tolist() == [2, 0]
    np.testing.assert_array_equal(scores, before)
    with pytest.raises(IndexError, match="out of range"):
        rank(scores, 2, items=[3])
    with pytest.raises(TypeError, match="integer"):
        rank(scores, 2, exclude=[0.5])
    with pytest.raises(ValueError, match="1-D"):
        rank(scores, 2, items=[[0, 1]])
    with pytest.raises(ValueError, match="shape"):
        rank(np.vstack([scores, scores]), 2, exclude=sp.csr_matrix((3, 3)))
