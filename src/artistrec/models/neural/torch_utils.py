"""Small PyTorch helpers shared by the neural models' training loops (imported inside ``fit``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from artistrec.models.neural import require_torch


@contextlib.contextmanager
def torch_session(what: str, seed: int, threads: int = 2) -> Iterator[Any]:
    """Yields ``torch`` set up for a reproducible CPU fit: seeded, deterministic algorithms,
    ``threads`` intra-op threads; the process's previous settings are restored afterwards."""
    torch = require_torch(what)
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(max(1, int(threads)))
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(int(seed))
    try:
        yield torch
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def linear_arrays(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """(W as (in, out), b) float32 numpy copies of a ``torch.nn.Linear``."""
    W = layer.weight.detach().cpu().numpy().T
    b = layer.bias.detach().cpu().numpy()
    return np.ascontiguousarray(W, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32)


def mlp(torch: Any, widths: list[int]) -> Any:
    """Dense layers ``widths[0] -> ... -> widths[-1]`` with ReLU between them (none after the
    last): the layout :func:`artistrec.models.neural.numpy_nn.mlp_forward` evaluates."""
    nn = torch.nn
    layers: list[Any] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_linears(seq: Any) -> list[Any]:
    """The ``Linear`` layers of an :func:`mlp`, in order."""
    return [m for m in seq if m.__class__.__name__ == "Linear"]


class EarlyStopping:
    """Tracks a validation score (higher is better) and a copy of the best weights.

    ``step(score, module)`` returns True when ``patience`` epochs passed without an improvement
    of more than ``min_delta``; ``restore(module)`` loads the best weights back.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best = -np.inf
        self.best_epoch = 0
        self._state: dict[str, Any] | None = None
        self._bad = 0

    def step(self, score: float, epoch: int, module: Any) -> bool:
        if not np.isfinite(score):
            return True
        if score > self.best + self.min_delta:
            self.best, self.best_epoch, self._bad = float(score), int(epoch), 0
            self._state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            self._bad += 1
        return self._bad >= self.patience

    def restore(self, module: Any) -> None:
        if self._state is not None:
            module.load_state_dict(self._state)
