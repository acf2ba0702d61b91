"""``seed-mf``: a faithful re-implementation of the original student project's matrix factorization.

The original fitted ``U`` (users x d) and ``V`` (artists x d) by full-batch gradient descent on
the mean squared error over the OBSERVED entries of the 1-5 level matrix (``Dataset.levels()``),
prediction ``u . v``, d = 12, init normal(0, 0.25). Its second variant added, as in the
well-known "regularized MF with gravity" recipe it follows,

    l2 * (||U||^2 / N + ||V||^2 / M)  +  gravity * (1 / (N M)) * sum((U^T U) o (V^T V)),

where the gravity term equals ``||U V^T||_F^2 / (N M)``: the mean squared prediction over ALL
N x M pairs, computed in O((N + M) d^2) without materialising them. It pulls predictions on
unobserved pairs towards 0, which plain observed-only MSE never does.

Here: numpy with analytic gradients (residuals on observed entries only, as one sparse matrix),
float32, full batch. The optimizer is Adam by default (``optimizer="gd"`` gives plain gradient
descent): with the 1/|observed| scaling of the MSE, plain GD needs a large, data-dependent
learning rate and thousands of epochs, whereas Adam at 0.05 converges in a few hundred epochs
(300 epochs: about 3.5 s of CPU on the HetRec data; chosen on a validation split). BLAS is
limited to one thread during fit, as the products are tall-skinny. ``holdout`` carves a seeded
random fraction of the observed entries out of the training data and records their MSE per epoch
(``test_loss_``) next to ``train_loss_``; both are saved with the model so the web app can plot
them. The L2 term is averaged per row (``/N``, ``/M``) as in that recipe; the original's code only
fixes the weight (0.1), so this scaling is our reading of it.

Fold-in of a new person (fixed ``V``) minimises the same objective restricted to one user row.
Multiplying it by |observed| gives the ridge system

    (V_r^T V_r + l2 |O| / N * I + gravity |O| / (N M) * V^T V) u = V_r^T r

(a small positive floor keeps it well posed when both weights are 0). ``fold_in="dot"`` is the
original's shortcut ``u = r @ V_r``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.base import EmbeddingSimilarityMixin, Recommender
from artistrec.models.linalg import single_blas_thread
from artistrec.models.params import param
from artistrec.models.weighting import popularity_prior

#: The two variants of the original project (plain parameters stay primary).
VARIANTS: dict[str, dict[str, float]] = {
    "plain": {"l2": 0.0, "gravity": 0.0},
    "gravity": {"l2": 0.1, "gravity": 1.0},
}

#: Ridge floor of the exact fold-in, so it stays well posed with l2 = gravity = 0.
RIDGE_FLOOR = 1e-3

_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8


def objective(
    U: np.ndarray,
    V: np.ndarray,
    R: sp.csr_matrix,
    l2: float = 0.0,
    gravity: float = 0.0,
    rows: np.ndarray | None = None,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Training objective and its analytic gradients; returns ``(loss, mse, grad_U, grad_V)``.

    ``R`` holds the observed levels (CSR, N x M); only its stored entries enter the MSE. ``rows``
    (the row index of each stored entry) may be passed precomputed. Works in the dtype of
    ``U``/``V`` (the tests check it against finite differences in float64).
    """
    n, m = R.shape
    if rows is None:
        rows = np.repeat(np.arange(n), np.diff(R.indptr))
    pred = np.einsum("ij,ij->i", np.take(U, rows, axis=0), np.take(V, R.indices, axis=0))
    resid = (pred - R.data).astype(U.dtype, copy=False)
    n_obs = max(R.nnz, 1)
    mse = float(resid @ resid) / n_obs
    E = sp.csr_matrix((resid, R.indices, R.indptr), shape=R.shape)
    gU = (2.0 / n_obs) * (E @ V)
    gV = (2.0 / n_obs) * (E.T @ U)
    loss = mse
    if l2:
        loss += l2 * (float(np.vdot(U, U)) / n + float(np.vdot(V, V)) / m)
        gU += (2.0 * l2 / n) * U
        gV += (2.0 * l2 / m) * V
    if gravity:
        uu, vv = U.T @ U, V.T @ V
        loss += gravity * float(np.vdot(uu, vv)) / (n * m)
        gU += (2.0 * gravity / (n * m)) * (U @ vv)
        gV += (2.0 * gravity / (n * m)) * (V @ uu)
    return loss, mse, np.asarray(gU, U.dtype), np.asarray(gV, V.dtype)


def _mse(
    U: np.ndarray, V: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray
) -> float:
    if rows.size == 0:
        return float("nan")
    resid = np.einsum("ij,ij->i", np.take(U, rows, axis=0), np.take(V, cols, axis=0)) - vals
    return float(resid @ resid) / rows.size


class SeedMF(EmbeddingSimilarityMixin, Recommender):
    """Matrix factorization of the 1-5 levels by full-batch MSE (+ optional L2 and gravity).

    The defaults are the original's plain variant; ``SeedMF.from_variant("gravity")`` (or
    ``l2=0.1, gravity=1.0``) gives its regularised one.
    """

    name = "seed-mf"

    # 2: ``dim``, ``epochs``, ``seed`` renamed ``factors``, ``iterations``, ``random_state``
    state_version = 2

    factors: int = param(12, "width of the user and artist factors (the original's d)", ge=1)
    init_std: float = param(0.25, "standard deviation of the normal initialisation", gt=0)
    l2: float = param(0.0, "L2 weight, averaged per row (||U||²/N + ||V||²/M)", ge=0)
    gravity: float = param(0.0, "weight of the mean squared prediction over all pairs", ge=0)
    learning_rate: float = param(0.05, "step size of Adam (or plain gradient descent)", gt=0)
    iterations: int = param(300, "full-batch gradient steps (epochs)", ge=1)
    optimizer: str = param("adam", "Adam or plain gradient descent", choices=("adam", "gd"))
    holdout: float = param(
        0.0, "share of observed levels kept out of training to record a held-out loss", ge=0, lt=1
    )
    fold_in: str = param(
        "exact",
        "new-user vector: exact ridge solve or the original's r @ V",
        choices=("exact", "dot"),
    )
    random_state: int = param(0, "seed of the initialisation and the hold-out draw", ge=0)

    @classmethod
    def from_variant(cls, variant: str, **params: Any) -> SeedMF:
        """The original's ``"plain"`` or ``"gravity"`` variant; ``params`` override anything."""
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        return cls(**{**VARIANTS[variant], **params})

    # ------------------------------------------------------------------------- training
    def _fit(self, dataset: Dataset) -> None:
        # The products are tall-skinny (n x 12 @ 12 x 12): multi-threaded BLAS only adds
        # synchronisation, which costs 10-50x on a busy 2-core machine.
        with (
            single_blas_thread(),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            self._train(dataset)

    def _train(self, dataset: Dataset) -> None:
        l2, grav = float(self.l2), float(self.gravity)
        levels = dataset.levels().tocoo()
        n, m = levels.shape
        rng = np.random.default_rng(self.random_state)
        test = np.zeros(levels.nnz, dtype=bool)
        if self.holdout > 0 and levels.nnz:
            test[rng.permutation(levels.nnz)[: int(round(self.holdout * levels.nnz))]] = True
        train = sp.csr_matrix(
            (levels.data[~test], (levels.row[~test], levels.col[~test])),
            shape=(n, m),
            dtype=np.float32,
        )
        te_r, te_c, te_v = levels.row[test], levels.col[test], levels.data[test]
        rows = np.repeat(np.arange(n), np.diff(train.indptr))

        U = (self.init_std * rng.standard_normal((n, self.factors))).astype(np.float32)
        V = (self.init_std * rng.standard_normal((m, self.factors))).astype(np.float32)
        lr = np.float32(self.learning_rate)
        adam = self.optimizer == "adam"
        mU, vU, mV, vV = (np.zeros_like(U), np.zeros_like(U), np.zeros_like(V), np.zeros_like(V))
        train_loss = np.empty(self.iterations, np.float32)
        test_loss = np.empty(self.iterations if test.any() else 0, np.float32)
        objective_curve = np.empty(self.iterations, np.float32)
        for t in range(1, self.iterations + 1):
            loss, mse, gU, gV = objective(U, V, train, l2, grav, rows)
            objective_curve[t - 1], train_loss[t - 1] = loss, mse
            if test_loss.size:  # before this epoch's step, like the training MSE
                test_loss[t - 1] = _mse(U, V, te_r, te_c, te_v)
            if adam:
                c1, c2 = 1 - _ADAM_B1**t, 1 - _ADAM_B2**t
                for p, g, mom, var in ((U, gU, mU, vU), (V, gV, mV, vV)):
                    mom *= _ADAM_B1
                    mom += (1 - _ADAM_B1) * g
                    var *= _ADAM_B2
                    var += (1 - _ADAM_B2) * g * g
                    p -= lr * (mom / c1) / (np.sqrt(var / c2) + _ADAM_EPS)
            else:
                U -= lr * gU
                V -= lr * gV
        if not (np.all(np.isfinite(U)) and np.all(np.isfinite(V))):
            raise FloatingPointError(
                f"seed-mf diverged (learning_rate={self.learning_rate}); use a smaller one"
            )
        self.user_factors_ = U
        self.item_factors_ = V
        self._item_gram = None
        self.train_loss_ = train_loss
        self.test_loss_ = test_loss
        self.objective_ = objective_curve
        self.n_train_obs_ = int(train.nnz)

    # ------------------------------------------------------------------------- scoring
    def item_embeddings(self) -> np.ndarray:
        """The artist factors ``V`` (n_items, factors)."""
        self._check_fitted()
        return self.item_factors_

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def fold_in_vector(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """User vector (d,) of a new person from rated artist indices and levels 1..5, V fixed.

        ``fold_in="exact"`` solves the training objective restricted to one user row (see the
        module docstring); ``"dot"`` is the original's ``r @ V_r``.
        """
        self._check_fitted()
        items = np.asarray(items, dtype=np.int64)
        r = np.asarray(levels, dtype=np.float32)
        if items.shape != r.shape or items.ndim != 1:
            raise ValueError("items and levels must be 1-D arrays of the same length")
        V = self.item_factors_
        Vr = V[items]
        if self.fold_in == "dot":
            return (r @ Vr).astype(np.float32)
        l2, grav = float(self.l2), float(self.gravity)
        n, m = self.user_factors_.shape[0], V.shape[0]
        scale = float(self.n_train_obs_)
        A = (Vr.T @ Vr).astype(np.float64)
        A += max(l2 * scale / n, RIDGE_FLOOR) * np.eye(V.shape[1])
        if grav:
            if getattr(self, "_item_gram", None) is None:  # derived from V, cached, not saved
                self._item_gram = (V.T @ V).astype(np.float64)
            A += (grav * scale / (n * m)) * self._item_gram
        return np.linalg.solve(A, (Vr.T @ r).astype(np.float64)).astype(np.float32)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        if items.size == 0:  # no evidence: the prior is popularity (listener counts)
            return popularity_prior(self.seen_)
        return self.item_factors_ @ self.fold_in_vector(items, levels)

    # ------------------------------------------------------------------------- persistence
    def _state(self) -> dict[str, Any]:
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "train_loss": self.train_loss_,
            "test_loss": self.test_loss_,
            "objective": self.objective_,
            "n_train_obs": np.int64(self.n_train_obs_),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], dtype=np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], dtype=np.float32)
        self._item_gram = None
        self.train_loss_ = np.asarray(state["train_loss"], dtype=np.float32)
        self.test_loss_ = np.asarray(state["test_loss"], dtype=np.float32)
        self.objective_ = np.asarray(state["objective"], dtype=np.float32)
        self.n_train_obs_ = int(state["n_train_obs"])
        if self.item_factors_.shape != (self.n_items, self.factors):
            raise ValueError(
                f"item_factors shape {self.item_factors_.shape} != ({self.n_items}, {self.factors})"
            )
