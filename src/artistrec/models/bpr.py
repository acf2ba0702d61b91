"""Bayesian Personalized Ranking matrix factorisation (Rendle et al., 2009) via ``implicit``.

Trained with ``implicit.cpu.bpr.BayesianPersonalizedRanking`` on binary listens (one thread, so
the SGD is reproducible from the seed). implicit appends an item-bias column to the item factors
and a constant 1 to the user factors.

Fold-in. implicit's SGD draws a positive from the person's listens and a negative from the item
column of a random training pair (so negatives follow listener counts, the person's own artists
excluded), and shrinks the user vector by ``l2`` at each step. With the item factors
fixed, the expected update vanishes where

    mean_i  E_{j ~ popularity}[ σ(-(s_i - s_j)) (y_i - y_j) ] = l2 · x,

which is the stationary point of the concave objective
``mean_i E_j log σ(x·(y_i - y_j)) - l2/2 |x|²`` (bias entry of x fixed to 1). The
fold-in maximises exactly that objective with a trust-region Newton method (analytic gradient
and Hessian) from x = 0: the same criterion the trained user vectors were pushed towards, a
unique optimum, no randomness at all, and ~0.5 s for a 50-artist profile on the HetRec data.
The SGD stops short of that optimum, so a known user's own history folded in shares ~70% of
their top-10 (measured on the real data), against ~100% for the closed-form models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize as so
from scipy.special import expit, log_expit

from artistrec.data.dataset import Dataset
from artistrec.models.base import EmbeddingSimilarityMixin, Recommender
from artistrec.models.linalg import single_blas_thread
from artistrec.models.params import param
from artistrec.models.weighting import add_prior, listener_counts, popularity_prior


class _FoldInObjective:
    """Negative fold-in objective, gradient and Hessian in the free (non-bias) user factors.

    ``f(w) = mean_i sum_j q_j softplus(-(s_i - s_j)) + l2/2 |w|²`` with ``s = Y [w, 1]``.
    The n_pos x n_neg margin matrix is computed once per point and shared by the three calls.
    """

    def __init__(self, pos: np.ndarray, neg: np.ndarray, q: np.ndarray, l2: float) -> None:
        self.pos, self.neg, self.q, self.l2 = pos, neg, q, float(l2)
        self.q32, self.neg32 = q.astype(np.float32), neg.astype(np.float32)
        self._w: np.ndarray | None = None

    def _at(self, w: np.ndarray) -> None:
        if self._w is not None and np.array_equal(w, self._w):
            return
        self._w = w.copy()
        x = np.append(w, 1.0)
        # the big n_pos x n_neg arrays in float32 (half the memory traffic); sums in float64
        margin = ((self.pos @ x)[:, None] - (self.neg @ x)[None, :]).astype(np.float32)
        self.margin = margin
        self.p_neg = expit(-margin)  # sigma(-margin): derivative of softplus(-margin)

    def value(self, w: np.ndarray) -> float:
        self._at(w)
        loss = -(log_expit(self.margin).astype(np.float64) @ self.q).mean()
        return float(loss + 0.5 * self.l2 * (w @ w))

    def grad(self, w: np.ndarray) -> np.ndarray:
        self._at(w)
        d = self.p_neg * self.q32[None, :]
        g = -(
            d.sum(axis=1, dtype=np.float64) @ self.pos - d.sum(axis=0, dtype=np.float64) @ self.neg
        )
        g /= self.pos.shape[0]
        return g[:-1] + self.l2 * w

    def hess(self, w: np.ndarray) -> np.ndarray:
        self._at(w)
        h = self.p_neg * (1.0 - self.p_neg) * self.q32[None, :]
        pos, neg = self.pos, self.neg
        cross = pos.T @ (h @ self.neg32).astype(np.float64)
        a, b = h.sum(axis=1, dtype=np.float64), h.sum(axis=0, dtype=np.float64)
        full = (pos.T * a) @ pos + (neg.T * b) @ neg - cross - cross.T
        full /= pos.shape[0]
        return full[:-1, :-1] + self.l2 * np.eye(w.size)


class BPR(EmbeddingSimilarityMixin, Recommender):
    """BPR-MF on binary listens; similar artists by cosine/dot of item factors (bias excluded)."""

    name = "bpr"

    # 2: ``regularization`` renamed ``l2``
    state_version = 2

    factors: int = param(32, "width of the user and item factors (plus implicit's bias)", ge=1)
    learning_rate: float = param(0.01, "SGD step size", gt=0)
    l2: float = param(0.01, "L2 penalty on the factors (each SGD step)", ge=0)
    iterations: int = param(60, "SGD passes over the listens", ge=1)
    random_state: int = param(0, "seed of the initialisation and the sampling", ge=0)

    def _fit(self, dataset: Dataset) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        binary = (self.seen_ > 0).astype(np.float32).tocsr()
        self.prior_ = popularity_prior(self.seen_)
        self.negative_weights_ = listener_counts(self.seen_)
        with single_blas_thread():
            model = BayesianPersonalizedRanking(
                factors=int(self.factors),
                learning_rate=float(self.learning_rate),
                regularization=float(self.l2),
                iterations=int(self.iterations),
                num_threads=1,  # Hogwild SGD is only reproducible on one thread
                random_state=int(self.random_state),
            )
            model.fit(binary, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    # ------------------------------------------------------------------ fold-in
    def fold_in(self, items: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        """The BPR user vector (bias entry 1 included) for a person who listened to ``items``.

        BPR learns from binary listens, so ``levels`` only matter as "listened" (> 0).
        """
        self._check_fitted()
        items = np.unique(np.asarray(items, dtype=np.int64))
        y = self.item_factors_.astype(np.float64)
        x = np.zeros(y.shape[1], dtype=np.float64)
        x[-1] = 1.0
        q = self.negative_weights_.astype(np.float64).copy()
        q[items] = 0.0
        neg = np.flatnonzero(q > 0)
        if items.size == 0 or neg.size == 0:
            return x.astype(np.float32)
        objective = _FoldInObjective(y[items], y[neg], q[neg] / q[neg].sum(), self.l2)
        # convex and smooth: a trust-region Newton method converges in a handful of steps
        with single_blas_thread():  # small products: threads only hurt
            res = so.minimize(
                objective.value,
                np.zeros(y.shape[1] - 1),
                jac=objective.grad,
                hess=objective.hess,
                method="trust-exact",
                options={"gtol": 1e-5, "maxiter": 100},
            )
        x[:-1] = res.x
        return x.astype(np.float32)

    # ------------------------------------------------------------------ scoring
    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return add_prior(self.user_factors_[users] @ self.item_factors_.T, self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        if items.size == 0:  # no signal: the popularity prior, as for every other model
            return self.prior_
        return add_prior(self.item_factors_ @ self.fold_in(items, levels), self.prior_)[0]

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        # artists without training listeners have zero factors: order those ties by popularity
        return add_prior(super()._similar_scores(artist, measure), self.prior_)[0]

    def item_embeddings(self) -> np.ndarray:
        """The item factors without implicit's bias column (n_items, factors)."""
        self._check_fitted()
        return self.item_factors_[:, :-1]

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, Any]:
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "prior": self.prior_,
            "negative_weights": self.negative_weights_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], dtype=np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], dtype=np.float32)
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.negative_weights_ = np.asarray(state["negative_weights"], dtype=np.float32)
        if self.user_factors_.shape[1] != self.item_factors_.shape[1]:
            raise ValueError("user and item factors have different widths")
