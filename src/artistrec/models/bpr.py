"""Bayesian Personalized Ranking matrix factorisation (Rendle et al., 2009) via ``implicit``.

Trained with ``implicit.cpu.bpr.BayesianPersonalizedRanking`` on binary listens (one thread, so
the SGD is reproducible from the seed). implicit appends an item-bias column to the item factors
and a constant 1 to the user factors.

Fold-in. implicit's SGD draws a positive from the person's listens and a negative from the item
column of a random training pair (so negatives follow listener counts, the person's own artists
excluded), and shrinks the user vector by ``regularization`` at each step. With the item factors
fixed, the expected update vanishes where

    mean_i  E_{j ~ popularity}[ σ(-(s_i - s_j)) (y_i - y_j) ] = regularization · x,

which is the stationary point of the concave objective
``mean_i E_j log σ(x·(y_i - y_j)) - regularization/2 |x|²`` (bias entry of x fixed to 1). The
fold-in maximises exactly that objective with L-BFGS from x = 0: the same criterion the trained
user vectors were pushed towards, a unique optimum, and no randomness at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize as so
from threadpoolctl import threadpool_limits

from artistrec.data.dataset import Dataset
from artistrec.models.als import check_seed
from artistrec.models.base import EmbeddingSimilarityMixin, Recommender
from artistrec.models.item_knn import add_prior, check_positive, listener_counts, popularity_prior


class BPR(EmbeddingSimilarityMixin, Recommender):
    """BPR-MF on binary listens; similar artists by cosine/dot of item factors (bias excluded)."""

    name = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        check_positive("factors", self.factors, integer=True)
        check_positive("iterations", self.iterations, integer=True)
        check_positive("learning_rate", self.learning_rate)
        check_positive("regularization", self.regularization, allow_zero=True)
        seed = check_seed(self.random_state)
        binary = (self.seen_ > 0).astype(np.float32).tocsr()
        self.prior_ = popularity_prior(self.seen_)
        self.negative_weights_ = listener_counts(self.seen_)
        with threadpool_limits(limits=1, user_api="blas"):
            model = BayesianPersonalizedRanking(
                factors=int(self.factors),
                learning_rate=float(self.learning_rate),
                regularization=float(self.regularization),
                iterations=int(self.iterations),
                num_threads=1,  # Hogwild SGD is only reproducible on one thread
                random_state=seed,
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
        q = q[neg] / q[neg].sum()
        pos_y, neg_y = y[items], y[neg]
        lam = float(self.regularization)

        def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
            x[:-1] = w
            margin = (pos_y @ x)[:, None] - (neg_y @ x)[None, :]  # (n_pos, n_neg)
            loss = np.logaddexp(0.0, -margin) @ q  # -log σ(margin), averaged over negatives
            d = (0.5 * (1.0 - np.tanh(0.5 * margin))) * q[None, :]  # σ(-margin) q_j
            grad = -(d.sum(axis=1) @ pos_y - d.sum(axis=0) @ neg_y) / items.size
            value = loss.mean() + 0.5 * lam * float(w @ w)
            return value, grad[:-1] + lam * w

        res = so.minimize(
            objective,
            np.zeros(y.shape[1] - 1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 200, "gtol": 1e-7},
        )
        x[:-1] = res.x
        return x.astype(np.float32)

    # ------------------------------------------------------------------ scoring
    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return add_prior(self.user_factors_[users] @ self.item_factors_.T, self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return add_prior(self.item_factors_ @ self.fold_in(items, levels), self.prior_)[0]

    def _item_embeddings(self) -> np.ndarray:
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
