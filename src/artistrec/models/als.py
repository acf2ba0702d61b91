"""Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky 2008).

Training uses ``implicit.cpu.als.AlternatingLeastSquares`` on a confidence matrix
``C = 1 + alpha * w(count)`` for listened pairs (1 elsewhere), preference 1 for listened pairs,
where ``w`` is the input weighting (``bm25``, ``log``, ``levels`` or ``binary``). After the last
sweep the user factors are recomputed exactly against the final item factors, so a known user's
vector is precisely the solution the fold-in computes for a new person:

    x = (YᵀY + Yᵀ(C - I)Y + λI)⁻¹ YᵀC p

with the new person's levels mapped to representative listen counts and weighted as in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.base import EmbeddingSimilarityMixin, Recommender
from artistrec.models.linalg import single_blas_thread
from artistrec.models.params import param
from artistrec.models.weighting import (
    WEIGHTINGS,
    add_prior,
    bm25_length_norm,
    popularity_prior,
    query_weights,
    weigh,
)


class ALS(EmbeddingSimilarityMixin, Recommender):
    """Weighted-confidence ALS; similar artists by cosine/dot of item factors."""

    name = "als"

    # 2: ``regularization`` renamed ``l2``
    state_version = 2

    factors: int = param(32, "width of the user and item factors", ge=1)
    l2: float = param(30.0, "L2 penalty (ridge) on the factors", gt=0)
    alpha: float = param(1.0, "confidence of a listen: 1 + alpha * weight(count)", ge=0)
    iterations: int = param(15, "alternating sweeps over users and items", ge=1)
    weighting: str = param("log", "weight(count) inside the confidence", choices=WEIGHTINGS)
    random_state: int = param(0, "seed of the factors' initialisation", ge=0)

    # ------------------------------------------------------------------ training
    def _confidence(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        c = weigh(counts, self.weighting, self.length_norm_)
        c.data = (1.0 + float(self.alpha) * c.data).astype(np.float32)
        return c

    def _fit(self, dataset: Dataset) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        self.prior_ = popularity_prior(self.seen_)
        self.length_norm_ = bm25_length_norm(self.seen_)
        conf = self._confidence(self.seen_)
        # implicit's solvers are multi-threaded themselves; a multi-threaded BLAS underneath
        # oversubscribes the cores (implicit warns about it), so BLAS gets one thread.
        with single_blas_thread():
            model = AlternatingLeastSquares(
                factors=int(self.factors),
                regularization=float(self.l2),
                alpha=1.0,  # the confidence is already in ``conf``
                iterations=int(self.iterations),
                random_state=int(self.random_state),
                calculate_training_loss=False,
                # per-user/per-item solves are independent, so any thread count gives the same
                # factors; one thread measured fastest on the shared 2-core machines (OpenMP
                # spin-waiting under load cost up to 10x on small data)
                num_threads=1,
            )
            model.fit(conf, show_progress=False)
            # one exact user half-step against the final item factors (Cholesky, batched)
            users = np.arange(conf.shape[0])
            user_factors = model.recalculate_user(users, conf)
        self.user_factors_ = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.item_gram_ = self._gram(self.item_factors_)

    @staticmethod
    def _gram(item_factors: np.ndarray) -> np.ndarray:
        """Y^T Y (float64), shared by every fold-in: computed once per fit or load."""
        y = item_factors.astype(np.float64)
        return y.T @ y

    # ------------------------------------------------------------------ scoring
    def fold_in(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """The exact ALS user vector for a person with ``levels`` (1..5) on ``items``."""
        self._check_fitted()
        w = query_weights(items, levels, self.weighting, self.length_norm_, self.n_items)
        yi = self.item_factors_[items].astype(np.float64)
        c = 1.0 + float(self.alpha) * w.astype(np.float64)
        # small products: a multi-threaded BLAS only adds overhead (measured 1.5 s vs 2 ms on a
        # loaded 2-core machine)
        with single_blas_thread():
            reg = float(self.l2) * np.eye(yi.shape[1])
            a = self.item_gram_ + (yi.T * (c - 1.0)) @ yi + reg
            return np.linalg.solve(a, yi.T @ c).astype(np.float32)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return add_prior(self.user_factors_[users] @ self.item_factors_.T, self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return add_prior(self.item_factors_ @ self.fold_in(items, levels), self.prior_)[0]

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        # artists without training listeners have zero factors: order those ties by popularity
        return add_prior(super()._similar_scores(artist, measure), self.prior_)[0]

    def item_embeddings(self) -> np.ndarray:
        """The item factors (n_items, factors)."""
        self._check_fitted()
        return self.item_factors_

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, Any]:
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "prior": self.prior_,
            "length_norm": self.length_norm_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], dtype=np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], dtype=np.float32)
        self.item_gram_ = self._gram(self.item_factors_)
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.length_norm_ = np.asarray(state["length_norm"], dtype=np.float32)
        if self.user_factors_.shape[1] != self.item_factors_.shape[1]:
            raise ValueError("user and item factors have different widths")
