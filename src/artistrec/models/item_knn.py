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

from artistrec.models.item_item import ItemItemRecommender
from artistrec.models.params import param
from artistrec.models.sparse import topk_product
from artistrec.models.weighting import WEIGHTINGS, add_prior


class ItemKNN(ItemItemRecommender):
    """Item-based k-nearest-neighbours with shrunk cosine similarity.

    ``S_ij = x_i . x_j / (|x_i| |x_j| + shrink)`` over weighted listener vectors, diagonal removed,
    each item keeping its ``neighbors`` most similar items (sparse). Scores ``x_u @ S``.
    """

    name = "item-knn"

    neighbors: int = param(1000, "most similar artists kept per artist", ge=1)
    shrink: float = param(5.0, "added to the cosine's denominator (damps rare co-listens)", ge=0)
    weighting: str = param("binary", "input weight of a listen count", choices=WEIGHTINGS)

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
        sim = topk_product(x.T.tocsr(), x, int(self.neighbors), cosine)
        self.similarity_ = sim.T.tocsr()

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:
        return (x @ self.similarity_).toarray().astype(np.float32)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        if measure == "cosine":  # the artist's own nearest neighbours (column of S)
            scores = self.similarity_[:, artist].toarray().ravel()
        else:  # number of shared listeners
            b = (self.seen_ > 0).astype(np.float32)
            scores = (b[:, [artist]].T @ b).toarray().ravel()
        return add_prior(scores, self.prior_)[0]

    def _state(self) -> dict[str, Any]:
        return {**self._base_state(), "similarity": self.similarity_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_base_state(state)
        self.similarity_ = sp.csr_matrix(state["similarity"], dtype=np.float32)
