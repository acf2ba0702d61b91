"""Real data: the harness gives plausible numbers for the popularity baseline."""

from __future__ import annotations

import pytest

from artistrec.evaluation.runner import evaluate


@pytest.mark.integration
def test_popularity_warm_ndcg_is_plausible(real_ds) -> None:
    df = evaluate(
        real_ds, ["popularity"], protocol="warm", seeds=(0,), latency_requests=20, progress=False
    )
    row = df.iloc[0]
    # measured: NDCG@10 0.0789, recall@10 0.069, coverage 0.0015 (about 26 artists for everyone)
    assert 0.06 < row["ndcg"] < 0.10
    assert 0.05 < row["recall"] < 0.09
    assert row["coverage"] < 0.005
    assert row["n_users"] > 1800
