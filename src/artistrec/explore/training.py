"""Training curves of seed-mf (the original project's model) for the "Models" page."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from artistrec.data.dataset import Dataset


def training_curves(model: Any) -> pd.DataFrame | None:
    """Loss per epoch in long form (``epoch``, ``split``, ``mse``), or None without curves."""
    parts = []
    for attr, split in (("train_loss_", "train"), ("test_loss_", "held-out")):
        values = getattr(model, attr, None)
        if values is None:
            continue
        arr = np.asarray(values, dtype=np.float32).ravel()
        if arr.size == 0 or not np.any(np.isfinite(arr)):
            continue
        parts.append(
            pd.DataFrame(
                {"epoch": np.arange(1, arr.size + 1, dtype=np.int64), "split": split, "mse": arr}
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else None


def seed_mf_variant_curves(
    ds: Dataset, holdout: float = 0.1, epochs: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Train and held-out loss curves of the original project's two seed-mf variants.

    Fits ``seed-mf`` once per variant (``SeedMF.from_variant``: ``plain``, ``gravity``) with a
    seeded ``holdout`` share of
    the observed levels kept out, so over-fitting shows as a rising held-out curve. Returns the
    long table of :func:`training_curves` plus a ``variant`` column.
    """
    from artistrec.models.registry import model_class
    from artistrec.models.seed_mf import VARIANTS

    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be in (0, 1), got {holdout!r}")
    seed_mf = model_class("seed-mf")
    extra = {"iterations": epochs} if epochs is not None else {}
    parts = []
    for variant in VARIANTS:
        model = seed_mf.from_variant(variant, holdout=holdout, random_state=seed, **extra).fit(ds)
        curves = training_curves(model)
        if curves is not None:
            parts.append(curves.assign(variant=variant))
    return pd.concat(parts, ignore_index=True)
