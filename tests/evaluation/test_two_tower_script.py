"""benchmarks/two_tower.py: top-k categorical accuracy per protocol, and the loss curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from artistrec.models.neural import torch_available


@pytest.fixture(scope="module")
def script(benchmark_script):  # noqa: ANN001, ANN201
    return benchmark_script("two_tower")


def test_topk_accuracy_for_every_protocol(script, synthetic_dir: Path, tmp_path: Path) -> None:
    args = ["topk", "--models", "popularity", "--seeds", "0", "--folds", "0"]
    assert script.main([*args, "--data-dir", str(synthetic_dir), "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "topk_accuracy.csv")
    assert set(table["protocol"]) == {"warm", "recbole", "new-users"}
    assert set(table["form"]) == {"tfrs", "filtered"}
    assert sorted(table.loc[table["protocol"] == "new-users", "n_revealed"].unique()) == [3, 5, 10]
    acc = table[[f"top_k_acc@{k}" for k in (1, 5, 10, 50, 100)]].to_numpy()
    assert np.all((acc >= 0) & (acc <= 1)) and np.all(np.diff(acc, axis=1) >= 0)
    assert np.all(table["pairs"] > 0)
    # leaving known artists out of the corpus can only move a held-out artist up
    wide = table.fillna({"n_revealed": -1}).pivot_table(
        index=["protocol", "split", "n_revealed"], columns="form", values="top_k_acc@10"
    )
    assert len(wide) == 5 and np.all(wide["filtered"] >= wide["tfrs"])
    summary = pd.read_csv(tmp_path / "topk_accuracy_mean.csv")
    assert len(summary) == len(table)  # one split each


@pytest.mark.skipif(
    not torch_available(), reason="two-tower needs PyTorch: pip install 'artistrec[neural]'"
)
def test_curves_write_history_and_png(script, synthetic_dir: Path, tmp_path: Path) -> None:
    args = ["curves", "--seeds", "0", "--data-dir", str(synthetic_dir), "--out", str(tmp_path)]
    assert script.main(args) == 0
    curves = pd.read_csv(tmp_path / "loss_curves.csv")
    assert {"epoch", "train_loss", "valid_nll", "valid_ndcg", "fit_s", "best_epoch"} <= set(curves)
    assert np.all(np.isfinite(curves["train_loss"]))
    assert (tmp_path / "loss_curves.png").stat().st_size > 1000
