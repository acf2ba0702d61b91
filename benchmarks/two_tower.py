"""Two-tower benchmarks: loss curves of a fit, and the original's top-k categorical accuracy.

``curves``: fits ``two-tower`` on the whole data set (one fit per ``--seeds`` value), prints
the fit time and best epoch, and writes every epoch's training loss, full-softmax NLL of
training and validation users and validation NDCG@10 to ``OUT/loss_curves.csv`` and
``OUT/loss_curves.png``.

``topk``: the top-1/5/10/50/100 categorical accuracy of TFRS's FactorizedTopK
(:mod:`artistrec.evaluation.topk_accuracy`) on held-out (user, artist) pairs of the same splits
``artistrec evaluate`` uses: warm and RecBole (per ``--seeds``) and new users (``--folds`` of
the 10-fold CV with seed 0, N = 3/5/10 revealed). Both the TFRS form (the whole catalogue is the
corpus) and the filtered form (the user's training / revealed artists left out) are written to
``OUT/topk_accuracy.csv`` (one row per model, protocol, split, N and form) and summarised (mean
over splits) in ``OUT/topk_accuracy_mean.csv`` (not ``*_summary.csv``: the web app reads those
as protocol summaries of ``artistrec evaluate``).

``tune``: validation NDCG@10 of two-tower settings (``--grid``, JSON {param: [values]}) on data
carved from the TRAINING part of outer splits only: for new users, inside the training users of
folds ``--folds`` of the 10-fold CV (seed 0), a 20% user hold-out revealing N = 3/5/10; for
warm, inside the training part of the 20% warm split (``--seeds``), a 20% per-user hold-out.
Writes ``OUT/tune.csv`` (one row per setting, protocol and split, with the fit's best epoch).

    python benchmarks/two_tower.py curves --seeds 0,1,2 --out benchmarks/results-two-tower
    python benchmarks/two_tower.py topk --models two-tower,set-autoencoder,als,popularity \\
        --seeds 0,1,2 --folds 0,1,2 --out benchmarks/results-two-tower
    python benchmarks/two_tower.py tune --protocols new-users,warm --grid '{"patience": [10, 20]}'

``latency``: single new-user requests (10 rated artists of random users, k=10, one BLAS thread,
as ``benchmarks/foldin_latency.py``) timed both in wall time and in the calling thread's CPU time
(``time.thread_time``), median and p99 per model. On a machine shared with other jobs, a request
that straddles a scheduler time slice gains milliseconds of wall time; its CPU time does not,
so the CPU-time p99 is the request's own cost.

    python benchmarks/two_tower.py latency --models set-autoencoder,two-tower --requests 2000

``report``: Markdown for docs/BENCHMARKS.md from those files and ``artistrec evaluate``'s
outputs in OUT: the standard metrics and costs per protocol, paired NDCG@10 differences against
models of earlier result directories (``--compare``, same seeded splits; the later directory
wins), the top-k accuracy tables and the loss-curve numbers. Nothing is typed by hand.

    python benchmarks/two_tower.py report --out benchmarks/results-two-tower \
        --compare benchmarks/results,benchmarks/results-known,benchmarks/results-set-autoencoder
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import artistrec
from artistrec.data import Dataset
from artistrec.evaluation import evaluate
from artistrec.evaluation.splits import new_user_kfold, recbole_split, warm_split
from artistrec.evaluation.topk_accuracy import TOPK_KS, higher_counts
from artistrec.models.base import Recommender
from artistrec.models.two_tower import HISTORY_COLUMNS, TwoTower


# ----------------------------------------------------------------------------- curves
def curves(dataset: Dataset, seeds: Sequence[int], out: Path) -> pd.DataFrame:
    """Fit on all the data once per seed; the per-epoch history of each fit."""
    frames = []
    for seed in seeds:
        t0 = time.perf_counter()
        model = artistrec.create_model("two-tower", random_state=seed).fit(dataset)
        fit_s = time.perf_counter() - t0
        hist = pd.DataFrame(model.history_, columns=list(HISTORY_COLUMNS))
        hist["epoch"] = hist["epoch"].astype(int)
        frames.append(hist.assign(seed=seed, fit_s=fit_s, best_epoch=model.best_epoch_))
        print(
            f"seed {seed}: fit {fit_s:.1f} s, {len(hist)} epochs, best epoch "
            f"{model.best_epoch_} (valid NDCG@10 {hist['valid_ndcg'].max():.4f})",
            flush=True,
        )
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / "loss_curves.csv", index=False)
    _plot_curves(table, out / "loss_curves.png")
    return table


def _plot_curves(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    styles = {"train_loss": "-", "train_nll": "--", "valid_nll": ":"}
    labels = {
        "train_loss": "training loss (sampled softmax, logQ-corrected)",
        "train_nll": "training users, full-softmax NLL",
        "valid_nll": "validation users, full-softmax NLL",
    }
    for i, (seed, grp) in enumerate(table.groupby("seed")):
        color = f"C{i}"
        for col, style in styles.items():
            ax1.plot(
                grp["epoch"], grp[col], style, color=color, label=f"{labels[col]} (seed {seed})"
            )
        ax2.plot(grp["epoch"], grp["valid_ndcg"], color=color, label=f"seed {seed}")
        best = int(grp["best_epoch"].iloc[0])
        ax2.axvline(best, color=color, alpha=0.3)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss (nats)")
    ax1.set_title("two-tower: training and validation loss")
    ax1.legend(fontsize=6)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("NDCG@10")
    ax2.set_title("validation NDCG@10 (vertical: restored best epoch)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- top-k accuracy
def _known_scores(model: Recommender, users: np.ndarray) -> np.ndarray:
    """Every artist's score for known ``users`` through the public API (no exclusion)."""
    n = model.n_items
    items, vals = model.recommend(users, k=n, exclude_seen=False)
    out = np.empty((users.size, n), np.float64)
    np.put_along_axis(out, items, vals.astype(np.float64), axis=1)
    return out


def _new_scores(model: Recommender, ratings: dict[int, int]) -> np.ndarray:
    n = model.n_items
    items, vals = model.recommend_new_user(ratings, k=n, exclude_rated=False)
    out = np.full(n, -np.inf)
    out[items] = vals
    return out


def _accuracy(counts: np.ndarray) -> dict[str, float]:
    row = {f"top_k_acc@{k}": float(np.mean(counts < k)) for k in TOPK_KS}
    row["pairs"] = int(counts.size)
    return row


def _known_counts(
    model: Recommender, test: sp.csr_matrix, exclude: sp.csr_matrix, chunk: int = 256
) -> dict[str, np.ndarray]:
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    tfrs, filtered = [], []
    for s in range(0, users.size, chunk):  # chunks of users keep the dense score block small
        u = users[s : s + chunk]
        scores = _known_scores(model, u)
        tfrs.append(higher_counts(scores, test[u]))
        filtered.append(higher_counts(scores, test[u], exclude[u]))
    return {"tfrs": np.concatenate(tfrs), "filtered": np.concatenate(filtered)}


def topk(
    dataset: Dataset,
    models: Sequence[str],
    seeds: Sequence[int],
    folds: Sequence[int],
    protocols: Sequence[str],
) -> pd.DataFrame:
    """One row per (model, protocol, split, N, form) with the accuracies and the pair count."""
    x = dataset.interactions
    rows = []

    def add(name: str, protocol: str, split: int, n: int | None, counts: dict[str, np.ndarray]):
        for form, c in counts.items():
            rows.append(
                {"model": name, "protocol": protocol, "split": split, "n_revealed": n,
                 "form": form, **_accuracy(c)}
            )  # fmt: skip

    for protocol in protocols:
        if protocol == "new-users":
            all_folds = new_user_kfold(x, n_folds=10, seed=0)
            for f in folds:
                fold = all_folds[f]
                train = dataset.with_interactions(fold.train)
                for name in models:
                    model = artistrec.create_model(name).fit(train)
                    for n in sorted(fold.revealed):
                        test = fold.test[n]
                        tfrs, filtered = [], []
                        for u in fold.users:  # one request per person, as the protocol serves
                            ratings = fold.ratings(n, int(u))
                            scores = _new_scores(model, ratings)[None, :]
                            pos = test[[u]]
                            rated = sp.csr_matrix(
                                (
                                    np.ones(len(ratings)),
                                    (np.zeros(len(ratings), int), list(ratings)),
                                ),
                                shape=(1, model.n_items),
                            )
                            tfrs.append(higher_counts(scores, pos))
                            filtered.append(higher_counts(scores, pos, rated))
                        add(name, protocol, f, n, {
                            "tfrs": np.concatenate(tfrs), "filtered": np.concatenate(filtered)
                        })  # fmt: skip
                    print(f"{name} new-users fold {f} done", flush=True)
            continue
        for seed in seeds:
            if protocol == "warm":
                s = warm_split(x, test_fraction=0.2, seed=seed)
                train_m, test, exclude = s.train, s.test, s.train
            elif protocol == "recbole":
                r = recbole_split(x, seed=seed)
                train_m, test, exclude = r.train, r.test, (r.train + r.valid).tocsr()
            else:
                raise ValueError(f"unknown protocol {protocol!r}")
            train = dataset.with_interactions(train_m)
            for name in models:
                model = artistrec.create_model(name).fit(train)
                # the filtered form leaves out every artist the model was told the user knows
                known = (exclude + model.known_).tocsr()
                add(name, protocol, seed, None, _known_counts(model, test, known))
                print(f"{name} {protocol} seed {seed} done", flush=True)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- tuning
def tune(
    dataset: Dataset,
    grid: dict[str, list],
    protocols: Sequence[str],
    seeds: Sequence[int],
    folds: Sequence[int],
) -> pd.DataFrame:
    """Validation NDCG@10 (per N for new users) of every setting of ``grid``, per split."""
    if set(protocols) - {"new-users", "warm"}:
        raise ValueError("tune validates on the new-users and warm protocols only")
    x = dataset.interactions
    keys = sorted(grid)
    settings = [
        dict(zip(keys, vals, strict=True)) for vals in itertools.product(*(grid[k] for k in keys))
    ]
    all_folds = new_user_kfold(x, n_folds=10, seed=0) if "new-users" in protocols else []
    fitted: list[TwoTower] = []

    class Recorded(TwoTower):  # the runner fits its own copy; keep it to read the best epoch
        def _fit(self, ds: Dataset) -> None:
            super()._fit(ds)
            fitted.append(self)

    rows = []
    for params in settings:
        for protocol in protocols:
            for split in folds if protocol == "new-users" else seeds:
                fitted.clear()
                if protocol == "new-users":
                    train = dataset.with_interactions(all_folds[split].train)
                    opts = {"n_folds": None, "user_fraction": 0.2, "seeds": (split,)}
                else:
                    train = dataset.with_interactions(warm_split(x, 0.2, seed=split).train)
                    opts = {"test_fraction": 0.2, "seeds": (split + 100,)}
                frame = evaluate(
                    train, {"two-tower": Recorded(**params)}, protocol=protocol,
                    latency_requests=0, progress=False, **opts,
                )  # fmt: skip
                model = fitted[-1]
                for _, r in frame.iterrows():
                    rows.append(
                        {**params, "protocol": protocol, "split": split,
                         "n_revealed": r["n_revealed"], "ndcg": r["ndcg"], "train_s": r["train_s"],
                         "best_epoch": model.best_epoch_, "epochs": len(model.history_)}
                    )  # fmt: skip
                print(json.dumps(rows[-1], default=str), flush=True)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- latency
def latency(dataset: Dataset, models: Sequence[str], requests: int, seed: int = 0) -> pd.DataFrame:
    """Wall and thread-CPU milliseconds of single ``recommend_new_user`` calls per model, served
    by the model saved and loaded again; with the fit time, the artifact's size and the save and
    load times."""
    from artistrec.data.scale import to_levels
    from artistrec.models.linalg import single_blas_thread

    x = sp.csr_matrix(dataset.interactions)
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(np.diff(x.indptr) >= 10)
    profiles = []
    for u in rng.choice(pool, size=requests):  # request payloads, as a client builds them
        lo, hi = x.indptr[u], x.indptr[u + 1]
        pick = rng.choice(hi - lo, size=10, replace=False)
        levels = to_levels(x.data[lo:hi][pick])
        profiles.append(dict(zip(x.indices[lo:hi][pick].tolist(), levels.tolist(), strict=True)))
    rows = []
    with single_blas_thread(), tempfile.TemporaryDirectory() as tmp:
        for name in models:
            t0 = time.perf_counter()
            fitted = artistrec.create_model(name).fit(dataset)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            path = fitted.save(Path(tmp) / f"{name}.npz")
            save_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            model = artistrec.load_model(path, dataset)  # requests are served by the loaded model
            load_s = time.perf_counter() - t0
            for p in profiles[:3]:  # warm-up
                model.recommend_new_user(p, k=10)
            wall, cpu = [], []
            for p in profiles:
                w0, c0 = time.perf_counter(), time.thread_time()
                model.recommend_new_user(p, k=10)
                cpu.append(time.thread_time() - c0)
                wall.append(time.perf_counter() - w0)
            w, c = np.asarray(wall) * 1e3, np.asarray(cpu) * 1e3
            rows.append(
                {"model": name, "requests": len(profiles), "fit_s": fit_s,
                 "artifact_mb": path.stat().st_size / 1e6, "save_s": save_s, "load_s": load_s,
                 "wall_median_ms": float(np.median(w)), "wall_p99_ms": float(np.percentile(w, 99)),
                 "cpu_median_ms": float(np.median(c)), "cpu_p99_ms": float(np.percentile(c, 99))}
            )  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- report
def _per_user(dirs: Sequence[Path], protocol: str, models: Sequence[str]) -> pd.DataFrame:
    """Per-user rows of ``models`` from ``dirs`` (for one run key, the later directory wins)."""
    frames = []
    for i, d in enumerate(dirs):
        f = d / f"{protocol}_per_user.csv.gz"
        if f.exists():
            df = pd.read_csv(f)
            frames.append(df[df["model"].isin(models)].assign(_dir=i))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["n_revealed"] = df["n_revealed"].astype("Int64")
    run = ["model", "protocol", "n_revealed", "fold", "seed"]
    last = df.groupby(run, dropna=False)["_dir"].transform("max")
    return df[df["_dir"] == last].drop(columns="_dir")


def report(out: Path, compare_dirs: Sequence[Path], baselines: Sequence[str]) -> str:
    """The Markdown tables of the two-tower section (module docstring)."""
    from artistrec.evaluation.report import comparisons_markdown, markdown_table
    from artistrec.evaluation.report import summarize as summarize_runs
    from artistrec.evaluation.runner import compare

    lines: list[str] = []
    for protocol in ("warm", "new-users", "recbole"):
        runs_file = out / f"{protocol}_runs.csv"
        if not runs_file.exists():
            continue
        runs = pd.read_csv(runs_file)
        runs["n_revealed"] = runs["n_revealed"].astype("Int64")
        summary = summarize_runs(runs)
        lines += [
            f"#### {protocol}",
            "",
            markdown_table(summary),
            "",
            markdown_table(summary, "cost"),
            "",
        ]
        ours = _per_user([out], protocol, ["two-tower"])
        others = _per_user(compare_dirs, protocol, baselines)
        comps = [
            compare(pd.concat([ours, others[others["model"] == b]]), "two-tower", b)
            for b in baselines
            if not others.empty and b in set(others["model"])
        ]
        if comps:
            lines += [
                "Paired difference of two-tower against each model (NDCG@10, same splits, 95% "
                "t-interval over folds/seeds; positive = two-tower better):",
                "",
                comparisons_markdown(pd.concat(comps, ignore_index=True)),
                "",
            ]
    acc_file = out / "topk_accuracy_mean.csv"
    if acc_file.exists():
        acc = pd.read_csv(acc_file)
        acc["n_revealed"] = acc["n_revealed"].astype("Int64")
        cols = [f"top_k_acc@{k}" for k in TOPK_KS]
        lines += ["#### Top-k categorical accuracy (TFRS FactorizedTopK)", ""]
        header = [
            "protocol",
            "N",
            "corpus",
            "model",
            *[f"top-{k}" for k in TOPK_KS],
            "splits",
            "pairs",
        ]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        order = {"warm": 0, "new-users": 1, "recbole": 2}
        acc = acc.sort_values(
            ["protocol", "n_revealed", "form", "top_k_acc@10"],
            key=lambda c: c.map(order) if c.name == "protocol" else c,
            ascending=[True, True, False, False],
        )
        for d in acc.to_dict("records"):
            n = "-" if pd.isna(d["n_revealed"]) else str(int(d["n_revealed"]))
            corpus = "whole catalogue" if d["form"] == "tfrs" else "known artists left out"
            vals = [f"{acc_row:.4f}" for acc_row in (d[c] for c in cols)]
            lines.append(
                f"| {d['protocol']} | {n} | {corpus} | {d['model']} | "
                + " | ".join(vals)
                + f" | {d['splits']} | {int(d['pairs'])} |"
            )
        lines.append("")
    curves_file = out / "loss_curves.csv"
    if curves_file.exists():
        cur = pd.read_csv(curves_file)
        fits = cur.groupby("seed").agg(
            fit_s=("fit_s", "first"), epochs=("epoch", "max"), best_epoch=("best_epoch", "first"),
            best_valid_ndcg=("valid_ndcg", "max"),
        )  # fmt: skip
        lines += [
            "#### Fits on the whole data set",
            "",
            "| seed | fit s | epochs | best epoch | best valid NDCG@10 |",
            "|---|---|---|---|---|",
        ]
        for seed, f in fits.iterrows():
            lines.append(
                f"| {seed} | {f['fit_s']:.1f} | {int(f['epochs'])} | {int(f['best_epoch'])} | "
                f"{f['best_valid_ndcg']:.4f} |"
            )
        first = cur[cur["seed"] == cur["seed"].min()]
        step = max(1, len(first) // 12)
        lines += [
            "",
            f"Loss curve of seed {int(first['seed'].iloc[0])} (every {step}th epoch):",
            "",
            "| epoch | training loss (sampled) | training users NLL | validation NLL | validation NDCG@10 |",
            "|---|---|---|---|---|",
        ]
        for r in first.iloc[::step].itertuples(index=False):
            lines.append(
                f"| {int(r.epoch)} | {r.train_loss:.4f} | {r.train_nll:.4f} | {r.valid_nll:.4f} | "
                f"{r.valid_ndcg:.4f} |"
            )
        lines.append("")
    return "\n".join(lines)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean (and std) of each accuracy over the splits, per model, protocol, N and form."""
    keys = ["protocol", "n_revealed", "form", "model"]
    cols = [f"top_k_acc@{k}" for k in TOPK_KS]
    g = table.groupby(keys, dropna=False)
    out = g[cols].mean()
    out["splits"] = g.size()
    out["pairs"] = g["pairs"].sum()
    return out.reset_index()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["curves", "topk", "tune", "report", "latency"])
    ap.add_argument("--requests", type=int, default=2000, help="latency: requests per model")
    ap.add_argument("--compare", default="", help="report: comma-separated earlier result dirs")
    ap.add_argument(
        "--baselines",
        default="set-autoencoder,als,item-knn,hybrid",
        help="report: models to compare",
    )
    ap.add_argument("--grid", default="{}", help="tune: JSON {param: [values]}")
    ap.add_argument("--models", default="two-tower", help="comma-separated model names (topk)")
    ap.add_argument("--protocols", default="warm,recbole,new-users")
    ap.add_argument("--seeds", default="0,1,2", help="fit seeds (curves) / split seeds (topk)")
    ap.add_argument("--folds", default="0,1,2", help="new-user folds of the 10-fold CV (topk)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="benchmarks/results-two-tower")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "report":
        dirs = [Path(d) for d in args.compare.split(",") if d.strip()]
        text = report(out, dirs, [b.strip() for b in args.baselines.split(",") if b.strip()])
        (out / "report.md").write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    dataset = artistrec.load_dataset(args.data_dir)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.what == "curves":
        curves(dataset, seeds, out)
        return 0
    folds = [int(f) for f in args.folds.split(",") if f.strip()]
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    if args.what == "latency":
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        latency(dataset, models, args.requests).to_csv(out / "latency.csv", index=False)
        return 0
    if args.what == "tune":
        table = tune(dataset, json.loads(args.grid), protocols, seeds, folds)
        table.to_csv(out / "tune.csv", index=False)
        return 0
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    table = topk(dataset, models, seeds, folds, protocols)
    table.to_csv(out / "topk_accuracy.csv", index=False)
    summary = summarize(table)
    summary.to_csv(out / "topk_accuracy_mean.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
