"""Report helpers: summary statistics, tables, charts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from artistrec.evaluation.report import markdown_table, summarize, write_outputs


def _runs() -> pd.DataFrame:
    rows = []
    for model, base in (("a", 0.2), ("b", 0.1)):
        for n in (3, 10):
            for fold in range(3):
                rows.append(
                    {
                        "model": model,
                        "protocol": "new-users",
                        "n_revealed": n,
                        "fold": fold,
                        "seed": 0,
                        "k": 10,
                        "n_users": 100,
                        **{
                            m: base + 0.01 * fold
                            for m in (
                                "precision",
                                "recall",
                                "ndcg",
                                "map",
                                "mrr",
                                "hit_rate",
                                "coverage",
                            )
                        },
                        "novelty": 5.0,
                        "train_s": 1.0,
                        "eval_s": 2.0,
                        "latency_median_ms": 3.0 if fold == 0 else np.nan,
                        "latency_p99_ms": 9.0 if fold == 0 else np.nan,
                        "latency_n": 200 if fold == 0 else 0,
                    }
                )
    df = pd.DataFrame(rows)
    df["n_revealed"] = df["n_revealed"].astype("Int64")
    return df


def test_summarize_mean_std_and_single_latency() -> None:
    s = summarize(_runs())
    assert len(s) == 4 and (s["runs"] == 3).all()
    row = s[(s["model"] == "a") & (s["n_revealed"] == 3)].iloc[0]
    assert row["ndcg_mean"] == pytest.approx(0.21)
    assert row["ndcg_std"] == pytest.approx(0.01)  # sample std of 0.20, 0.21, 0.22
    assert row["latency_median_ms_mean"] == 3.0 and np.isnan(row["latency_median_ms_std"])
    assert row["latency_requests"] == 200
    quality = markdown_table(s)
    assert "| a | new-users | 3 | 3 | 0.2100 ± 0.0100 |" in quality
    cost = markdown_table(s, "cost")
    assert cost.count("\n") == 3  # header, rule, one row per model (N collapsed)
    assert "| 3.00 | 9.00 | 200 |" in cost  # latency measured once: no ± shown
    with pytest.raises(ValueError, match="kind"):
        markdown_table(s, "speed")
    with pytest.raises(ValueError, match="no runs"):
        summarize(_runs().iloc[:0])


def test_write_outputs_files(tmp_path: Path) -> None:
    paths = write_outputs(_runs(), tmp_path, meta={"note": "x"})
    names = sorted(p.name for p in paths)
    assert names == [
        "new-users.json",
        "new-users_metrics.png",
        "new-users_ndcg_vs_n.png",
        "new-users_runs.csv",
        "new-users_summary.csv",
    ]
    back = pd.read_csv(tmp_path / "new-users_runs.csv")
    assert len(back) == 12 and back["ndcg"].max() == pytest.approx(0.22)
