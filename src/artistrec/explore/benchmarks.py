"""Offline benchmark results (``artistrec evaluate`` summaries) for the "Models" page.

Results are read from an explicit folder list, ``$ARTISTREC_RESULTS_DIR``, or - by default - the
working directory's ``results/`` and, inside a source checkout found upwards from the working
directory, its ``results/`` and ``benchmarks/``. Never from the installed package's location.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

#: Overrides where :func:`benchmark_dirs` looks for results.
ENV_RESULTS_DIR = "ARTISTREC_RESULTS_DIR"
#: File name pattern of the per-protocol summaries that ``artistrec evaluate`` writes.
SUMMARY_SUFFIX = "_summary.csv"


def source_checkout(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The source checkout containing ``start`` (default: the working directory), or None.

    A checkout is the first folder upwards holding both ``pyproject.toml`` and ``benchmarks/``.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "benchmarks").is_dir():
            return folder
    return None


def benchmark_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where ``artistrec evaluate`` results may live, in order of preference.

    ``$ARTISTREC_RESULTS_DIR`` alone when set; else ``results/`` under ``root`` (default: the
    working directory), then ``results/`` and ``benchmarks/`` of the source checkout around it.
    """
    env = os.environ.get(ENV_RESULTS_DIR)
    if env:
        return [Path(env)]
    base = Path(root) if root is not None else Path.cwd()
    dirs = [base / "results"]
    checkout = source_checkout(base)
    if checkout is not None:
        for d in (checkout / "results", checkout / "benchmarks"):
            if d.resolve() not in {x.resolve() for x in dirs}:
                dirs.append(d)
    return dirs


def load_benchmark_summaries(dirs: list[Path] | None = None) -> dict[str, pd.DataFrame]:
    """Summary tables written by ``artistrec evaluate`` (``<protocol>_summary.csv``), by protocol.

    Files of one protocol directly in a searched folder or in sub-folders named ``results*``
    (``results/``, ``results-hybrid/``: runs of the same protocol, e.g. one model added later)
    are merged into one table; when a model
    (and N revealed) appears twice, the first directory, then the first path in sorted order,
    wins. A file in another sub-folder is a variant of the protocol and keeps its own table, keyed
    ``"<protocol> (<folder>)"`` (e.g. ``results/sampled/`` -> ``"new-users (sampled)"``).
    Unreadable files, and tables of another schema (no ``model`` column or no ``*_mean``
    columns), are skipped so the page can always show what is there; ``source`` names
    the file of each row.
    """
    found: dict[str, list[pd.DataFrame]] = {}
    for d in dirs if dirs is not None else benchmark_dirs():
        if not d.is_dir():
            continue
        for path in sorted(d.rglob(f"*{SUMMARY_SUFFIX}")):
            protocol = path.name[: -len(SUMMARY_SUFFIX)]
            if path.parent != d and not path.parent.name.startswith("results"):
                protocol = f"{protocol} ({path.parent.name})"
            try:
                df = pd.read_csv(path)
            except (OSError, ValueError):
                continue
            # only `artistrec evaluate`'s schema: benchmark scripts write other tables under the
            # same file names (e.g. benchmarks/pipeline_compare.py's per-variant means)
            if not df.empty and "model" in df and any(c.endswith("_mean") for c in df.columns):
                found.setdefault(protocol, []).append(df.assign(source=str(path)))
    out: dict[str, pd.DataFrame] = {}
    for protocol, frames in found.items():
        merged = pd.concat(frames, ignore_index=True)
        keys = [c for c in ("model", "n_revealed") if c in merged]
        out[protocol] = merged.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)
    return out


#: Protocols in the order the app shows them (others follow alphabetically).
PROTOCOL_ORDER = ("warm", "new-users", "recbole")
#: Columns of :func:`benchmark_table`, when present in a summary.
TABLE_COLUMNS = (
    "ndcg",
    "recall",
    "precision",
    "map",
    "hit_rate",
    "coverage",
    "novelty",
    "train_s",
    "latency_median_ms",
)


def protocol_order(protocols: list[str]) -> list[str]:
    """``protocols`` sorted: warm, new-users, recbole first (variants after their protocol)."""
    rank = {p: i for i, p in enumerate(PROTOCOL_ORDER)}
    return sorted(protocols, key=lambda p: (rank.get(p.split(" (")[0], len(rank)), p))


def benchmark_table(summary: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """A compact, readable summary: one row per model (and N revealed), "mean ± std" cells."""
    keys = [c for c in ("model", "n_revealed") if c in summary and summary[c].notna().any()]
    out = summary[keys].copy()
    if "n_revealed" in out:
        out["n_revealed"] = out["n_revealed"].astype("Int64")
    for metric in TABLE_COLUMNS:
        if f"{metric}_mean" not in summary:
            continue
        mean = summary[f"{metric}_mean"].astype(float)
        std = (
            summary[f"{metric}_std"].astype(float)
            if f"{metric}_std" in summary
            else pd.Series(np.nan, index=summary.index)
        )
        out[metric] = [
            "-"
            if pd.isna(m)
            else f"{m:.{digits}f}"
            if pd.isna(sd) or sd == 0
            else f"{m:.{digits}f} ± {sd:.{digits}f}"
            for m, sd in zip(mean, std, strict=True)
        ]
    return out.reset_index(drop=True)


def benchmark_means(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per model (and N revealed) with the mean of each :data:`TABLE_COLUMNS` metric as
    a number (sortable; the spread is in the summary's ``*_std`` columns)."""
    keys = [c for c in ("model", "n_revealed") if c in summary and summary[c].notna().any()]
    out = summary[keys].copy()
    if "n_revealed" in out:
        out["n_revealed"] = out["n_revealed"].astype("Int64")
    for metric in TABLE_COLUMNS:
        if f"{metric}_mean" in summary:
            out[metric] = summary[f"{metric}_mean"].astype(float)
    return out.reset_index(drop=True)


def summary_metrics(summary: pd.DataFrame) -> list[str]:
    """Metric names with a ``<name>_mean`` column, in the file's order."""
    return [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]


def benchmark_metric(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Long table ``model``, ``n_revealed`` (may be NaN), ``mean``, ``std`` of one metric."""
    if f"{metric}_mean" not in summary:
        raise ValueError(f"metric {metric!r} not in the summary; have {summary_metrics(summary)}")
    std = summary[f"{metric}_std"] if f"{metric}_std" in summary else 0.0
    n = summary["n_revealed"] if "n_revealed" in summary else np.nan
    return pd.DataFrame(
        {
            "model": summary["model"].astype(str),
            "n_revealed": n,
            "mean": summary[f"{metric}_mean"].astype(float),
            "std": np.asarray(std, dtype=float) * np.ones(len(summary)),
        }
    ).reset_index(drop=True)
