"""Loading saved models: the artifact's model name -> the registered class -> its state.

Saving is :meth:`Recommender.save`; loading needs the registry (which imports the model
modules), so it lives here and the dependency runs one way: io -> registry -> base.
"""

from __future__ import annotations

import os

import numpy as np

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.params import ParameterError
from artistrec.models.registry import model_class
from artistrec.store.artifacts import ArtifactError, load_artifact


def load_model(path: str | os.PathLike[str], dataset: Dataset | None = None) -> Recommender:
    """Load a saved model; with ``dataset``, check it was trained on the same data."""
    meta, state = load_artifact(path)
    try:
        cls = model_class(meta["model"])
    except KeyError as exc:
        raise ArtifactError(f"{path}: unknown model {meta.get('model')!r}") from exc
    if dataset is not None and meta.get("data_fingerprint") != dataset.fingerprint:
        raise ArtifactError(
            f"{path} was trained on data {meta.get('data_fingerprint')}, "
            f"but the loaded data set is {dataset.fingerprint}; retrain with `artistrec train`"
        )
    if int(meta.get("state_version", 1)) != cls.state_version:
        raise ArtifactError(
            f"{path} holds a {meta['model']!r} model in state version "
            f"{meta.get('state_version', 1)}, this artistrec reads version {cls.state_version}; "
            f"retrain it with `artistrec train {meta['model']}`"
        )
    try:
        model = cls._from_artifact(meta, state)
    except (KeyError, TypeError, ValueError, ParameterError) as exc:
        raise ArtifactError(
            f"{path}: artifact does not match model {meta['model']!r}: {exc}; "
            f"retrain it with `artistrec train {meta['model']}`"
        ) from exc
    if dataset is not None and not np.array_equal(model.artist_ids_, dataset.artist_ids):
        raise ArtifactError(f"{path}: artist id map differs from the loaded data set")
    return model
