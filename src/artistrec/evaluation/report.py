"""Summaries (mean +- std over seeds/folds), Rich/Markdown tables, CSV/JSON files and PNG charts.

Everything here reads the runner's frames; no number is typed by hand.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from artistrec.evaluation.metrics import ALL_METRICS
from artistrec.evaluation.runner import TIMING_COLUMNS
from artistrec.evaluation.stats import compare

GROUP: list[str] = ["model", "protocol", "n_revealed"]
#: Columns shown in tables, in order (metric columns are "@K").
TABLE_METRICS: tuple[str, ...] = (
    "ndcg",
    "recall",
    "precision",
    "map",
    "mrr",
    "hit_rate",
    "coverage",
    "novelty",
)
CHART_METRICS: tuple[str, ...] = ("ndcg", "recall", "precision", "map", "hit_rate")


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of every metric and timing over folds/seeds, per (model, protocol, N)."""
    if runs.empty:
        raise ValueError("no runs to summarize")
    cols = [c for c in (*ALL_METRICS, *TIMING_COLUMNS, "n_users") if c in runs]
    grouped = runs.groupby(GROUP, dropna=False, sort=False)
    mean = grouped[cols].mean().add_suffix("_mean")
    # std over the runs that have a value (NaN when fewer than two, e.g. latency timed once)
    std = grouped[cols].std(ddof=1).add_suffix("_std")
    parts = [grouped.size().rename("runs"), mean, std]
    if "latency_n" in runs:
        parts.append(grouped["latency_n"].sum().rename("latency_requests"))
    out = pd.concat(parts, axis=1).reset_index()
    out["k"] = int(runs["k"].iloc[0])
    return out


def _fmt(mean: float, std: float, digits: int = 4) -> str:
    if mean is None or pd.isna(mean):
        return "-"
    if std is None or pd.isna(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _n(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))


def _rows(summary: pd.DataFrame, kind: str) -> tuple[list[str], list[list[str]]]:
    if kind not in ("quality", "cost"):
        raise ValueError(f"kind must be 'quality' or 'cost', got {kind!r}")
    k = int(summary["k"].iloc[0])
    if kind == "quality":
        header = ["model", "protocol", "N", "runs"] + [f"{m}@{k}" for m in TABLE_METRICS]
    else:
        # one fit serves every N of a fold, so cost is per (model, protocol)
        summary = summary.drop_duplicates(["model", "protocol"])
        header = [
            "model",
            "protocol",
            "fits",
            "users/run",
            "train s",
            "eval s",
            "fold-in ms median",
            "fold-in ms p99",
            "timed requests",
        ]
    rows = []
    for r in summary.itertuples(index=False):
        d = r._asdict()
        if kind == "quality":
            row = [str(d["model"]), str(d["protocol"]), _n(d["n_revealed"]), str(d["runs"])]
            row += [
                _fmt(d[f"{m}_mean"], d[f"{m}_std"], 2 if m == "novelty" else 4)
                for m in TABLE_METRICS
            ]
        else:
            row = [str(d["model"]), str(d["protocol"]), str(d["runs"]), f"{d['n_users_mean']:.0f}"]
            row += [
                _fmt(d[f"{c}_mean"], d[f"{c}_std"], 3 if c.endswith("_s") else 2)
                for c in TIMING_COLUMNS
            ]
            row += [_n(d.get("latency_requests"))]
        rows.append(row)
    return header, rows


def rich_table(summary: pd.DataFrame, title: str | None = None, kind: str = "quality") -> Table:
    """A Rich table of :func:`summarize` output (mean ± std over seeds/folds).

    ``kind="quality"`` shows the ranking metrics, ``kind="cost"`` training time and latency.
    """
    header, rows = _rows(summary, kind)
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 2 else "right", no_wrap=i < 2)
    for row in rows:
        table.add_row(*row)
    return table


def markdown_table(summary: pd.DataFrame, kind: str = "quality") -> str:
    """A GitHub-Markdown table of :func:`summarize` output (``kind`` as in :func:`rich_table`)."""
    header, rows = _rows(summary, kind)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def baseline_comparisons(
    per_user: pd.DataFrame, baseline: str = "popularity", metric: str = "ndcg"
) -> pd.DataFrame:
    """Paired difference of every model against ``baseline`` (t-interval over folds/seeds)."""
    models = [m for m in per_user["model"].unique() if m != baseline]
    if baseline not in set(per_user["model"]) or not models:
        return pd.DataFrame()
    runs = per_user.groupby(["fold", "seed"]).ngroups
    if runs < 2:
        return pd.DataFrame()
    return pd.concat([compare(per_user, m, baseline, metric) for m in models], ignore_index=True)


def comparisons_markdown(comp: pd.DataFrame) -> str:
    """Markdown table of :func:`baseline_comparisons`."""
    lines = [
        "| model | baseline | protocol | N | metric | mean diff | 95% CI | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in comp.itertuples(index=False):
        lines.append(
            f"| {r.a} | {r.b} | {r.protocol} | {_n(r.n_revealed)} | {r.metric} | "
            f"{r.mean_diff:+.4f} | [{r.ci_low:+.4f}, {r.ci_high:+.4f}] | {r.n} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- charts
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_chart(summary: pd.DataFrame, path: Path, metrics: Sequence[str] = CHART_METRICS) -> Path:
    """Grouped bars: one group per metric, one bar per model (error bars = std); one panel per N."""
    plt = _plt()
    k = int(summary["k"].iloc[0])
    panels = list(summary.groupby("n_revealed", dropna=False, sort=True))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 3.6 * len(panels)), squeeze=False, constrained_layout=True
    )
    for ax, (n, sub) in zip(axes[:, 0], panels, strict=True):
        models = sub["model"].tolist()
        x = np.arange(len(metrics))
        width = 0.8 / max(len(models), 1)
        for i, row in enumerate(sub.itertuples(index=False)):
            d = row._asdict()
            means = [d[f"{m}_mean"] for m in metrics]
            stds = [d[f"{m}_std"] for m in metrics]
            ax.bar(x + i * width - 0.4 + width / 2, means, width, yerr=stds, label=d["model"])
        ax.set_xticks(x, [f"{m}@{k}" for m in metrics])
        protocol = sub["protocol"].iloc[0]
        ax.set_title(protocol + ("" if pd.isna(n) else f", N revealed = {int(n)}"))
        ax.legend(fontsize="small", ncol=min(len(models), 4))
        ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ndcg_vs_n_chart(summary: pd.DataFrame, path: Path, metric: str = "ndcg") -> Path:
    """Lines of ``metric`` against the number of revealed artists, one per model (new users)."""
    plt = _plt()
    k = int(summary["k"].iloc[0])
    sub = summary.dropna(subset=["n_revealed"])
    if sub.empty:
        raise ValueError("no new-user rows (n_revealed) to plot")
    fig, ax = plt.subplots(figsize=(8.5, 4.5), constrained_layout=True)
    for model, grp in sub.groupby("model", sort=False):
        grp = grp.sort_values("n_revealed")
        ax.errorbar(
            grp["n_revealed"].astype(int),
            grp[f"{metric}_mean"],
            yerr=grp[f"{metric}_std"],
            marker="o",
            capsize=3,
            label=model,
        )
    ax.set_xlabel("artists revealed by the new user (N)")
    ax.set_ylabel(f"{metric}@{k}")
    ax.set_xticks(sorted(sub["n_revealed"].astype(int).unique()))
    ax.set_title(f"new users: {metric}@{k} vs N revealed (mean ± std over folds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- files
def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = json.loads(frame.to_json(orient="records"))
    return out


def write_outputs(
    runs: pd.DataFrame,
    out_dir: str | Path,
    per_user: pd.DataFrame | None = None,
    meta: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``<protocol>_runs.csv``, ``<protocol>_summary.csv``, ``<protocol>.json`` and PNG charts
    (``<protocol>_metrics.png``; ``<protocol>_ndcg_vs_n.png`` for new users) into ``out_dir``.

    With ``per_user``, also ``<protocol>_per_user.csv.gz`` and paired comparisons vs popularity.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    protocols = runs["protocol"].unique()
    stem = protocols[0] if len(protocols) == 1 else "all"
    summary = summarize(runs)
    paths = [out / f"{stem}_runs.csv", out / f"{stem}_summary.csv", out / f"{stem}.json"]
    runs.to_csv(paths[0], index=False)
    summary.to_csv(paths[1], index=False)
    comp = pd.DataFrame()
    if per_user is not None:
        p = out / f"{stem}_per_user.csv.gz"
        per_user.to_csv(p, index=False)
        paths.append(p)
        comp = baseline_comparisons(per_user)
    doc = {
        "meta": {
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            **(meta or {}),
        },
        "summary": _records(summary),
        "runs": _records(runs),
        "comparisons_vs_popularity": _records(comp) if not comp.empty else [],
    }
    paths[2].write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    paths.append(bar_chart(summary, out / f"{stem}_metrics.png"))
    if summary["n_revealed"].notna().any():
        paths.append(ndcg_vs_n_chart(summary, out / f"{stem}_ndcg_vs_n.png"))
    return paths
