"""RP3beta (Paudel et al., 2017): a popularity-discounted 3-step random walk user -> item -> user -> item.

``P_ui`` is the row-normalised user x artist matrix and ``P_iu`` the row-normalised artist x user
matrix, both raised element-wise to ``alpha``; ``W = P_iu @ P_ui`` is the artist -> artist
transition, each column divided by the artist's listener count to the power ``beta`` (so hits do
not drown everything), diagonal removed and each row pruned to its ``neighbors`` largest weights.
Scores are ``x_u @ W``; a new person is ``r @ W``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.models.item_item import SparseItemItemRecommender
from artistrec.models.params import param
from artistrec.models.sparse import row_stochastic, topk_product
from artistrec.models.weighting import WEIGHTINGS, add_prior, listener_counts


class RP3beta(SparseItemItemRecommender):
    """Three-step random walk on the listening graph; ``beta`` discounts popularity, ``alpha`` sharpens."""

    name = "rp3beta"

    alpha: float = param(
        0.8, "exponent of the walk's transition probabilities (the paper's alpha)", gt=0
    )
    beta: float = param(
        0.3, "popularity discount: each target divided by listeners**beta (the paper's beta)", ge=0
    )
    neighbors: int = param(1000, "strongest transitions kept per artist", ge=1)
    weighting: str = param("binary", "input weight of a listen count", choices=WEIGHTINGS)

    def _fit_weights(self, x: sp.csr_matrix) -> None:
        p_ui = row_stochastic(x).power(float(self.alpha))
        p_iu = row_stochastic(x.T.tocsr()).power(float(self.alpha))
        degree = np.maximum(listener_counts(self.seen_), 1.0)
        discount = np.power(degree, -float(self.beta)).astype(np.float32)

        def discounted(rows: np.ndarray, cols: np.ndarray, walk: np.ndarray) -> np.ndarray:
            return np.where(rows == cols, np.float32(0.0), walk * discount[cols])

        # by blocks of artists: the whole walk matrix would not fit at Last.fm-360K's size
        self.weights_ = topk_product(p_iu, p_ui, int(self.neighbors), discounted)

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:
        return (x @ self.weights_).toarray().astype(np.float32)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        w = self.weights_
        if measure == "dot":  # where the walk from this artist leads
            scores = w[artist].toarray().ravel()
        else:  # cosine of the artists' walk profiles (artists that lead to the same places)
            norms = np.sqrt(np.asarray(w.multiply(w).sum(axis=1), dtype=np.float64).ravel())
            dots = (w @ w[artist].T).toarray().ravel()
            scores = dots / np.maximum(norms * norms[artist], 1e-12)
        return add_prior(scores.astype(np.float32), self.prior_)[0]

    def _state(self) -> dict[str, Any]:
        return {**self._base_state(), "weights": self.weights_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_base_state(state)
        self.weights_ = sp.csr_matrix(state["weights"], dtype=np.float32)
