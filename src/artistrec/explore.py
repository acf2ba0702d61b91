"""Aggregates behind the web app's "Explore the data" and "Models" pages (pandas/numpy only).

Every function takes the :class:`~artistrec.data.Dataset` (or a fitted model) and returns a small,
tidy DataFrame that a chart can plot directly, so the Streamlit pages stay free of computation.
Nothing here mutates its inputs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset

#: Attributes that hold a model's item embedding (n_artists x d), in order of preference.
EMBEDDING_ATTRIBUTES = ("item_factors_", "item_embeddings_", "item_vectors_", "V_")


# ----------------------------------------------------------------------------- dataset
def dataset_stats(ds: Dataset) -> dict[str, float]:
    """The readme statistics plus density and per-user / per-artist medians."""
    x = ds.interactions
    per_user = np.diff(x.indptr)
    listeners = ds.artist_listeners()
    friends = np.diff(ds.friends.indptr)
    out: dict[str, float] = dict(ds.summary())
    out.update(
        {
            "total_plays": float(x.sum()),
            "density": float(x.nnz) / max(ds.n_users * ds.n_artists, 1),
            "median_artists_per_user": float(np.median(per_user)) if per_user.size else 0.0,
            "median_listeners_per_artist": float(np.median(listeners)) if listeners.size else 0.0,
            "share_artists_one_listener": float(np.mean(listeners == 1)) if listeners.size else 0.0,
            "median_friends_per_user": float(np.median(friends)) if friends.size else 0.0,
        }
    )
    return out


def tag_frequency(ds: Dataset) -> pd.DataFrame:
    """All used tags in rank order: ``rank`` (1 = most used), ``tag``, ``assignments``."""
    counts = np.bincount(ds.tag_assignments["tag_index"].to_numpy(), minlength=ds.n_tags)
    used = np.flatnonzero(counts)
    order = used[np.lexsort((used, -counts[used]))]
    return pd.DataFrame(
        {
            "rank": np.arange(1, order.size + 1, dtype=np.int64),
            "tag": ds.tag_names[order].astype(str),
            "assignments": counts[order].astype(np.int64),
        }
    )


def top_tags(ds: Dataset, n: int = 20) -> pd.DataFrame:
    """The ``n`` most assigned tags (``tag``, ``assignments``)."""
    return tag_frequency(ds).head(n)[["tag", "assignments"]].reset_index(drop=True)


def user_activity(ds: Dataset) -> pd.DataFrame:
    """One row per user: ``user_id``, ``plays`` (total listens), ``artists``, ``friends``."""
    x = ds.interactions
    return pd.DataFrame(
        {
            "user_id": ds.user_ids,
            "plays": np.asarray(x.sum(axis=1)).ravel().astype(np.int64),
            "artists": np.diff(x.indptr).astype(np.int64),
            "friends": np.diff(ds.friends.indptr).astype(np.int64),
        }
    )


def top_users(ds: Dataset, n: int = 20) -> pd.DataFrame:
    """The ``n`` users with the most plays (``user``, ``plays``), most first."""
    ua = user_activity(ds).sort_values(["plays", "user_id"], ascending=[False, True]).head(n)
    return pd.DataFrame({"user": "user " + ua["user_id"].astype(str), "plays": ua["plays"]})


def artist_popularity(ds: Dataset) -> pd.DataFrame:
    """One row per artist, most played first: ``rank``, ``artist_id``, ``name``, ``plays``, ``listeners``."""
    x = ds.interactions
    plays = np.asarray(x.sum(axis=0)).ravel().astype(np.int64)
    listeners = ds.artist_listeners()
    order = np.lexsort((np.arange(plays.size), -listeners, -plays))
    return pd.DataFrame(
        {
            "rank": np.arange(1, order.size + 1, dtype=np.int64),
            "artist_id": ds.artist_ids[order],
            "name": ds.artist_names[order].astype(str),
            "plays": plays[order],
            "listeners": listeners[order],
        }
    )


def top_artists(ds: Dataset, n: int = 20, by: str = "plays") -> pd.DataFrame:
    """The ``n`` artists with the most ``plays`` or ``listeners``."""
    if by not in ("plays", "listeners"):
        raise ValueError(f"by must be 'plays' or 'listeners', got {by!r}")
    pop = artist_popularity(ds)
    other = "listeners" if by == "plays" else "plays"
    return (
        pop.sort_values([by, other, "rank"], ascending=[False, False, True])
        .head(n)
        .reset_index(drop=True)[["name", "plays", "listeners"]]
    )


def histogram(values: np.ndarray, bins: int = 30, log: bool = False) -> pd.DataFrame:
    """Counts of ``values`` in ``bins`` bins (log-spaced with ``log``, values <= 0 dropped then).

    Returns ``start``, ``end`` and ``count`` per bin, so a chart can draw bars of true width.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    if v.size == 0:
        return pd.DataFrame({"start": [], "end": [], "count": []})
    lo, hi = float(v.min()), float(v.max())
    if log:
        edges = np.logspace(np.log10(lo), np.log10(hi) + 1e-9, bins + 1)
    else:
        edges = np.linspace(lo, hi + (1e-9 if hi == lo else 0.0), bins + 1)
    counts, edges = np.histogram(v, bins=edges)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts.astype(np.int64)})


# ----------------------------------------------------------------------------- models
def item_embeddings(model: Any) -> np.ndarray | None:
    """The model's item embedding (n_artists x d, float32), or None when it has none."""
    for attr in EMBEDDING_ATTRIBUTES:
        value = getattr(model, attr, None)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return np.asarray(value, dtype=np.float32)
    return None


def artist_genre(ds: Dataset, artists: np.ndarray, keep: int = 10) -> np.ndarray:
    """A coarse genre label per artist, for colouring charts.

    Among the ``keep`` most used tags of the whole data set, each artist gets the one assigned to
    it most often; artists with none of them are "other" (or "untagged" without any tag).
    """
    idx = np.asarray(artists, dtype=np.int64)
    common = tag_frequency(ds).head(keep)
    names = ds.tag_names.astype(str)
    common_idx = np.flatnonzero(np.isin(names, common["tag"].to_numpy()))
    at = sp.csr_matrix(ds.artist_tags[idx])
    sub = sp.csr_matrix(at[:, common_idx])
    labels = np.full(idx.size, "other", dtype=object)
    labels[np.diff(at.indptr) == 0] = "untagged"
    has = np.diff(sub.indptr) > 0
    if has.any():
        best = np.asarray(sub[has].argmax(axis=1)).ravel()
        labels[has] = names[common_idx[best]]
    return labels


def embedding_map(
    ds: Dataset, embeddings: np.ndarray, n: int = 1500, seed: int = 0
) -> pd.DataFrame:
    """2-D t-SNE map of the ``n`` most listened artists' embeddings.

    Returns ``x``, ``y``, ``name``, ``listeners`` and ``genre`` (:func:`artist_genre`). t-SNE runs with a fixed seed and PCA initialisation, so the map is reproducible.
    """
    from sklearn.manifold import TSNE

    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != ds.n_artists:
        raise ValueError(f"embeddings must have shape ({ds.n_artists}, d), got {emb.shape}")
    if n < 5:
        raise ValueError("n must be at least 5 artists")
    listeners = ds.artist_listeners()
    top = np.lexsort((np.arange(listeners.size), -listeners))[: min(n, ds.n_artists)]
    perplexity = float(min(30.0, max(2.0, (top.size - 1) / 3)))
    xy = TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed, max_iter=500
    ).fit_transform(emb[top].astype(np.float64))
    return pd.DataFrame(
        {
            "x": xy[:, 0].astype(np.float32),
            "y": xy[:, 1].astype(np.float32),
            "name": ds.artist_names[top].astype(str),
            "listeners": listeners[top],
            "genre": artist_genre(ds, top),
        }
    )


def embedding_norms(ds: Dataset, embeddings: np.ndarray) -> pd.DataFrame:
    """Per artist with at least one listener: ``name``, ``listeners``, L2 ``norm`` of its embedding."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != ds.n_artists:
        raise ValueError(f"embeddings must have shape ({ds.n_artists}, d), got {emb.shape}")
    listeners = ds.artist_listeners()
    df = pd.DataFrame(
        {
            "name": ds.artist_names.astype(str),
            "listeners": listeners,
            "norm": np.linalg.norm(emb, axis=1).astype(np.float32),
        }
    )
    return df[listeners > 0].reset_index(drop=True)


def norm_listener_correlation(norms: pd.DataFrame) -> float:
    """Spearman rank correlation of embedding norm and listener count (NaN for < 3 artists)."""
    if len(norms) < 3:
        return float("nan")
    return float(norms["norm"].corr(norms["listeners"], method="spearman"))


def training_curves(model: Any) -> pd.DataFrame | None:
    """Loss per epoch in long form (``epoch``, ``split``, ``mse``), or None without curves."""
    parts = []
    for attr, split in (("train_loss_", "train"), ("test_loss_", "held-out")):
        values = getattr(model, attr, None)
        if values is None:
            continue
        arr = np.asarray(values, dtype=np.float32).ravel()
        if arr.size == 0 or not np.any(np.isfinite(arr)):
            continue
        parts.append(
            pd.DataFrame(
                {"epoch": np.arange(1, arr.size + 1, dtype=np.int64), "split": split, "mse": arr}
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else None


def seed_mf_variant_curves(
    ds: Dataset, holdout: float = 0.1, epochs: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Train and held-out loss curves of the original project's two seed-mf variants.

    Fits ``seed-mf`` once per variant (``plain``, ``gravity``) with a seeded ``holdout`` share of
    the observed levels kept out, so over-fitting shows as a rising held-out curve. Returns the
    long table of :func:`training_curves` plus a ``variant`` column.
    """
    from artistrec.models import create_model
    from artistrec.models.seed_mf import VARIANTS

    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be in (0, 1), got {holdout!r}")
    parts = []
    for variant, params in VARIANTS.items():
        extra = {"iterations": epochs} if epochs is not None else {}
        model = create_model("seed-mf", holdout=holdout, random_state=seed, **params, **extra).fit(
            ds
        )
        curves = training_curves(model)
        if curves is not None:
            parts.append(curves.assign(variant=variant))
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- benchmarks
#: File name pattern of the per-protocol summaries that ``artistrec evaluate`` writes.
SUMMARY_SUFFIX = "_summary.csv"


def benchmark_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where ``artistrec evaluate`` results may live, in order of preference.

    ``$ARTISTREC_RESULTS_DIR`` alone when set; else ``results/`` under ``root`` (default: the
    working directory) and ``results/``, ``docs/results/``, ``benchmarks/`` of the source checkout.
    """
    env = os.environ.get("ARTISTREC_RESULTS_DIR")
    if env:
        return [Path(env)]
    checkout = Path(__file__).resolve().parents[2]
    base = Path(root) if root is not None else Path.cwd()
    dirs = [base / "results"]
    for d in (checkout / "results", checkout / "docs" / "results", checkout / "benchmarks"):
        if d not in dirs:
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
    Unreadable files are skipped so the page can always show what is there; ``source`` names
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
            if not df.empty and "model" in df:
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
