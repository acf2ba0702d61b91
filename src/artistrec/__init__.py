"""artistrec: a music-artist recommender for listening data."""

from __future__ import annotations

from artistrec.data import Dataset, load_dataset

__version__ = "0.1.0"

__all__ = ["Dataset", "__version__", "load_dataset"]
