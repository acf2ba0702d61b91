"""Run models by name through the evaluation protocols (warm, new users, RecBole-style).

:func:`evaluate` returns one row per (model, protocol, N revealed, fold, seed) with the metrics
of :mod:`artistrec.evaluation.metrics`, training time and fold-in latency. :func:`evaluate_detailed`
also returns per-user metrics, which :func:`artistrec.evaluation.stats.compare` turns into paired
differences with a 95 % interval; :mod:`artistrec.evaluation.tuning` searches parameters with it.

Honesty rules enforced here (not left to the models): a model is fitted on
``dataset.with_interactions(train)`` only (which also drops the tags of held-out listens);
training artists (and, for the RecBole protocol, validation artists) and a new user's revealed
artists are removed from every list before scoring, whatever the model returns.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from artistrec.data.dataset import Dataset
from artistrec.data.scale import to_levels
from artistrec.evaluation.metrics import evaluate_lists, hit_matrix
from artistrec.evaluation.splits import (
    DEFAULT_N_REVEALED,
    NewUserFold,
    new_user_holdout,
    new_user_kfold,
    random_ranks,
    recbole_split,
    warm_split,
)
from artistrec.models.base import Recommender
from artistrec.models.linalg import single_blas_thread
from artistrec.models.neural import missing_extras
from artistrec.models.registry import DEFAULT_MODEL, create_model, model_class, registered_models

PROTOCOLS: tuple[str, ...] = ("warm", "new-users", "recbole")
KEY_COLUMNS: list[str] = ["model", "protocol", "n_revealed", "fold", "seed"]
TIMING_COLUMNS: list[str] = ["train_s", "eval_s", "latency_median_ms", "latency_p99_ms"]
LATENCY_RUNS: tuple[str, ...] = ("first", "all")
#: Mixed into the seed of ``max_users`` sub-sampling (with the fold and split seed), so the
#: evaluated users are not drawn by the same random stream as the split itself.
SUBSAMPLE_SALT = 7919

ModelsArg = Mapping[str, Mapping[str, Any] | Recommender | None] | Sequence[str]


# ----------------------------------------------------------------------------- model specs
def default_model_names() -> list[str]:
    """Every registered model once: ``available_models()`` without the ``default`` alias
    (unless the alias points at a model that is not registered under its own name), and
    without models whose optional training dependency (e.g. PyTorch) is not installed."""
    names = [n for n in registered_models() if missing_extras(model_class(n)) is None]
    return names if DEFAULT_MODEL in names else ["default", *names]


def _model_factories(models: ModelsArg | None) -> dict[str, tuple[Callable[[], Recommender], str]]:
    """name -> (factory of a fresh unfitted model, JSON of its params)."""
    if models is None:
        models = default_model_names()
    if isinstance(models, str):
        raise TypeError("models must be a list of names or a {name: params} mapping, not a str")
    spec: Mapping[str, Any] = models if isinstance(models, Mapping) else dict.fromkeys(models)
    if not spec:
        raise ValueError("no models to evaluate")
    out: dict[str, tuple[Callable[[], Recommender], str]] = {}
    for name, value in spec.items():
        if isinstance(value, Recommender):
            proto = value
            params = proto.get_params()
            out[name] = (lambda p=proto: type(p)(**p.get_params()), json.dumps(params, default=str))
            continue
        params = dict(value or {})
        create_model(name, **params).validate_params()  # fail fast on names / bad values
        out[name] = (
            lambda n=name, p=params: create_model(n, **p),
            json.dumps(params, sort_keys=True, default=str),
        )
    return out


# ----------------------------------------------------------------------------- recommending
def _drop_excluded(
    items: np.ndarray, scores: np.ndarray, exclude: sp.csr_matrix | None
) -> np.ndarray:
    """Each row of ``items`` without padding, non-finite scores or artists in ``exclude`` (the
    rest moves up, -1 fills the end).

    The models already apply the filters they are given; this is the harness's own guarantee
    that no excluded artist is scored, whatever a model returns.
    """
    bad = ~np.isfinite(scores) | (items < 0)
    if exclude is not None:
        bad |= hit_matrix(np.where(items < 0, 0, items), exclude) & (items >= 0)
    order = np.argsort(bad, axis=1, kind="stable")
    items = np.take_along_axis(items, order, axis=1)
    return np.where(np.take_along_axis(bad, order, axis=1), -1, items).astype(np.int64)


def recommend_known(
    model: Recommender,
    users: np.ndarray,
    k: int,
    exclude: sp.csr_matrix,
    batch_size: int = 256,
) -> np.ndarray:
    """Top-``k`` lists (n, k) for known ``users`` with every artist in ``exclude``'s rows removed.

    ``exclude`` (n_users x n_artists) is the training matrix (plus validation for RecBole),
    passed to the model as its ``exclude=`` filter (rows aligned with each batch of users).
    """
    users = np.asarray(users, dtype=np.int64)
    exclude = sp.csr_matrix(exclude)
    out = np.full((users.size, k), -1, dtype=np.int64)
    for start in range(0, users.size, batch_size):  # batches of users, vectorised inside
        chunk = users[start : start + batch_size]
        ex = exclude[chunk]
        items, scores = model.recommend(chunk, k=k, exclude_seen=True, exclude=ex)
        kept = _drop_excluded(np.asarray(items, np.int64), np.asarray(scores), ex)[:, :k]
        out[start : start + chunk.size, : kept.shape[1]] = kept
    return out


def recommend_new(model: Recommender, ratings: Mapping[int, int], k: int) -> np.ndarray:
    """Top-``k`` (length k, -1 padded) for an unseen person; their rated artists are removed."""
    rated = np.fromiter((int(a) for a in ratings), dtype=np.int64, count=len(ratings))
    items, scores = model.recommend_new_user(ratings, k=k, exclude_rated=True)
    items = np.asarray(items, np.int64)
    ok = np.isfinite(np.asarray(scores)) & (items >= 0) & ~np.isin(items, rated)
    items = items[ok][:k]
    return np.pad(items, (0, k - items.size), constant_values=-1)


def fold_in_latency(
    model: Recommender,
    train: sp.csr_matrix,
    n_requests: int = 200,
    n_ratings: int = 10,
    k: int = 10,
    seed: int = 0,
    budget_s: float | None = None,
) -> tuple[float, float, int]:
    """Median and p99 wall time (ms) of single ``recommend_new_user`` calls, timed in-process,
    and the number of timed requests.

    Profiles are ``n_ratings`` random artists (with their levels) of random training users.
    With ``budget_s``, timing stops once that much time is spent (after at least 10 requests),
    so a slow fold-in cannot stall a benchmark.
    """
    if n_requests < 1:
        return float("nan"), float("nan"), 0
    train = sp.csr_matrix(train)
    rng = np.random.default_rng(seed)
    n_u = np.diff(train.indptr)
    pool = np.flatnonzero(n_u >= n_ratings)
    if pool.size == 0:
        pool = np.flatnonzero(n_u > 0)
    users = rng.choice(pool, size=n_requests, replace=True)
    ranks = random_ranks(train, rng)
    profiles = []
    for u in users:  # building request payloads, as a client would
        lo, hi = train.indptr[u], train.indptr[u + 1]
        pick = np.flatnonzero(ranks[lo:hi] < n_ratings)
        levels = to_levels(train.data[lo:hi][pick])
        profiles.append(
            dict(zip(train.indices[lo:hi][pick].tolist(), levels.tolist(), strict=True))
        )
    times = []
    # one BLAS thread, as `artistrec serve` runs (api/server.py): with concurrent requests on
    # every core, a threaded BLAS call inside one request only waits for busy cores
    with single_blas_thread():
        for p in profiles[:3]:  # warm-up: lazy caches, first-call allocations
            model.recommend_new_user(p, k=k)
        start = time.perf_counter()
        for p in profiles:  # one request at a time, as served
            t0 = time.perf_counter()
            model.recommend_new_user(p, k=k)
            times.append(time.perf_counter() - t0)
            if budget_s is not None and len(times) >= 10 and time.perf_counter() - start > budget_s:
                break
    t = np.asarray(times)
    return float(np.median(t) * 1e3), float(np.percentile(t, 99) * 1e3), int(t.size)


# ----------------------------------------------------------------------------- one fit
@dataclass
class _Task:
    protocol: str
    seed: int
    fold: int
    train: sp.csr_matrix
    # warm / recbole
    test: sp.csr_matrix | None = None
    exclude: sp.csr_matrix | None = None
    # new-users
    new_fold: NewUserFold | None = None


def _tasks(
    dataset: Dataset,
    protocol: str,
    seeds: Sequence[int],
    n_revealed: Sequence[int],
    test_fraction: float,
    n_folds: int | None,
    user_fraction: float,
    max_users: int | None,
    fixed_test: bool,
) -> list[_Task]:
    x = dataset.interactions
    tasks: list[_Task] = []
    for seed in seeds:
        if protocol == "warm":
            s = warm_split(x, test_fraction=test_fraction, seed=seed)
            tasks.append(_Task(protocol, seed, 0, s.train, test=s.test, exclude=s.train))
        elif protocol == "recbole":
            r = recbole_split(x, seed=seed)
            tasks.append(
                _Task(protocol, seed, 0, r.train, test=r.test, exclude=(r.train + r.valid).tocsr())
            )
        else:
            folds = (
                new_user_kfold(
                    x, n_folds=n_folds, seed=seed, n_revealed=n_revealed, fixed_test=fixed_test
                )
                if n_folds
                else [
                    new_user_holdout(
                        x, user_fraction, seed=seed, n_revealed=n_revealed, fixed_test=fixed_test
                    )
                ]
            )
            if max_users is not None:
                folds = [_subsample(f, max_users) for f in folds]
            tasks.extend(_Task(protocol, seed, f.fold, f.train, new_fold=f) for f in folds)
    return tasks


def _subsample(fold: NewUserFold, max_users: int) -> NewUserFold:
    """The fold with at most ``max_users`` evaluated users (seeded by fold and seed; training
    is unchanged, so the left-out held-out users stay out of training)."""
    if max_users < 1:
        raise ValueError(f"max_users must be positive, got {max_users}")
    if fold.users.size <= max_users:
        return fold
    rng = np.random.default_rng([fold.seed, fold.fold, SUBSAMPLE_SALT])
    users = np.sort(rng.choice(fold.users, size=max_users, replace=False))
    return dataclasses.replace(fold, users=users)


def _score_task(
    model: Recommender, task: _Task, k: int
) -> list[tuple[int | None, np.ndarray, dict[str, np.ndarray], dict[str, float]]]:
    """[(n_revealed or None, users, per-user metrics, summary)] for one fitted model."""
    if task.new_fold is None:
        users = np.flatnonzero(np.diff(task.test.indptr) > 0)
        recs = recommend_known(model, users, k, task.exclude)
        per_user, summary = evaluate_lists(recs, task.test[users], task.train, k)
        return [(None, users, per_user, summary)]
    fold = task.new_fold
    out = []
    for n in sorted(fold.revealed):
        users = fold.users
        if users.size == 0:
            continue
        recs = np.stack([recommend_new(model, fold.ratings(n, u), k) for u in users]).reshape(
            users.size, k
        )  # the protocol's fold-in is one request per person
        per_user, summary = evaluate_lists(recs, fold.test[n][users], task.train, k)
        out.append((n, users, per_user, summary))
    return out


# ----------------------------------------------------------------------------- public API
@dataclass(frozen=True)
class EvaluationResult:
    """``summary``: one row per (model, protocol, n_revealed, fold, seed); ``per_user``: one row
    per evaluated user of each of those runs (for paired comparisons)."""

    summary: pd.DataFrame
    per_user: pd.DataFrame


def evaluate_detailed(
    dataset: Dataset,
    models: ModelsArg | None = None,
    protocol: str = "warm",
    k: int = 10,
    seeds: Sequence[int] = (0, 1, 2),
    n_revealed: Sequence[int] = DEFAULT_N_REVEALED,
    *,
    n_folds: int | None = 10,
    test_fraction: float = 0.2,
    user_fraction: float = 0.2,
    latency_requests: int = 200,
    latency_runs: str = "first",
    latency_budget_s: float | None = 60.0,
    max_users: int | None = None,
    fixed_test: bool = False,
    progress: bool = True,
) -> EvaluationResult:
    """Like :func:`evaluate`, also returning per-user metrics.

    ``latency_runs="first"`` times fold-in on the first fit of each model only (NaN in the other
    rows; ``"all"`` times every fit); ``latency_budget_s`` caps the time spent timing one fit.
    ``max_users`` evaluates at most that many random held-out users per new-user fold (the same
    users for every model and N), for models whose fold-in is slow. ``fixed_test`` scores every N
    of a new user against the same test artists (those not revealed at the largest N).
    """
    if latency_runs not in LATENCY_RUNS:
        raise ValueError(f"latency_runs must be one of {LATENCY_RUNS}, got {latency_runs!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    factories = _model_factories(models)
    tasks = _tasks(
        dataset,
        protocol,
        seeds,
        n_revealed,
        test_fraction,
        n_folds,
        user_fraction,
        max_users,
        fixed_test,
    )
    rows: list[dict[str, Any]] = []
    user_frames: list[pd.DataFrame] = []
    bar = tqdm(total=len(factories) * len(tasks), desc=f"evaluate {protocol}", disable=not progress)
    try:
        for t, task in enumerate(tasks):
            train_ds = dataset.with_interactions(task.train)
            for name, (factory, params_json) in factories.items():
                bar.set_postfix_str(f"{name} seed={task.seed} fold={task.fold}")
                model = factory()
                t0 = time.perf_counter()
                model.fit(train_ds)
                train_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                results = _score_task(model, task, k)
                eval_s = time.perf_counter() - t0
                n_lat = latency_requests if t == 0 or latency_runs == "all" else 0
                lat_med, lat_p99, lat_n = fold_in_latency(
                    model,
                    task.train,
                    n_requests=n_lat,
                    k=k,
                    seed=task.seed,
                    budget_s=latency_budget_s,
                )
                for n, users, per_user, summary in results:
                    key = {
                        "model": name,
                        "protocol": protocol,
                        "n_revealed": n,
                        "fold": task.fold,
                        "seed": task.seed,
                    }
                    rows.append(
                        {
                            **key,
                            "k": k,
                            "n_users": int(users.size),
                            **summary,
                            "train_s": train_s,
                            "eval_s": eval_s,
                            "latency_median_ms": lat_med,
                            "latency_p99_ms": lat_p99,
                            "latency_n": lat_n,
                            "params": params_json,
                        }
                    )
                    frame = pd.DataFrame({"user": users, **per_user})
                    for col, val in reversed(key.items()):
                        frame.insert(0, col, val)
                    user_frames.append(frame)
                bar.update(1)
    finally:
        bar.close()
    summary_df = pd.DataFrame(rows)
    summary_df["n_revealed"] = summary_df["n_revealed"].astype("Int64")
    per_user_df = pd.concat(user_frames, ignore_index=True)
    per_user_df["n_revealed"] = per_user_df["n_revealed"].astype("Int64")
    return EvaluationResult(summary=summary_df, per_user=per_user_df)


def evaluate(
    dataset: Dataset,
    models: ModelsArg | None = None,
    protocol: str = "warm",
    k: int = 10,
    seeds: Sequence[int] = (0, 1, 2),
    n_revealed: Sequence[int] = DEFAULT_N_REVEALED,
    progress: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """Evaluate ``models`` (names, or {name: params}) under ``protocol`` at ``k``.

    Protocols: ``warm`` (20 % of each user's artists held out, one run per seed), ``new-users``
    (10-fold CV over users per seed, N revealed artists with levels, ``n_folds=None`` for a single
    ``user_fraction`` hold-out) and ``recbole`` (80/10/10 per user; test ranked against the whole
    catalogue minus train and valid artists). One row per (model, protocol, N, fold, seed) with
    the metric columns, ``train_s``, ``eval_s`` and fold-in ``latency_median_ms`` /
    ``latency_p99_ms``. ``options`` go to :func:`evaluate_detailed`.
    """
    return evaluate_detailed(
        dataset, models, protocol, k, seeds, n_revealed, progress=progress, **options
    ).summary
