"""``top_k`` (batched) and ``top_k_1d`` (the per-request path) agree and break ties by index."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from artistrec.models.base import top_k, top_k_1d

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
