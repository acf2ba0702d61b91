"""The original project's ranking model as a reusable ranker: an MLP over (query, candidate) features.

A stage-2 ranker orders the candidates retrieved for one query (a known user or a new user's
ratings) from one feature vector per (query, candidate). :class:`MLPRanker` has a LightGBM-like
interface so a pipeline can swap it with ``lightgbm.LGBMRanker``:

    ranker = MLPRanker(objective="listnet").fit(X, y, groups, X_val=Xv, y_val=yv, groups_val=gv)
    scores = ranker.predict(X_new)                      # float32 (n,), higher = better
    state = ranker.state()                              # numpy arrays for an npz artifact
    same = MLPRanker.from_state(state)                  # numpy only, no torch

Rows of one query are contiguous and ``groups`` holds the size of each query's block (as
LightGBM's ``group``). Features are standardised inside (mean and scale learned on the training
rows, clipped at +-5 standard deviations); a missing value (NaN or +-inf) becomes the column mean
plus a 0/1 "missing" indicator for every column that had missing values in training.

Objectives (``objective``):

- ``"rmse"``: pointwise squared error on ``y``, the original's choice; its target was the
  per-user min-max-normalised listen weight (:func:`minmax_per_group` computes it);
- ``"listnet"``: listwise softmax cross-entropy (ListNet's top-one probability, Cao et al. 2007;
  TF-Ranking's ``SoftmaxLoss``): per query, the target distribution is ``y / sum(y)`` (labels
  must be >= 0; queries without a positive label carry no signal and are skipped);
- ``"ranknet"``: pairwise logistic loss over every pair of one query's candidates with different
  labels (RankNet, Burges et al. 2005).

Training (PyTorch, the ``neural`` extra) uses AdamW, gradient clipping, a fixed seed and early
stopping on NDCG@10 of the validation queries (``X_val``..., or a ``validation_fraction`` of the
training queries); prediction is a numpy forward pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from artistrec.models import params as _params
from artistrec.models.neural import require_torch
from artistrec.models.neural.numpy_nn import (
    check_mlp,
    mlp_forward,
    nan_standardizer,
    standardize,
)
from artistrec.models.params import Param, ParameterError, param

OBJECTIVES: tuple[str, ...] = ("rmse", "listnet", "ranknet")

#: Columns of ``MLPRanker.history_``: per epoch, the mean training loss and validation NDCG@10.
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "valid_ndcg")


def check_groups(groups: npt.ArrayLike, n_rows: int, name: str = "groups") -> np.ndarray:
    """Validate LightGBM-style query sizes (positive integers summing to ``n_rows``)."""
    g = np.asarray(groups)
    if g.ndim != 1 or (g.size and not np.issubdtype(g.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of integer query sizes")
    g = g.astype(np.int64)
    if g.size and g.min() < 1:
        raise ValueError(f"{name} must be positive sizes, got {int(g.min())}")
    if int(g.sum()) != n_rows:
        raise ValueError(f"{name} sum to {int(g.sum())} rows but X has {n_rows}")
    return g


def minmax_per_group(values: npt.ArrayLike, groups: npt.ArrayLike) -> np.ndarray:
    """``values`` scaled to [0, 1] inside each query (the original's target: the per-user
    min-max-normalised listen weight). A query whose values are all equal gets 0 everywhere."""
    v = np.asarray(values, dtype=np.float64)
    g = check_groups(groups, v.size)
    if v.size == 0:
        return np.zeros(0, np.float32)
    starts = np.concatenate([[0], np.cumsum(g)[:-1]])
    lo = np.repeat(np.minimum.reduceat(v, starts), g)
    hi = np.repeat(np.maximum.reduceat(v, starts), g)
    span = hi - lo
    return np.where(span > 0, (v - lo) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)


def ndcg_at(scores: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over queries with a positive label (gain = label, discount 1/log2(rank+1);
    ties in ``scores`` broken by position, so a constant scorer is not rewarded). Vectorised
    over queries padded to the longest one."""
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    g = check_groups(groups, scores.size)
    if g.size == 0:
        return float("nan")
    starts = np.concatenate([[0], np.cumsum(g)[:-1]])
    pos = np.arange(int(g.max()))
    valid = pos[None, :] < g[:, None]
    idx = np.where(valid, starts[:, None] + pos[None, :], 0)
    s = np.where(valid, scores[idx], -np.inf)
    t = np.where(valid, y[idx], 0.0)
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]  # padding sorts last
    disc = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = (np.take_along_axis(t, top, axis=1) * disc).sum(axis=1)
    idcg = (-np.sort(-t, axis=1)[:, : top.shape[1]] * disc).sum(axis=1)
    has = (t > 0).any(axis=1)
    return float(np.mean(dcg[has] / idcg[has])) if has.any() else float("nan")


@dataclasses.dataclass(eq=False, repr=False)
class MLPRanker:
    """An MLP ranker with a LightGBM-like ``fit``/``predict`` (module docstring).

    Its parameters are declared as the registered models' are
    (:func:`~artistrec.models.params.param`), with the same names for the same ideas.
    """

    name: ClassVar[str] = "MLPRanker"

    objective: str = param("listnet", "training loss over a query's candidates", choices=OBJECTIVES)
    hidden: tuple[int, ...] = param((64, 32), "widths of the hidden layers (positive integers)")
    l2: float = param(1e-4, "AdamW weight decay", ge=0)
    learning_rate: float = param(0.003, "AdamW step size", gt=0)
    batch_size: int = param(64, "queries per step", ge=1)
    iterations: int = param(200, "most passes (epochs) over the training queries", ge=1)
    patience: int = param(
        15, "epochs without a better validation NDCG@10 before training stops", ge=1
    )
    validation_fraction: float = param(
        0.1, "share of the training queries held out for early stopping (0: none)", ge=0, lt=1
    )
    random_state: int = param(0, "seed of the initialisation, the batches and the hold-out", ge=0)

    @classmethod
    def param_specs(cls) -> dict[str, Param]:
        """name -> :class:`~artistrec.models.params.Param` (type, default, bounds, doc)."""
        return _params.specs(cls)

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as given to ``__init__`` (``hidden`` as a list, JSON-ready)."""
        out = {n: getattr(self, n) for n in self.param_specs()}
        if isinstance(self.hidden, (list, tuple)):
            out["hidden"] = list(self.hidden)
        return out

    def set_params(self, **params: Any) -> Self:
        """Change hyper-parameters (validated, and taking effect, at the next ``fit``)."""
        _params.check_names(self.name, type(self), params)
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def validate_params(self) -> Self:
        """Raise :class:`~artistrec.models.params.ParameterError` for a value the ranker does not
        accept (``fit`` calls this first)."""
        values = self.get_params()
        _params.validate(self.name, type(self), values)
        hidden = values["hidden"]
        if (
            not isinstance(hidden, list)
            or not hidden
            or any(
                isinstance(h, (bool, np.bool_)) or not isinstance(h, (int, np.integer)) or h < 1
                for h in hidden
            )
        ):
            raise ParameterError(
                f"{self.name}: parameter 'hidden' must be positive layer widths, "
                f"got {self.hidden!r}"
            )
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --------------------------------------------------------------------------- fitting
    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        groups: npt.ArrayLike,
        X_val: npt.ArrayLike | None = None,
        y_val: npt.ArrayLike | None = None,
        groups_val: npt.ArrayLike | None = None,
    ) -> Self:
        """Train on feature rows ``X`` (n, d), labels ``y`` (n,) and query sizes ``groups``.

        With ``X_val``/``y_val``/``groups_val``, early stopping watches their NDCG@10; otherwise
        a ``validation_fraction`` of the training queries is held out for it (0: no early
        stopping, ``iterations`` epochs).
        """
        self.validate_params()
        require_torch("MLPRanker")
        X, y, groups = self._check_data(X, y, groups, "")
        if X.shape[0] == 0:
            raise ValueError("X has no rows to learn from")
        if self.objective == "listnet" and np.any(y < 0):
            raise ValueError("the listnet objective needs labels >= 0 (a distribution per query)")
        val = None
        if X_val is not None or y_val is not None or groups_val is not None:
            if X_val is None or y_val is None or groups_val is None:
                raise ValueError("give X_val, y_val and groups_val together")
            val = self._check_data(X_val, y_val, groups_val, "_val")
            if val[0].shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {val[0].shape[1]} features, X has {X.shape[1]}")
        from artistrec.models.neural import ranker_net
        from artistrec.models.neural.torch_utils import torch_session

        self.n_features_ = int(X.shape[1])
        self.mean_, self.scale_ = nan_standardizer(np.where(np.isfinite(X), X, np.nan))
        self.nan_columns_ = np.flatnonzero((~np.isfinite(X)).any(axis=0)).astype(np.int64)
        Z = self._transform(X)
        Zv = (self._transform(val[0]), val[1], val[2]) if val is not None else None
        with torch_session("MLPRanker", int(self.random_state), 1):
            net, history = ranker_net.train(self, Z, y, groups, Zv)
            self.layers_ = ranker_net.export(net)
        self.history_ = history
        return self

    def _check_data(
        self, X: npt.ArrayLike, y: npt.ArrayLike, groups: npt.ArrayLike, suffix: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"X{suffix} must be 2-D (rows, features), got shape {X.shape}")
        y = np.asarray(y, dtype=np.float32)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y{suffix} must have one label per row of X{suffix} ({X.shape[0]})")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"y{suffix} must be finite")
        return X, y, check_groups(groups, X.shape[0], f"groups{suffix}")

    def _transform(self, X: np.ndarray) -> np.ndarray:
        """Standardised features with missing values at 0, plus the missing-value indicators."""
        X = np.asarray(X, dtype=np.float32)
        missing = ~np.isfinite(X[:, self.nan_columns_]) if self.nan_columns_.size else None
        Z = standardize(np.where(np.isfinite(X), X, np.nan), self.mean_, self.scale_)
        if missing is None:
            return Z
        return np.concatenate([Z, missing.astype(np.float32)], axis=1)

    # --------------------------------------------------------------------------- predicting
    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Scores (float32, one per row; higher ranks first), numpy only."""
        if not hasattr(self, "layers_"):
            raise RuntimeError("MLPRanker is not fitted; call fit(X, y, groups) first")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ValueError(f"X must have shape (n, {self.n_features_}), got {X.shape}")
        return mlp_forward(self.layers_, "", self._transform(X))[:, 0].astype(np.float32)

    # --------------------------------------------------------------------------- persistence
    def state(self) -> dict[str, np.ndarray]:
        """The fitted ranker as numpy arrays (for an npz artifact; no pickle, no torch)."""
        if not hasattr(self, "layers_"):
            raise RuntimeError("MLPRanker is not fitted; call fit(X, y, groups) first")
        return {
            "mean": self.mean_,
            "scale": self.scale_,
            "nan_columns": self.nan_columns_,
            "objective": np.asarray(OBJECTIVES.index(self.objective), np.int64),
            "history": self.history_,
            **{f"layer.{k}": v for k, v in self.layers_.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> MLPRanker:
        """A fitted ranker back from :meth:`state` (numpy only)."""
        try:
            mean = np.asarray(state["mean"], np.float32)
            scale = np.asarray(state["scale"], np.float32)
            nan_columns = np.asarray(state["nan_columns"], np.int64)
            objective = OBJECTIVES[int(state["objective"])]
            layers = {
                k[6:]: np.asarray(v, np.float32) for k, v in state.items() if k.startswith("layer.")
            }
            n_features = int(mean.size)
            if scale.shape != mean.shape or (nan_columns.size and nan_columns.max() >= n_features):
                raise ValueError("standardisation arrays do not match")
            if check_mlp(layers, "", n_features + nan_columns.size) != 1:
                raise ValueError("the network must have one output")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"not a fitted MLPRanker state: {exc}") from exc
        hidden = [layers[f"W{i}"].shape[1] for i in range(len(layers) // 2 - 1)]
        ranker = cls(objective=objective, hidden=tuple(hidden))
        ranker.mean_, ranker.scale_, ranker.nan_columns_ = mean, scale, nan_columns
        ranker.n_features_ = n_features
        ranker.layers_ = layers
        ranker.history_ = np.asarray(state.get("history", np.zeros((0, 3))), np.float32)
        return ranker
