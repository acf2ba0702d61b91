"""Neural-network parts: numpy forward passes for serving, PyTorch only for training.

Everything a fitted network needs at serving time is plain float32 arrays (npz artifacts) and
numpy code (:mod:`~artistrec.models.neural.numpy_nn`); PyTorch, an optional multi-hundred-MB
dependency (the ``neural`` extra), is imported only inside ``fit``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: The one sentence shown when a neural model is trained without PyTorch installed.
TORCH_HINT = "pip install 'artistrec[neural]'"


def torch_available() -> bool:
    """Whether PyTorch can be imported (without importing it when it is missing)."""
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


def missing_extras(model_cls: type) -> str | None:
    """Why ``model_cls`` cannot be trained in this environment (its class attribute
    ``fit_requires`` names an optional dependency that is not installed), or None."""
    needs = getattr(model_cls, "fit_requires", ())
    if "torch" in needs and not torch_available():
        return f"{getattr(model_cls, 'name', model_cls.__name__)} needs PyTorch: {TORCH_HINT}"
    return None


def require_torch(what: str) -> ModuleType:
    """Import and return ``torch``, or raise ImportError naming ``what`` needs it and how to get it."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise ImportError(f"{what} needs PyTorch: {TORCH_HINT}") from exc
