"""Novelty re-ranking: the combined score, its candidate pool, and ties broken by the model."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.service.rerank import NOVELTY_POOL_MIN, NoveltyReranker, pool_size

#: artist index -> listeners; artists 1, 2 and 3 share one count, as do 4 and 5
LISTENERS = np.array([1000, 10, 10, 10, 50, 50, 1])


@pytest.fixture
def reranker() -> NoveltyReranker:
    return NoveltyReranker(LISTENERS)


def test_pool_size() -> None:
    assert pool_size(10, 0.0) == 10
    assert pool_size(10, 0.3) == NOVELTY_POOL_MIN
    assert pool_size(50, 1.0) == 500


def test_without_novelty_the_model_order_stays(reranker: NoveltyReranker) -> None:
    items = np.array([6, 0, 3])
    scores = np.array([3.0, 2.0, 1.0], dtype=np.float32)
    got, s = reranker.rerank(items, scores, 2, 0.0)
    assert got.tolist() == [6, 0] and s.tolist() == [3.0, 2.0]


def test_combined_score(reranker: NoveltyReranker) -> None:
    items = np.array([0, 4, 6])
    scores = np.array([5.0, 3.0, 1.0], dtype=np.float32)
    got, s = reranker.rerank(items, scores, 3, 0.5)
    pop = np.log1p(LISTENERS[items]) / np.log1p(LISTENERS.max())
    expected = 0.5 * np.array([1.0, 0.5, 0.0]) + 0.5 * (1 - pop)
    order = np.argsort(-expected)
    assert got.tolist() == items[order].tolist()
    assert np.allclose(s, expected[order], atol=1e-6) and s.dtype == np.float32


def test_full_novelty_ties_are_broken_by_the_model_score(reranker: NoveltyReranker) -> None:
    # at novelty 1 artists with equal listener counts tie; the candidates arrive in an order
    # that is not the model's (as after filtering or from another ranker)
    items = np.array([1, 5, 3, 4, 2, 0])
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.5, 1.0], dtype=np.float32)
    got, s = reranker.rerank(items, scores, 6, 1.0)
    assert got.tolist() == [3, 2, 1, 4, 5, 0]  # 10 listeners by score, then 50, then 1000
    assert s[0] == s[1] == s[2] and s[3] == s[4] and np.all(np.diff(s) <= 0)


def test_equal_model_scores_and_no_candidates(reranker: NoveltyReranker) -> None:
    items = np.array([0, 6])
    got, _ = reranker.rerank(items, np.ones(2, np.float32), 2, 0.5)
    assert got.tolist() == [6, 0]  # only popularity tells them apart
    empty = np.empty(0, np.int64)
    got, s = reranker.rerank(empty, np.empty(0, np.float32), 5, 1.0)
    assert got.size == 0 and s.size == 0
