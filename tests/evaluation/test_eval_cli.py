"""`artistrec evaluate` end-to-end on the synthetic data (Typer CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from artistrec.cli import app

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_evaluate_new_users_writes_csv_json_png(synthetic_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--protocol", "new-users",
            "--models", "popularity",
            "--k", "5",
            "--seeds", "0",
            "--folds", "2",
            "--latency-requests", "3",
            "--data-dir", str(synthetic_dir),
            "--out", str(out),
            "--no-progress",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "ndcg@5" in res.output and "popularity" in res.output
    runs = pd.read_csv(out / "new-users_runs.csv")
    assert len(runs) == 2 * 3 and set(runs["n_revealed"]) == {3, 5, 10}
    doc = json.loads((out / "new-users.json").read_text())
    assert doc["meta"]["protocol"] == "new-users" and doc["meta"]["seeds"] == [0]
    assert len(doc["summary"]) == 3 and len(doc["runs"]) == 6
    for png in ("new-users_metrics.png", "new-users_ndcg_vs_n.png"):
        assert (out / png).read_bytes()[:8] == PNG_MAGIC


def test_evaluate_warm_with_params(synthetic_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--models", "popularity",
            "--params", '{"popularity": {"by": "plays"}}',
            "--seeds", "0,1",
            "--latency-requests", "0",
            "--data-dir", str(synthetic_dir),
            "--out", str(tmp_path),
            "--no-progress",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(tmp_path / "warm_summary.csv")
    assert summary.loc[0, "runs"] == 2 and summary.loc[0, "protocol"] == "warm"
    assert (tmp_path / "warm_metrics.png").read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "warm_ndcg_vs_n.png").exists()


def test_evaluate_rejects_bad_options(synthetic_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["evaluate", "--data-dir", str(synthetic_dir), "--out", str(tmp_path), "--no-progress"]
    bad = runner.invoke(app, [*base, "--protocol", "cold"])
    # usage errors: exit 2, refused before any data loads
    assert bad.exit_code == 2 and "protocol" in bad.output
    bad = runner.invoke(app, [*base, "--models", "nope"])
    assert bad.exit_code == 2 and "unknown model" in bad.output
    bad = runner.invoke(app, [*base, "--seeds", "a,b"])
    assert bad.exit_code == 2 and "seeds" in bad.output
    bad = runner.invoke(app, [*base, "--models", "popularity", "--params", '{"als": {}}'])
    assert bad.exit_code == 2 and "als" in bad.output
    assert not list(tmp_path.iterdir())
