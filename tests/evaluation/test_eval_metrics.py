"""Metrics against values computed by hand on tiny examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.evaluation.metrics import (
    coverage,
    evaluate_lists,
    hit_matrix,
    novelty,
    self_information,
    user_metrics,
)

N_ITEMS = 10


def _test_matrix(rows: list[list[int]]) -> sp.csr_matrix:
    r = [i for i, items in enumerate(rows) for _ in items]
    c = [j for items in rows for j in items]
    return sp.csr_matrix((np.ones(len(c), np.float32), (r, c)), shape=(len(rows), N_ITEMS))


RECS = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, -1, -1, -1]])
TEST = _test_matrix([[2, 4, 9], [0], [0]])


def test_user_metrics_hand_values() -> None:
    m = user_metrics(RECS, TEST, k=4)
    # user 0: hits at ranks 2 and 4, |test| = 3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["precision"][0] == pytest.approx(0.5)
    assert m["recall"][0] == pytest.approx(2 / 3)
    assert m["ndcg"][0] == pytest.approx(dcg / idcg)  # 1.061606 / 2.130930
    assert m["ndcg"][0] == pytest.approx(0.498189, abs=1e-6)
    assert m["map"][0] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert m["mrr"][0] == pytest.approx(0.5)
    assert m["hit_rate"][0] == 1.0
    # user 1: no hit
    for name in ("precision", "recall", "ndcg", "map", "mrr", "hit_rate"):
        assert m[name][1] == 0.0
    # user 2: one hit at rank 1 and padding; the ideal list has min(|test|, K) = 1 hit
    assert m["precision"][2] == pytest.approx(0.25)
    assert m["recall"][2] == m["ndcg"][2] == m["map"][2] == m["mrr"][2] == 1.0


def test_k_truncates_lists() -> None:
    m = user_metrics(RECS, TEST, k=2)
    assert m["precision"][0] == pytest.approx(0.5)
    assert m["recall"][0] == pytest.approx(1 / 3)
    # ideal DCG over min(3, 2) = 2 positions
    assert m["ndcg"][0] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["map"][0] == pytest.approx((1 / 2) / 2)


def test_hit_matrix_ignores_padding() -> None:
    h = hit_matrix(RECS, TEST)
    np.testing.assert_array_equal(h[0], [False, True, False, True])
    np.testing.assert_array_equal(h[2], [True, False, False, False])


def test_coverage_and_novelty_hand_values() -> None:
    assert coverage(RECS, N_ITEMS) == pytest.approx(9 / 10)  # artists 0..8, padding ignored
    # 4 training users: artist 0 has 2 listeners, artist 1 has 4, artist 2 has 1, artist 3 none
    train = sp.csr_matrix(
        np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], np.float32)
    )
    info = self_information(train)
    np.testing.assert_allclose(info, [1.0, 0.0, 2.0, 2.0])
    assert novelty(np.array([[0, 1], [2, 3]]), info) == pytest.approx(1.25)


def test_evaluate_lists_summary_is_mean_of_users() -> None:
    train = sp.csr_matrix(np.ones((3, N_ITEMS), np.float32))
    per_user, summary = evaluate_lists(RECS, TEST, train, k=4)
    assert summary["ndcg"] == pytest.approx(np.mean(per_user["ndcg"]))
    assert summary["coverage"] == pytest.approx(0.9)
    assert summary["novelty"] == pytest.approx(0.0)  # every artist listened by every user


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="no test artists"):
        user_metrics(RECS, _test_matrix([[2], [], [0]]))
    with pytest.raises(ValueError, match="k must be"):
        user_metrics(RECS, TEST, k=5)
    with pytest.raises(ValueError, match="rows"):
        user_metrics(RECS[:2], TEST)
    with pytest.raises(ValueError, match="2-D integer"):
        user_metrics(RECS.astype(float), TEST)


# ------------------------------------------------------------------ established implementations
def _random_lists(seed: int, n_users: int = 60, n_items: int = 80, k: int = 10):  # noqa: ANN202
    """Random best-first lists (some shorter than k, -1 padded) and relevant sets (1..30)."""
    rng = np.random.default_rng(seed)
    recs = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    short = rng.random(n_users) < 0.2
    recs[short, k - 3 :] = -1
    rows, cols = [], []
    for u in range(n_users):
        rel = rng.choice(n_items, size=int(rng.integers(1, 31)), replace=False)
        rows += [u] * rel.size
        cols += rel.tolist()
    test = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))
    return recs, test


@pytest.mark.parametrize("seed", range(2))
def test_metrics_match_ranx(seed: int) -> None:
    """precision, recall, NDCG, MRR and hit rate equal ranx's (binary relevance, Järvelin NDCG).
    MAP differs by definition only: ranx (like trec_eval) divides the summed precisions by all
    R relevant artists, we (like RecBole) by min(R, K) -- the best a K-long list can reach."""
    ranx = pytest.importorskip("ranx")
    k = 10
    recs, test = _random_lists(seed, k=k)
    ours = user_metrics(recs, test, k)
    users = [f"u{u:03d}" for u in range(recs.shape[0])]  # sorted like the row order
    qrels = ranx.Qrels({q: {f"a{a}": 1 for a in test[u].indices} for u, q in enumerate(users)})
    run = ranx.Run(
        {
            q: {f"a{a}": float(k - i) for i, a in enumerate(recs[u]) if a >= 0}
            for u, q in enumerate(users)
        }
    )
    names = {
        "precision": "precision",
        "recall": "recall",
        "ndcg": "ndcg",
        "mrr": "mrr",
        "hit_rate": "hit_rate",
    }
    theirs = ranx.evaluate(qrels, run, [f"{m}@{k}" for m in names.values()], return_mean=False)
    for ours_name, theirs_name in names.items():
        np.testing.assert_allclose(ours[ours_name], theirs[f"{theirs_name}@{k}"], atol=1e-12)
    n_rel = np.diff(test.indptr)
    ranx_map = ranx.evaluate(qrels, run, f"map@{k}", return_mean=False)
    np.testing.assert_allclose(ours["map"], ranx_map * n_rel / np.minimum(n_rel, k), atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_ndcg_matches_scikit_learn(seed: int) -> None:
    """Our NDCG@K is scikit-learn's ``ndcg_score`` with binary relevance over the catalogue,
    the list ranked first (scores K..1) and every other artist below it. Only full K-long lists
    are compared: we count a padded slot as a miss, where scikit-learn would share out the gain
    of the tied unranked artists filling it."""
    from sklearn.metrics import ndcg_score

    k = 10
    recs, test = _random_lists(seed, k=k)
    ours = user_metrics(recs, test, k)["ndcg"]
    y_true = test.toarray()
    full = np.flatnonzero((recs >= 0).all(axis=1))
    assert full.size > 30
    for u in full:
        score = np.zeros(test.shape[1])
        score[recs[u]] = np.arange(k, 0, -1)
        assert ours[u] == pytest.approx(ndcg_score(y_true[[u]], score[None, :], k=k), abs=1e-12)
