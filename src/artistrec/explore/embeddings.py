"""Artist embeddings of fitted models for the "Models" page: the embedding, a 2-D map, norms.

:func:`item_embeddings` is the one place an embedding is asked of a model.
"""

from __future__ import annotations

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
