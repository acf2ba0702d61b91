"""The numpy side of the neural models: forward passes over exported float32 weights.

Networks are trained with PyTorch and exported as arrays; these functions are their exact
forward passes (tested against the torch modules), so serving needs numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), in place."""
    return np.maximum(x, 0.0, out=x)


def mlp_forward(params: Mapping[str, np.ndarray], prefix: str, x: np.ndarray) -> np.ndarray:
    """A stack of dense layers ``{prefix}W0, {prefix}b0, {prefix}W1, ...`` (W as (in, out)), ReLU
    between layers and none after the last. ``x``: (..., in) float32."""
    n = mlp_depth(params, prefix)
    h = np.asarray(x, dtype=np.float32)
    for i in range(n):
        h = h @ params[f"{prefix}W{i}"]
        h += params[f"{prefix}b{i}"]
        if i < n - 1:
            relu(h)
    return h


def mlp_depth(params: Mapping[str, np.ndarray], prefix: str) -> int:
    """Number of dense layers stored under ``prefix``."""
    n = 0
    while f"{prefix}W{n}" in params:
        n += 1
    if n == 0:
        raise KeyError(f"no layers {prefix}W0.. in the network weights")
    return n


def check_mlp(params: Mapping[str, np.ndarray], prefix: str, n_in: int) -> int:
    """Validate a stored layer stack's shapes (a clear error for a corrupt artifact); returns
    its output width."""
    width = n_in
    for i in range(mlp_depth(params, prefix)):
        W, b = params[f"{prefix}W{i}"], params[f"{prefix}b{i}"]
        if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise ValueError(
                f"layer {prefix}{i}: weights {W.shape} / bias {b.shape} do not follow width {width}"
            )
        width = W.shape[1]
    return width


def layer_arrays(
    prefix: str, layers: Sequence[tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """``{prefix}W{i}``/``{prefix}b{i}`` float32 arrays of (W (in, out), b (out,)) pairs."""
    out = {}
    for i, (W, b) in enumerate(layers):
        out[f"{prefix}W{i}"] = np.ascontiguousarray(W, dtype=np.float32)
        out[f"{prefix}b{i}"] = np.ascontiguousarray(b, dtype=np.float32)
    return out


# ------------------------------------------------------------------------------- standardising
def nan_standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and scale of ``X`` ignoring NaN (scale 1 for constant or empty columns)."""
    X = np.asarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    count = finite.sum(axis=0)
    filled = np.where(finite, X, 0.0)
    mean = filled.sum(axis=0) / np.maximum(count, 1)
    var = (np.where(finite, X - mean, 0.0) ** 2).sum(axis=0) / np.maximum(count, 1)
    scale = np.sqrt(var)
    scale = np.where(scale > 1e-12, scale, 1.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def standardize(
    X: np.ndarray, mean: np.ndarray, scale: np.ndarray, clip: float = 5.0
) -> np.ndarray:
    """(X - mean) / scale clipped to +-``clip``, with every non-finite entry (missing) set to 0,
    the column mean (float32). Clipping keeps an outlier from dominating a ReLU network."""
    Z = (np.asarray(X, dtype=np.float32) - mean) / scale
    Z = np.where(np.isfinite(Z), Z, 0.0)
    return np.clip(Z, -clip, clip).astype(np.float32)
