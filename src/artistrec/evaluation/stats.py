"""Paired comparisons of two models on the same splits: per-fold or per-user differences of a
metric and a confidence interval of their mean (Student t over folds, bootstrap over users)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats

from artistrec.evaluation.metrics import USER_METRICS


@dataclass(frozen=True)
class PairedInterval:
    """Mean paired difference (a - b) and its two-sided confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    method: str


def paired_interval(
    diffs: np.ndarray,
    method: str = "t",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> PairedInterval:
    """Interval of the mean of paired differences: Student t (``"t"``) or percentile bootstrap."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size < 2:
        raise ValueError("need at least two paired differences for an interval")
    mean = float(d.mean())
    if method == "t":
        sem = float(scipy.stats.sem(d))
        if sem == 0.0:
            return PairedInterval(mean, mean, mean, int(d.size), method)
        low, high = scipy.stats.t.interval(confidence, d.size - 1, loc=mean, scale=sem)
    elif method == "bootstrap":
        if np.all(d == d[0]):
            return PairedInterval(mean, mean, mean, int(d.size), method)
        res = scipy.stats.bootstrap(
            (d,),
            np.mean,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        low, high = res.confidence_interval
    else:
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    return PairedInterval(mean, float(low), float(high), int(d.size), method)


def paired_differences(
    per_user: pd.DataFrame, a: str, b: str, metric: str = "ndcg", unit: str = "fold"
) -> pd.DataFrame:
    """Per-unit differences ``diff = value_a - value_b`` of ``metric``; ``unit`` is ``"fold"``
    (mean over the users of each fold/seed run) or ``"user"`` (each user of each run)."""
    if metric not in USER_METRICS:
        raise ValueError(f"metric must be one of {USER_METRICS}, got {metric!r}")
    if unit not in ("fold", "user"):
        raise ValueError(f"unit must be 'fold' or 'user', got {unit!r}")
    missing = {a, b} - set(per_user["model"].unique())
    if missing:
        raise ValueError(f"model(s) not in the results: {sorted(missing)}")
    keys = ["protocol", "n_revealed", "fold", "seed"] + (["user"] if unit == "user" else [])
    frames = []
    for name, col in ((a, "value_a"), (b, "value_b")):
        sub = per_user[per_user["model"] == name]
        frames.append(sub.groupby(keys, dropna=False)[metric].mean().rename(col))
    joined = pd.concat(frames, axis=1, join="inner").reset_index()
    joined["diff"] = joined["value_a"] - joined["value_b"]
    return joined


def compare(
    per_user: pd.DataFrame,
    a: str,
    b: str,
    metric: str = "ndcg",
    unit: str = "fold",
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparison of two models per (protocol, N revealed): mean difference ``a - b`` and a
    ``confidence`` interval (t over folds/seeds for ``unit="fold"``, bootstrap over users for
    ``unit="user"``). An interval excluding 0 means a difference unlikely to be split noise."""
    diffs = paired_differences(per_user, a, b, metric, unit)
    method = "t" if unit == "fold" else "bootstrap"
    out = []
    for (protocol, n), grp in diffs.groupby(["protocol", "n_revealed"], dropna=False):
        iv = paired_interval(grp["diff"].to_numpy(), method, confidence, seed=seed)
        out.append(
            {
                "protocol": protocol,
                "n_revealed": n,
                "metric": metric,
                "a": a,
                "b": b,
                "mean_diff": iv.mean,
                "ci_low": iv.low,
                "ci_high": iv.high,
                "n": iv.n,
                "method": iv.method,
            }
        )
    return pd.DataFrame(out)
