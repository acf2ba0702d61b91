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
