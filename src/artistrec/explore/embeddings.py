"""Artist embeddings of fitted models for the "Models" page: the embedding, a 2-D map, norms.

:func:`item_embeddings` is the one place an embedding is asked of a model. The t-SNE map costs
seconds of CPU (4-6 s for 1,500 artists on one core), so :func:`cached_embedding_map` keeps each
layout in a small ``.npz`` file next to the model artifact it was computed from, valid as long
as that artifact file is unchanged: the map is computed once per trained model, not once per
app start.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from artistrec.data.dataset import Dataset
from artistrec.explore.data_stats import artist_genre

#: Fitted attributes holding an (n_artists, d) item embedding, in the models that have one:
#: ``item_factors_`` (als, bpr, seed-mf) and ``item_embeddings_`` (set-autoencoder).
EMBEDDING_ATTRIBUTES = ("item_factors_", "item_embeddings_")


def item_embeddings(model: Any) -> np.ndarray | None:
    """The model's item embedding (n_artists x d, float32), or None when it has none.

    A model's public ``item_embeddings()`` answers when it has one (the protocol method being
    added to every model); until then, the fitted attributes of :data:`EMBEDDING_ATTRIBUTES`.
    """
    method = getattr(model, "item_embeddings", None)
    value = method() if callable(method) else None
    for attr in EMBEDDING_ATTRIBUTES:
        if value is not None:
            break
        value = getattr(model, attr, None)
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return np.asarray(value, dtype=np.float32)
    return None


def embedding_map(
    ds: Dataset, embeddings: np.ndarray, n: int = 1500, seed: int = 0
) -> pd.DataFrame:
    """2-D t-SNE map of the ``n`` most listened artists' embeddings.

    Returns ``x``, ``y``, ``name``, ``listeners`` and ``genre`` (:func:`artist_genre`) of the
    artists :func:`map_artists` picks, in that order. t-SNE runs with a fixed seed and PCA
    initialisation, so the map is reproducible.
    """
    from sklearn.manifold import TSNE

    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != ds.n_artists:
        raise ValueError(f"embeddings must have shape ({ds.n_artists}, d), got {emb.shape}")
    if n < 5:
        raise ValueError("n must be at least 5 artists")
    top = map_artists(ds, n)
    perplexity = float(min(30.0, max(2.0, (top.size - 1) / 3)))
    xy = TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed, max_iter=500
    ).fit_transform(emb[top].astype(np.float64))
    return _map_frame(ds, top, xy)


def map_artists(ds: Dataset, n: int) -> np.ndarray:
    """Column indices (int64) of the ``n`` most listened artists, ties by index: the map's."""
    listeners = ds.artist_listeners()
    return np.lexsort((np.arange(listeners.size), -listeners))[: min(n, ds.n_artists)].astype(
        np.int64
    )


#: Bumped when the map's computation changes, so layouts cached by older code are recomputed.
MAP_VERSION = 1


def map_cache_path(artifact: str | os.PathLike[str], n: int, seed: int = 0) -> Path:
    """Where the t-SNE layout of ``n`` artists for the model in ``artifact`` is kept."""
    artifact = Path(artifact)
    return artifact.with_name(f"{artifact.stem}.map-{n}-{seed}.npz")


def _artifact_stamp(artifact: Path, ds: Dataset, n: int, seed: int) -> str:
    st = artifact.stat()
    return json.dumps(
        {
            "version": MAP_VERSION,
            "artifact": artifact.name,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "data": ds.fingerprint,
            "n": n,
            "seed": seed,
        },
        sort_keys=True,
    )


def has_cached_map(
    ds: Dataset, artifact: str | os.PathLike[str] | None, n: int = 1500, seed: int = 0
) -> bool:
    """Whether :func:`cached_embedding_map` would read the layout instead of computing it."""
    path = Path(artifact) if artifact else None
    if path is None or not path.is_file():
        return False
    try:
        with np.load(map_cache_path(path, n, seed), allow_pickle=False) as z:
            return str(z["stamp"]) == _artifact_stamp(path, ds, n, seed)
    except (OSError, KeyError, ValueError):
        return False


def cached_embedding_map(
    ds: Dataset,
    embeddings: np.ndarray,
    artifact: str | os.PathLike[str] | None,
    n: int = 1500,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`embedding_map`, read from (or written to) a layout file beside ``artifact``.

    The file records the artifact's size and modification time and the data fingerprint; a
    layout of another artifact version is recomputed. Without an artifact file, or when its
    folder cannot be written, the map is computed and not kept.
    """
    path = Path(artifact) if artifact else None
    if path is None or not path.is_file():
        return embedding_map(ds, embeddings, n=n, seed=seed)
    stamp = _artifact_stamp(path, ds, n, seed)
    cache = map_cache_path(path, n, seed)
    try:
        with np.load(cache, allow_pickle=False) as z:
            if str(z["stamp"]) == stamp:
                return _map_frame(ds, z["index"].astype(np.int64), z["xy"].astype(np.float32))
    except (OSError, KeyError, ValueError):
        pass  # no layout yet, or a damaged one: compute it again
    points = embedding_map(ds, embeddings, n=n, seed=seed)
    index = map_artists(ds, n)
    try:
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, stamp=np.array(stamp), index=index, xy=points[["x", "y"]].to_numpy())
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only folder: the map is still shown, only not kept
    return points


def _map_frame(ds: Dataset, top: np.ndarray, xy: np.ndarray) -> pd.DataFrame:
    listeners = ds.artist_listeners()
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
