"""The ``pipeline`` (fixed blend / LightGBM ranker) against the ``hybrid`` and the best single
models, on the same splits, with paired intervals (t over folds/seeds).

    python benchmarks/pipeline_compare.py --protocol new-users --folds 0,1,2 --out benchmarks/results-pipeline
    python benchmarks/pipeline_compare.py --protocol warm --seeds 0,1,2 --out benchmarks/results-pipeline
    python benchmarks/pipeline_compare.py --protocol recbole --seeds 0,1,2 --out benchmarks/results-pipeline

New users: folds of the 10-fold CV over users (seed 0), N = 3/5/10, every held-out user (or
``--max-users`` per fold). ``--variants`` chooses rows: ``name=model:{json params}`` separated
by ``;`` (default: hybrid, pipeline, pipeline-lgbm, dlae, als). Writes ``OUT/<protocol>_summary.csv``
(mean NDCG@10 per model and N), ``OUT/<protocol>_paired.csv`` (each model minus ``--baseline``)
and ``OUT/<protocol>_runs.csv`` (per fold/seed, with train_s).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

import artistrec
from artistrec.evaluation.runner import evaluate_detailed
from artistrec.evaluation.stats import compare

DEFAULT_VARIANTS = (
    'hybrid=hybrid:{};pipeline=pipeline:{};pipeline-lgbm=pipeline:{"ranker": "lightgbm"};'
    "dlae=dlae:{};als=als:{}"
)


def parse_variants(text: str) -> dict[str, artistrec.models.base.Recommender]:
    out = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        label, spec = item.split("=", 1)
        name, params = spec.split(":", 1)
        out[label] = artistrec.create_model(name, **json.loads(params))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=("new-users", "warm", "recbole"), required=True)
    ap.add_argument("--folds", default="0,1,2", help="new-users: outer folds (of 10) to run")
    ap.add_argument("--seeds", default="0,1,2", help="warm/recbole: split seeds")
    ap.add_argument("--max-users", type=int, default=None)
    ap.add_argument("--variants", default=DEFAULT_VARIANTS)
    ap.add_argument("--baseline", default="pipeline")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results-pipeline"))
    args = ap.parse_args(argv)
    ds = artistrec.load_dataset()
    models = parse_variants(args.variants)
    frames = []
    if args.protocol == "new-users":
        for fold in (int(f) for f in args.folds.split(",")):
            frames.append(_new_user_fold(ds, models, fold, args.max_users))
        per_user = pd.concat([f.per_user for f in frames], ignore_index=True)
        runs = pd.concat([f.summary for f in frames], ignore_index=True)
    else:
        res = evaluate_detailed(
            ds,
            models,
            args.protocol,
            10,
            seeds=[int(s) for s in args.seeds.split(",")],
            latency_requests=0,
            progress=False,
        )
        per_user, runs = res.per_user, res.summary
    args.out.mkdir(parents=True, exist_ok=True)
    tag = args.protocol
    runs.to_csv(args.out / f"{tag}_runs.csv", index=False)
    summary = runs.groupby(["model", "n_revealed"], dropna=False)[["ndcg", "train_s"]].mean()
    summary.to_csv(args.out / f"{tag}_summary.csv")
    # one fold/seed: a bootstrap over users instead of a t interval over folds
    unit = "fold" if runs[["fold", "seed"]].drop_duplicates().shape[0] > 1 else "user"
    paired = pd.concat(
        [compare(per_user, m, args.baseline, unit=unit) for m in models if m != args.baseline],
        ignore_index=True,
    )
    paired.to_csv(args.out / f"{tag}_paired.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)
        print(paired)
    return 0


def _new_user_fold(ds, models, fold, max_users):  # noqa: ANN001, ANN202
    """evaluate_detailed on one outer fold of the 10-fold CV over users (seed 0): the runner has
    no fold selection, so its task list is filtered for the duration of the call."""
    from artistrec.evaluation import runner

    orig = runner._tasks

    def only_fold(*a, **kw):  # noqa: ANN002, ANN003, ANN202
        return [t for t in orig(*a, **kw) if t.fold == fold]

    runner._tasks = only_fold
    try:
        return evaluate_detailed(
            ds,
            models,
            "new-users",
            10,
            seeds=[0],
            n_folds=10,
            latency_requests=0,
            max_users=max_users,
            progress=False,
        )
    finally:
        runner._tasks = orig


if __name__ == "__main__":
    sys.exit(main())
