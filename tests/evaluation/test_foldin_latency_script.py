"""benchmarks/foldin_latency.py: in-process timing of single new-user requests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):  # noqa: ANN001, ANN201
    return benchmark_script("foldin_latency")


def test_times_every_model_and_repeat_on_synthetic_data(
    script, synthetic_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--models", "popularity,default", "--requests", "30", "--ratings", "5"]
    assert script.main([*args, "--repeats", "2", "--data-dir", str(synthetic_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t") == ["model", "fit_s", "repeat", "median_ms", "p99_ms", "requests"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], r[2]) for r in rows] == [
        ("popularity", "0"),
        ("popularity", "1"),
        ("hybrid", "0"),
        ("hybrid", "1"),
    ]
    for r in rows:
        med, p99 = float(r[3]), float(r[4])
        assert math.isfinite(med) and 0 < med <= p99
        assert int(r[5]) == 30
