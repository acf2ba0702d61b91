"""Recommendation models behind one protocol (:class:`~artistrec.models.base.Recommender`).

Shared code has one module per job: ``params`` (typed hyper-parameters), ``ranking`` (top-k with
candidates and filters), ``weighting`` (input weights, popularity prior), ``sparse`` and
``linalg`` (matrix helpers), ``item_item`` (the base of the ``x @ W`` models), ``registry``
(names -> classes) and ``io`` (loading artifacts).
"""

from artistrec.models.base import NotFittedError, Recommender
from artistrec.models.io import load_model
from artistrec.models.params import ParameterError
from artistrec.models.registry import (
    DEFAULT_MODEL,
    available_models,
    create_model,
    registered_models,
)

__all__ = [
    "DEFAULT_MODEL",
    "NotFittedError",
    "ParameterError",
    "Recommender",
    "available_models",
    "create_model",
    "load_model",
    "registered_models",
]
