"""Hyper-parameter search on validation data carved from TRAINING data only (grid or random
search of one model's parameters, scored by a protocol of :mod:`artistrec.evaluation.runner`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import ParameterGrid, ParameterSampler
from tqdm.auto import tqdm

from artistrec.data.dataset import Dataset
from artistrec.evaluation.metrics import ALL_METRICS, evaluate_lists
from artistrec.evaluation.runner import PROTOCOLS, evaluate, recommend_known
from artistrec.models.registry import create_model


@dataclass(frozen=True)
class TuningResult:
    """Best parameters found on the validation split, and every tried setting with its score."""

    best_params: dict[str, Any]
    best_score: float
    table: pd.DataFrame


def tune(
    train: Dataset,
    model: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    n_iter: int | None = None,
    protocol: str = "warm",
    metric: str = "ndcg",
    k: int = 10,
    seed: int = 0,
    valid_fraction: float = 0.2,
    valid: sp.spmatrix | None = None,
    progress: bool = False,
) -> TuningResult:
    """Grid (or ``n_iter`` random) search of ``model``'s parameters on a validation split.

    ``train`` must be the TRAINING data set only (e.g. ``dataset.with_interactions(split.train)``),
    so the test set is never seen. Without ``valid``, the validation split is carved from
    ``train.interactions`` by ``protocol``: a per-user ``valid_fraction`` hold-out (``warm``),
    RecBole's 80/10/10 split whose last part validates (``recbole``), or a ``valid_fraction``
    user hold-out with N revealed (``new-users``). With ``valid`` (e.g. the ``valid`` part of
    :func:`~artistrec.evaluation.splits.recbole_split`), each setting is fitted on ``train`` once
    and scored on ``valid`` with training artists excluded.
    """
    if metric not in ALL_METRICS:
        raise ValueError(f"metric must be one of {ALL_METRICS}, got {metric!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if not grid:
        raise ValueError("grid must name at least one parameter")
    grid = {name: list(values) for name, values in grid.items()}
    candidates = (
        list(ParameterGrid(grid))
        if n_iter is None
        else list(ParameterSampler(grid, n_iter=n_iter, random_state=seed))
    )
    tried = []
    for params in tqdm(candidates, desc=f"tune {model}", disable=not progress):
        if valid is not None:
            tried.append(
                {**params, metric: _score_on_valid(train, valid, model, params, k)[metric]}
            )
            continue
        frame = evaluate(
            train,
            {model: params},
            protocol=protocol,
            k=k,
            seeds=(seed,),
            n_folds=None,
            test_fraction=valid_fraction,
            user_fraction=valid_fraction,
            latency_requests=0,
            progress=False,
        )
        tried.append({**params, metric: float(frame[metric].mean())})
    table = pd.DataFrame(tried).sort_values(metric, ascending=False, kind="stable")
    best = table.iloc[0]
    best_params = {name: _py(best[name]) for name in grid}
    return TuningResult(best_params, float(best[metric]), table.reset_index(drop=True))


def _score_on_valid(
    train: Dataset, valid: sp.spmatrix, model: str, params: Mapping[str, Any], k: int
) -> dict[str, float]:
    valid = sp.csr_matrix(valid)
    if valid.shape != train.interactions.shape:
        raise ValueError(f"valid shape {valid.shape} != training shape {train.interactions.shape}")
    if valid.multiply(train.interactions).nnz:
        raise ValueError("valid shares listens with the training data")
    fitted = create_model(model, **params).fit(train)
    users = np.flatnonzero(np.diff(valid.indptr) > 0)
    recs = recommend_known(fitted, users, k, train.interactions)
    return evaluate_lists(recs, valid[users], train.interactions, k)[1]


def _py(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
