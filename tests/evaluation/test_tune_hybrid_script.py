"""benchmarks/tune_hybrid.py: re-tuning the default model on validation carved from training."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):  # noqa: ANN001, ANN201
    return benchmark_script("tune_hybrid")


@pytest.mark.parametrize(
    ("protocol", "split_arg", "grid"),
    [
        ("new-users", ["--folds", "0,1"], {"new_dlae": [0.0, 1.5]}),
        ("warm", ["--seeds", "0"], {"known_rp3": [0.0, 0.2]}),
        ("recbole", ["--seeds", "0,1"], {"known_rp3": [0.0, 0.4]}),
    ],
)
def test_tunes_each_protocol_on_synthetic_data(
    script, synthetic_dir: Path, tmp_path: Path, protocol: str, split_arg: list[str], grid: dict
) -> None:
    args = ["--protocol", protocol, *split_arg, "--grid", json.dumps(grid)]
    args += ["--data-dir", str(synthetic_dir), "--out", str(tmp_path)]
    assert script.main(args) == 0
    runs = pd.read_csv(tmp_path / f"tune_{protocol}.csv")
    summary = pd.read_csv(tmp_path / f"tune_{protocol}_summary.csv")
    n_splits = len(split_arg[1].split(","))
    assert len(runs) == 2 * n_splits and sorted(runs["split"].unique()) == sorted(
        int(s) for s in split_arg[1].split(",")
    )
    assert runs["ndcg"].between(0, 1).all()
    (name,) = grid
    assert sorted(summary[name]) == sorted(grid[name])
    assert (summary["count"] == n_splits).all()
    assert summary["mean"].is_monotonic_decreasing
    assert summary["mean"].max() > 0  # the hybrid finds something on the synthetic data


def test_default_grids_include_the_shipped_values(script) -> None:
    import artistrec

    shipped = artistrec.create_model("hybrid").get_params()
    for grid in script.GRIDS.values():
        for name, values in grid.items():
            assert shipped[name] in values, (name, shipped[name], values)
