"""Per-artist content features for neural models: a tf-idf bag of tags and tag-date features.

Both are built from a :class:`~artistrec.data.Dataset`'s *current* tag assignments, so a training
set made with ``Dataset.with_interactions`` never sees the tags of held-out listens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.data.loader import PLAUSIBLE_FIRST_YEAR

#: Columns of :func:`tag_time_features`, in order.
TIME_FEATURES: tuple[str, ...] = (
    "first_year",  # when the artist was first tagged (fractional year)
    "mean_year",  # mean date of its tag assignments
    "recency_years",  # years between its last tag and the newest tag in the data
    "span_years",  # years between its first and last tag
    "log_assignments",  # log1p(number of tag assignments)
    "log_taggers",  # log1p(number of distinct users who tagged it)
)


def tag_tfidf(artist_tags: sp.spmatrix, min_artists: int = 5) -> tuple[sp.csr_matrix, np.ndarray]:
    """Artists x kept tags: log1p(assignment count) x idf, each artist's row scaled to unit L2 norm.

    Tags used on fewer than ``min_artists`` artists are dropped (too rare to generalise from).
    Returns the float32 CSR matrix and the kept tags' column indices in ``artist_tags``. Artists
    without a kept tag have an all-zero row.
    """
    T = sp.csr_matrix(artist_tags, dtype=np.float32)
    df = np.diff(T.tocsc().indptr)
    kept = np.flatnonzero(df >= max(int(min_artists), 1))
    T = T[:, kept].tocsr()
    T.data = np.log1p(T.data)
    n_tagged = max(int(np.count_nonzero(np.diff(T.indptr))), 1)
    idf = np.log((1.0 + n_tagged) / (1.0 + df[kept])).astype(np.float32) + 1.0
    T = (T @ sp.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(T.multiply(T).sum(axis=1), dtype=np.float64).ravel())
    T = (sp.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ T).tocsr()
    T.sort_indices()
    return sp.csr_matrix(T, dtype=np.float32), kept.astype(np.int64)


def _fractional_year(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    start = pd.to_datetime(d.dt.year.astype(str) + "-01-01")
    days = (d - start).dt.days.to_numpy(np.float64)
    return d.dt.year.to_numpy(np.float64) + days / 365.25


def tag_time_features(dataset: Dataset, first_year: int = PLAUSIBLE_FIRST_YEAR) -> np.ndarray:
    """(n_artists, len(TIME_FEATURES)) float32 of when and how much each artist was tagged.

    Assignments dated before ``first_year`` (Last.fm started in 2002; the data has a few in 1956,
    1957 and 1979) are left out rather than stretching the scale; assignments of artist ids that
    are not in ``artists.dat`` are ignored. Artists with no remaining assignment get NaN in every
    column (the caller decides how to fill and flag them).
    """
    out = np.full((dataset.n_artists, len(TIME_FEATURES)), np.nan, dtype=np.float32)
    ta = dataset.tag_assignments
    if len(ta) == 0:
        return out
    year = _fractional_year(ta["date"])
    ok = (ta["artist_index"].to_numpy() >= 0) & (year >= first_year)
    if not ok.any():
        return out
    frame = pd.DataFrame(
        {
            "artist": ta["artist_index"].to_numpy()[ok],
            "user": ta["user_index"].to_numpy()[ok],
            "year": year[ok],
        }
    )
    newest = float(frame["year"].max())
    g = frame.groupby("artist", sort=True)
    stats = g["year"].agg(["min", "max", "mean", "size"])
    taggers = g["user"].nunique()
    rows = stats.index.to_numpy(np.int64)
    out[rows, 0] = stats["min"].to_numpy()
    out[rows, 1] = stats["mean"].to_numpy()
    out[rows, 2] = newest - stats["max"].to_numpy()
    out[rows, 3] = stats["max"].to_numpy() - stats["min"].to_numpy()
    out[rows, 4] = np.log1p(stats["size"].to_numpy(np.float64))
    out[rows, 5] = np.log1p(taggers.to_numpy(np.float64))
    return out
