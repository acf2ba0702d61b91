"""ALS trained on Spark next to implicit's ALS: warm and new-user NDCG@10, and the fit-time ratio.

Both models get the same parameters (the ``als`` defaults unless ``--params``) and are fitted on
every training split of the chosen protocols by :mod:`artistrec.evaluation.runner` (its splits,
metrics and fold-in protocol: nothing is re-implemented here). ``als`` trains in process with
implicit; ``als-spark`` is :class:`artistrec.models.spark_als.SparkALS` on ``--master``. Writes
the runner's rows (``OUT/spark_als_LABEL_runs.csv``), the paired per-user NDCG differences
(``..._compare.csv``: Spark minus implicit, bootstrap 95 % interval) and prints a markdown table
with the median fit times and their ratio. Timings are wall-clock on whatever else the machine
runs: compare numbers measured in the same run.

    python benchmarks/spark_als.py --label 1x --master 'local[2]'
    artistrec data synthetic /tmp/syn10x --users 18920 --artists 176320
    python benchmarks/spark_als.py --label 10x --data-dir /tmp/syn10x --seeds 0 --folds 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

import artistrec
from artistrec.evaluation.runner import evaluate_detailed
from artistrec.evaluation.stats import compare
from artistrec.models.spark_als import SparkALS, spark_session

IMPLICIT, SPARK = "als", "als-spark"


def run(
    dataset: artistrec.Dataset,
    master: str,
    protocols: Sequence[str],
    seeds: Sequence[int],
    folds: int,
    params: dict,
    latency_requests: int,
    max_users: int | None,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """(runner rows, paired comparisons, seconds to start Spark) for both models."""
    rows, comparisons = [], []
    t0 = time.perf_counter()
    with spark_session(master):
        start_s = time.perf_counter() - t0
        models = {IMPLICIT: artistrec.create_model("als", **params), SPARK: SparkALS(**params)}
        for protocol in protocols:
            options: dict = {"n_folds": folds or None} if protocol == "new-users" else {}
            if protocol == "new-users" and max_users:
                options["max_users"] = max_users
            result = evaluate_detailed(
                dataset,
                models,
                protocol=protocol,
                seeds=seeds,
                latency_requests=latency_requests,
                progress=False,
                **options,
            )
            rows.append(result.summary)
            comparisons.append(compare(result.per_user, SPARK, IMPLICIT, unit="user"))
    return pd.concat(rows, ignore_index=True), pd.concat(comparisons, ignore_index=True), start_s


def _n(value: object) -> int | None:
    """N revealed as an int, None for the warm protocol (NaN / <NA> in the frames)."""
    return None if pd.isna(value) else int(value)


def markdown(runs: pd.DataFrame, comp: pd.DataFrame, label: str, start_s: float) -> str:
    """One row per (protocol, N): NDCG@10 of both, Spark - implicit with its interval, fit times."""
    lines = [
        "| data | protocol | N | NDCG@10 implicit | NDCG@10 Spark | Spark - implicit (95 % CI) "
        "| fit s implicit | fit s Spark | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ["protocol", "n_revealed"]
    intervals = {(c.protocol, _n(c.n_revealed)): c for c in comp.itertuples()}
    for (protocol, n), grp in runs.groupby(keys, dropna=False, sort=False):
        by = grp.groupby("model")
        ndcg = by["ndcg"].mean()
        # every fold is one fit; N values of a fold share it
        fit = grp.drop_duplicates(["model", "fold", "seed"]).groupby("model")["train_s"].median()
        ci = intervals.get((protocol, _n(n)))
        diff = "-" if ci is None else f"{ci.mean_diff:+.4f} ({ci.ci_low:+.4f}, {ci.ci_high:+.4f})"
        lines.append(
            f"| {label} | {protocol} | {_n(n) or ''} | {ndcg[IMPLICIT]:.4f} "
            f"| {ndcg[SPARK]:.4f} | {diff} | {fit[IMPLICIT]:.1f} | {fit[SPARK]:.1f} "
            f"| {fit[SPARK] / fit[IMPLICIT]:.1f}x |"
        )
    lines.append(f"\nSpark session start: {start_s:.1f} s (not in the fit times).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="HetRec-format data (default: as the CLI)")
    ap.add_argument("--master", default="local[2]", help="Spark master URL")
    ap.add_argument("--label", default="1x", help="name of the data set in the outputs")
    ap.add_argument("--protocols", default="warm,new-users")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated split seeds")
    ap.add_argument("--folds", type=int, default=10, help="new-users folds (0: one 20%% hold-out)")
    ap.add_argument("--max-users", type=int, default=None, help="new-users per fold (default all)")
    ap.add_argument("--params", default="{}", help='JSON als parameters, e.g. {"factors": 64}')
    ap.add_argument("--latency-requests", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results-spark"))
    args = ap.parse_args(argv)

    dataset = artistrec.load_dataset(args.data_dir)
    runs, comp, start_s = run(
        dataset,
        args.master,
        [p.strip() for p in args.protocols.split(",") if p.strip()],
        [int(s) for s in args.seeds.split(",") if s.strip()],
        args.folds,
        json.loads(args.params),
        args.latency_requests,
        args.max_users,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / f"spark_als_{args.label}_runs.csv", index=False)
    comp.to_csv(args.out / f"spark_als_{args.label}_compare.csv", index=False)
    print(markdown(runs, comp, args.label, start_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
