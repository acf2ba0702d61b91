"""Data-set aggregates for the "Explore the data" page: statistics, rankings, histograms, genres.

Every function takes the :class:`~artistrec.data.Dataset` and returns a small, tidy DataFrame (or
dict) that a chart can plot directly, so the Streamlit pages stay free of computation. Nothing
here mutates its inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset


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
