"""Name -> model class registry, and the choice of the ``default`` model.

Modules are imported lazily so that importing :mod:`artistrec` stays fast and optional families
(e.g. torch-based ones) only load when asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

from artistrec.models.base import Recommender
from artistrec.models.params import check_names

#: model name -> "module:Class" (modules under artistrec.models)
_REGISTRY: dict[str, str] = {
    "popularity": "popularity:Popularity",
    "als": "als:ALS",
    "bpr": "bpr:BPR",
    "item-knn": "item_knn:ItemKNN",
    "ease": "ease:EASE",
    "dlae": "dlae:DLAE",
    "rp3beta": "rp3beta:RP3beta",
    "seed-mf": "seed_mf:SeedMF",
    "hybrid": "hybrid:Hybrid",
    "set-autoencoder": "set_autoencoder:SetAutoencoder",
    "two-tower": "two_tower:TwoTower",
    "pipeline": "pipeline:Pipeline",
}

#: The model the app and the API serve; its tuned parameters are that class's defaults.
DEFAULT_MODEL = "hybrid"


def register(name: str, target: str) -> None:
    """Register ``name`` -> ``"module:Class"`` (module relative to artistrec.models)."""
    _REGISTRY[name] = target


def available_models() -> list[str]:
    """Names accepted by :func:`create_model` (``"default"`` included)."""
    return ["default", *sorted(_REGISTRY)]


def registered_models() -> list[str]:
    """Every registered model once, by its own name (``available_models()`` without the
    ``"default"`` alias)."""
    return sorted(_REGISTRY)


def model_class(name: str) -> type[Recommender]:
    """The class registered under ``name`` (``"default"`` resolves to :data:`DEFAULT_MODEL`)."""
    if name == "default":
        name = DEFAULT_MODEL
    if name not in _REGISTRY:
        raise KeyError(name)
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(f"artistrec.models.{module}"), cls)


def create_model(name: str = "default", **params: Any) -> Recommender:
    """A new, unfitted model by name with optional hyper-parameter overrides.

    An unknown parameter name raises :class:`~artistrec.models.params.ParameterError` (a
    ``ValueError``) listing the valid ones; values are validated at ``fit`` (or earlier with
    ``model.validate_params()``), as in scikit-learn.
    """
    if name != "default" and name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    cls = model_class(name)  # errors while importing the module propagate as they are
    check_names(cls.name, cls, params)
    return cls(**params)
