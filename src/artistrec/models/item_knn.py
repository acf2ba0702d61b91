"""Item-based neighbourhood model.

``ItemKNN`` scores a user as ``x_u @ S`` where ``S`` is a sparse item-item similarity (cosine
with shrinkage over weighted listen vectors), pruned to each item's ``neighbors`` nearest
neighbours. A new person is folded in exactly like a known one: ``r @ S`` with ``r`` their
levels mapped to representative listen counts and weighted as in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.item_item import SparseItemItemRecommender
from artistrec.models.params import param
from artistrec.models.sparse import topk_product, with_tagged
from artistrec.models.weighting import WEIGHTINGS, add_prior, listener_counts


class ItemKNN(SparseItemItemRecommender):
    """Item-based k-nearest-neighbours with shrunk cosine similarity.

    ``S_ij = x_i . x_j / (|x_i| |x_j| + shrink)`` over weighted listener vectors, diagonal removed,
    each item keeping its ``neighbors`` most similar items (sparse). Scores ``x_u @ S``.
    """

    name = "item-knn"
    _sparse_attr = "similarity_"

    neighbors: int = param(1000, "most similar artists kept per artist", ge=1)
    shrink: float = param(5.0, "added to the cosine's denominator (damps rare co-listens)", ge=0)
    weighting: str = param("binary", "input weight of a listen count", choices=WEIGHTINGS)
    query_weighting: str = param(
        "same",
        "weight of a scored person's listens ('same': as ``weighting``; 'levels' weighs a new "
        "person's revealed artists by their level)",
        choices=("same", *WEIGHTINGS),
    )
    prune: str = param(
        "target",
        "whose nearest neighbours are kept: each scored artist's ('target') or each listened "
        "artist's ('source', as the hybrid's new-user kNN)",
        choices=("target", "source"),
    )
    tagged_cap: int = param(
        0,
        "tagged, unlisted artists counted per training user in the co-occurrences (most "
        "listened first; HetRec lists only each user's top-50 listens)",
        ge=0,
    )

    def _training_counts(self, dataset: Dataset) -> sp.csr_matrix:
        if self.tagged_cap == 0:
            return self.seen_
        # binary by construction: the tagged artists have no count
        return with_tagged(self.seen_, self.known_, listener_counts(self.seen_), self.tagged_cap)

    def _query_weighting(self) -> str:
        return self.weighting if self.query_weighting == "same" else self.query_weighting

    def _fit_weights(self, x: sp.csr_matrix) -> None:
        xc = x.tocsc()
        norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0), dtype=np.float64).ravel())
        del xc
        shrink = float(self.shrink)

        def cosine(rows: np.ndarray, cols: np.ndarray, co: np.ndarray) -> np.ndarray:
            sim = co / np.maximum(norms[rows] * norms[cols] + shrink, 1e-12)
            return np.where(rows == cols, 0.0, sim)  # no diagonal

        # row i = i's nearest neighbours, computed by blocks of artists (the full co-occurrence
        # matrix would not fit at Last.fm-360K's size); transposed, column j holds the
        # neighbours used to score j (the matrix is symmetric before pruning).
        pruned = topk_product(x.T.tocsr(), x, int(self.neighbors), cosine)
        self.similarity_ = pruned.tocsr() if self.prune == "source" else pruned.T.tocsr()

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:
        return (x @ self.similarity_).toarray().astype(np.float32)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        if measure == "cosine":  # the artist's own nearest neighbours (its row before pruning)
            s = self.similarity_
            own = s[artist] if self.prune == "source" else s[:, artist].T
            scores = own.toarray().ravel()
        else:  # number of shared listeners
            b = (self.seen_ > 0).astype(np.float32)
            scores = (b[:, [artist]].T @ b).toarray().ravel()
        return add_prior(scores, self.prior_)[0]

    def _state(self) -> dict[str, Any]:
        return {**self._base_state(), "similarity": self.similarity_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_base_state(state)
        self.similarity_ = sp.csr_matrix(state["similarity"], dtype=np.float32)
