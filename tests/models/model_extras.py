"""Which registered models this environment can train (optional extras such as PyTorch)."""

from __future__ import annotations

from artistrec.models import neural
from artistrec.models.registry import model_class, registered_models


def missing_extras(name: str) -> str | None:
    """Why model ``name`` cannot be trained here (an optional extra is not installed), or None."""
    return neural.missing_extras(model_class(name))


#: Every registered model family, by its own name.
MODEL_NAMES = registered_models()

#: The models this environment can train (the others' tests skip with ``missing_extras``).
TRAINABLE = [name for name in MODEL_NAMES if missing_extras(name) is None]
