"""The model cache: fitted models by name, loaded from artifacts or trained once, swapped atomically.

A model is looked up in memory, else read from its artifact (the explicit ``model_path`` for
``"default"``, else ``<cache>/models/<name>-<fingerprint>.npz``), else trained with the registry's
defaults and saved there. A cached artifact whose parameters are no longer the defaults is stale
and retrained. One lock per name makes concurrent first requests share one load or training.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from artistrec.data import Dataset
from artistrec.data.source import cache_dir
from artistrec.models import available_models, create_model, load_model
from artistrec.models.base import Recommender
from artistrec.models.registry import DEFAULT_MODEL
from artistrec.service.errors import InvalidRequestError
from artistrec.store.artifacts import ArtifactError

#: The model that answers a listener without any positive rating (fitted in memory, never saved).
BASELINE_MODEL = "popularity"


def default_model_path(name: str, fingerprint: str) -> Path:
    """Where the artifact of model ``name`` trained on data ``fingerprint`` is cached."""
    return cache_dir() / "models" / f"{name}-{fingerprint}.npz"


def concrete_name(name: str) -> str:
    """The registered model behind ``name`` (``"default"`` -> :data:`DEFAULT_MODEL`)."""
    return DEFAULT_MODEL if name == "default" else name


def fit_with_progress(model: Recommender, dataset: Dataset, progress: bool = True) -> Recommender:
    """``model.fit(dataset)``, showing a progress bar with the elapsed time on stderr.

    Fits report no intermediate steps, so the bar pulses until the fit is done.
    """
    if not progress:
        return model.fit(dataset)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"training {model!r} on {dataset.n_users:,} users", total=None)
        model.fit(dataset)
        bar.update(task, total=1, completed=1)
    return model


class ModelCache:
    """Fitted models of one data set by name (``"default"`` included), thread-safe."""

    def __init__(
        self,
        dataset: Dataset,
        model_path: str | os.PathLike[str] | None = None,
        models: Mapping[str, Recommender] | None = None,
        train_if_missing: bool = True,
        progress: bool = False,
    ) -> None:
        self.dataset = dataset
        self.model_path = Path(model_path) if model_path is not None else None
        self.train_if_missing = train_if_missing
        self.progress = progress
        self._models: dict[str, Recommender] = dict(models or {})
        self._lock = threading.Lock()
        self._name_locks: dict[str, threading.Lock] = {}
        self._baseline: Recommender | None = None

    def artifact_path(self, name: str) -> Path:
        """The artifact file model ``name`` is read from and saved to."""
        if name == "default" and self.model_path is not None:
            return self.model_path
        return default_model_path(concrete_name(name), self.dataset.fingerprint)

    def get(self, name: str = "default") -> Recommender:
        """The fitted model ``name`` (loaded from its artifact, else trained and saved)."""
        if not isinstance(name, str) or name not in available_models():
            raise InvalidRequestError(
                f"unknown model {name!r}; available: {', '.join(available_models())}", "model"
            )
        model = self._models.get(name)
        if model is not None:
            return model
        with self._lock_for(name):
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = self._load_or_train(name)
        return model

    def _lock_for(self, key: str) -> threading.Lock:
        """One lock per model name: concurrent first requests share one load or training."""
        with self._lock:
            return self._name_locks.setdefault(key, threading.Lock())

    def is_loaded(self, name: str = "default") -> bool:
        """Whether model ``name`` is already in memory (readiness probes)."""
        return name in self._models

    def baseline(self) -> Recommender:
        """The :data:`BASELINE_MODEL` with its default parameters, fitted once in memory."""
        if self._baseline is None:
            with self._lock_for(f"baseline:{BASELINE_MODEL}"):
                if self._baseline is None:
                    self._baseline = create_model(BASELINE_MODEL).fit(self.dataset)
        return self._baseline

    def _load_or_train(self, name: str) -> Recommender:
        path = self.artifact_path(name)
        explicit = name == "default" and self.model_path is not None
        if path.is_file():
            try:
                cached = load_model(path, self.dataset)
            except ArtifactError:
                if explicit:
                    raise
            else:
                # a cached artifact of since-retuned defaults is stale: retrain it
                if explicit or not self._is_stale(cached, name):
                    return cached
        elif explicit:
            raise ArtifactError(f"model artifact not found: {path}")
        if not self.train_if_missing:
            raise ArtifactError(
                f"no trained {concrete_name(name)!r} model at {path}; "
                f"run `artistrec train {concrete_name(name)}`"
            )
        model = self.train(concrete_name(name))
        try:
            model.save(path)
        except OSError:
            pass  # a read-only cache only costs a retrain next time
        return model

    @staticmethod
    def _is_stale(model: Recommender, name: str) -> bool:
        return model.get_params() != create_model(concrete_name(name)).get_params()

    def train(self, name: str, **params: Any) -> Recommender:
        """A new model ``name`` (with ``params``) fitted on this data set (not cached)."""
        return fit_with_progress(create_model(name, **params), self.dataset, self.progress)

    def set(self, model: Recommender, name: str = "default") -> None:
        """Serve ``model`` under ``name`` (atomic swap: in-flight requests keep the old one)."""
        if not model.is_fitted:
            raise InvalidRequestError("model must be fitted", "model")
        if not np.array_equal(model.artist_ids_, self.dataset.artist_ids):
            raise ArtifactError("model artist ids differ from the loaded data set")
        self._models[name] = model

    def reload(self, name: str = "default") -> Recommender:
        """Re-read ``name``'s artifact file (no training, no pickle) and swap it in atomically."""
        model = load_model(self.artifact_path(name), self.dataset)
        self._models[name] = model
        return model

    def info(self, name: str = "default") -> dict[str, Any]:
        """Name, parameters, data fingerprint and artifact path of the served model ``name``."""
        model = self.get(name)
        return {
            "name": model.name,
            "params": model.get_params(),
            "data_fingerprint": getattr(model, "fingerprint_", self.dataset.fingerprint),
            "artifact": str(self.artifact_path(name)),
        }
