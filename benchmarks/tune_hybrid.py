"""Re-tune the default model's blend weights on validation data carved from training data only.

The outer splits are the ones docs/BENCHMARKS.md reports. For each, the test part is removed
first, and :func:`artistrec.evaluation.tune` carves the validation data from what is left:

* ``new-users``: outer 10-fold CV over users (seed 0); inside each chosen fold's training users,
  a 20% user hold-out revealing N = 3/5/10 artists (the metric is the mean over N);
* ``warm``: the outer 20% warm split (per seed); inside its training part a 20% per-user hold-out;
* ``recbole``: the outer RecBole 80/10/10 split (per seed): fit on train, score on valid.

Every candidate is a fresh ``create_model("hybrid", **params).fit(...)``. Results are averaged
over the outer splits and written to ``OUT/tune_<protocol>.csv`` (one row per setting and split)
and ``OUT/tune_<protocol>_summary.csv`` (mean and min over splits, best first).

    python benchmarks/tune_hybrid.py --protocol new-users --folds 0,1,2 --out benchmarks/results-tuning
    python benchmarks/tune_hybrid.py --protocol warm --seeds 0,1 --out benchmarks/results-tuning
    python benchmarks/tune_hybrid.py --protocol recbole --seeds 0,1 --out benchmarks/results-tuning

``--grid '{"new_dlae": [0, 1.5]}'`` replaces the protocol's default grid (JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import artistrec
from artistrec.data import Dataset
from artistrec.evaluation import tune
from artistrec.evaluation.splits import new_user_kfold, recbole_split, warm_split

#: Default grids: the scoring weights each protocol is sensitive to (the shipped values included).
GRIDS: dict[str, dict[str, list[Any]]] = {
    "new-users": {"new_tags": [0.0, 0.6, 1.0, 1.5], "new_dlae": [0.0, 1.0, 1.5]},
    "warm": {"known_rp3": [0.0, 0.2, 0.4], "rp3_beta": [0.5, 0.7]},
    "recbole": {"known_rp3": [0.0, 0.2, 0.4], "rp3_beta": [0.5, 0.7]},
}


def tune_splits(
    dataset: Dataset,
    protocol: str,
    grid: Mapping[str, Sequence[Any]],
    splits: Sequence[int],
    metric: str = "ndcg",
    k: int = 10,
) -> pd.DataFrame:
    """One row per (setting, outer split): the validation ``metric`` of the hybrid with it."""
    x = dataset.interactions
    folds = new_user_kfold(x, n_folds=10, seed=0) if protocol == "new-users" else None
    rows = []
    for s in splits:
        t0 = time.perf_counter()
        if protocol == "new-users":
            train = dataset.with_interactions(folds[s].train)
            res = tune(train, "hybrid", grid, protocol="new-users", metric=metric, k=k, seed=s)
        elif protocol == "warm":
            train = dataset.with_interactions(warm_split(x, test_fraction=0.2, seed=s).train)
            res = tune(train, "hybrid", grid, protocol="warm", metric=metric, k=k, seed=s + 100)
        elif protocol == "recbole":
            r = recbole_split(x, seed=s)
            train = dataset.with_interactions(r.train)
            res = tune(train, "hybrid", grid, metric=metric, k=k, valid=r.valid)
        else:
            raise ValueError(f"unknown protocol {protocol!r}")
        table = res.table.assign(split=s)
        rows.append(table)
        print(
            f"{protocol} split {s}: best {res.best_params} {metric}={res.best_score:.4f} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return pd.concat(rows, ignore_index=True)


def summarize(runs: pd.DataFrame, grid: Mapping[str, Sequence[Any]], metric: str) -> pd.DataFrame:
    """Mean and worst validation metric of each setting over the outer splits, best mean first."""
    keys = list(grid)
    out = runs.groupby(keys, dropna=False)[metric].agg(["mean", "min", "count"]).reset_index()
    return out.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocol", choices=sorted(GRIDS), required=True)
    ap.add_argument("--folds", default="0,1,2", help="outer new-user folds (new-users)")
    ap.add_argument("--seeds", default="0,1", help="outer split seeds (warm, recbole)")
    ap.add_argument("--grid", default=None, help="JSON {param: [values]} (default: per protocol)")
    ap.add_argument("--data-dir", default=None, help="data directory (default: the usual lookup)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", default="benchmarks/results-tuning")
    args = ap.parse_args(argv)
    grid = json.loads(args.grid) if args.grid else GRIDS[args.protocol]
    which = args.folds if args.protocol == "new-users" else args.seeds
    splits = [int(s) for s in which.split(",") if s.strip()]
    dataset = artistrec.load_dataset(args.data_dir)
    runs = tune_splits(dataset, args.protocol, grid, splits, k=args.k)
    summary = summarize(runs, grid, "ndcg")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / f"tune_{args.protocol}.csv", index=False)
    summary.to_csv(out / f"tune_{args.protocol}_summary.csv", index=False)
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
