"""Recommendation models behind one protocol (:class:`~artistrec.models.base.Recommender`)."""

from artistrec.models.base import NotFittedError, Recommender, load_model
from artistrec.models.registry import DEFAULT_MODEL, available_models, create_model

__all__ = [
    "DEFAULT_MODEL",
    "NotFittedError",
    "Recommender",
    "available_models",
    "create_model",
    "load_model",
]
