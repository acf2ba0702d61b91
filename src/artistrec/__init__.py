"""artistrec: a music-artist recommender for listening data."""

from __future__ import annotations

__version__ = "0.1.0"

from artistrec.data import Dataset, load_dataset  # noqa: E402
from artistrec.models import available_models, create_model, load_model  # noqa: E402

__all__ = [
    "Dataset",
    "__version__",
    "available_models",
    "create_model",
    "load_dataset",
    "load_model",
]
