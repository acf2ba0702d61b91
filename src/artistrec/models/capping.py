"""Size-aware artist caps: models whose memory or time grows with (modelled artists)² restrict
themselves to the most listened artists.

A dense artist x artist model (EASE, DLAE) holds about four n x n float32 matrices while it fits
(the Gram matrix, its Cholesky factor / inverse, the weights and a temporary), and its inverse
costs ~n³ flops; the set autoencoder's softmax layer costs batch x hidden x n per step. Over
Last.fm-360K's ~160K artists either would need ~400 GB or days. Each such model therefore has a
``max_artists`` parameter and fits on the ``max_artists`` most listened of its eligible artists
(those with at least ``min_listeners`` training listeners; ties by the lower artist index):

- artists beyond the cap are never recommended by that model on their own merit (they score 0,
  below every modelled artist, and only the popularity tie-break orders them);
- a new person's ratings of artists beyond the cap are ignored by the fold-in (there is no
  weight row for them), exactly like ratings of artists below ``min_listeners``;
- the learned arrays are indexed by the capped catalogue and mapped back to full artist indices
  through ``items_`` (sorted column indices), so artifacts, ``recommend`` and the service see
  the full catalogue.

:data:`DEFAULT_MAX_ARTISTS` is chosen from a memory budget: :data:`DENSE_FIT_BUDGET` bytes for
:data:`DENSE_FIT_MATRICES` dense n x n float32 matrices at the fit's peak
(``max_dense_artists``): 11,585 artists, ~2 GiB, and ~1.5e12 flops for one inverse (a few
minutes on one core at worst). HetRec's models stay below it (EASE: ~7k artists with >= 2
listeners), so the cap changes nothing there.
"""

from __future__ import annotations

import math

import numpy as np

#: Bytes the dense n x n float32 matrices of one closed-form fit may take at their peak.
DENSE_FIT_BUDGET = 2 * 1024**3
#: Dense n x n float32 matrices alive at once at the peak of an EASE / DLAE fit.
DENSE_FIT_MATRICES = 4


def max_dense_artists(
    budget_bytes: int = DENSE_FIT_BUDGET, matrices: int = DENSE_FIT_MATRICES
) -> int:
    """The largest n such that ``matrices`` dense n x n float32 arrays fit in ``budget_bytes``."""
    if budget_bytes <= 0 or matrices <= 0:
        raise ValueError("budget_bytes and matrices must be positive")
    return int(math.isqrt(int(budget_bytes) // (4 * int(matrices))))


#: The default ``max_artists`` of the dense artist x artist models (11,585).
DEFAULT_MAX_ARTISTS = max_dense_artists()


#: The set autoencoder's caps: its softmax vocabulary and its Adam steps. One step costs about
#: 3 x batch x factors x vocabulary multiply-adds (forward, two backward products), whatever the
#: number of users: 384 x 256 x 5,000 x 3 = 1.5e9, so 400 steps are ~1.2e12 flops (about a
#: minute on one core). HetRec trains ~2.7k artists for 100 steps: unchanged by either cap.
SOFTMAX_MAX_ARTISTS = 5_000
SOFTMAX_MAX_STEPS = 400


def capped_artists(listeners: np.ndarray, min_listeners: int, max_artists: int) -> np.ndarray:
    """The artists a capped model covers: those with at least ``min_listeners`` listeners, at
    most ``max_artists`` of them (the most listened; ties by the lower index), as sorted int64
    column indices (the model's ``items_``). Vectorised: one stable argsort when capping."""
    listeners = np.asarray(listeners).ravel()
    eligible = np.flatnonzero(listeners >= min_listeners).astype(np.int64)
    if max_artists < 0:
        raise ValueError(f"max_artists must be >= 0, got {max_artists}")
    if eligible.size <= max_artists:
        return eligible
    order = np.argsort(-listeners[eligible], kind="stable")[:max_artists]
    return np.sort(eligible[order])


def dense_bytes(n: int, matrices: int = DENSE_FIT_MATRICES) -> int:
    """Bytes of ``matrices`` dense n x n float32 arrays (what a capped fit is sized by)."""
    return 4 * int(matrices) * int(n) ** 2


def positions(items: np.ndarray, n_items: int) -> np.ndarray:
    """Full artist index -> position in ``items`` (int64, -1 for artists outside the cap)."""
    pos = np.full(int(n_items), -1, np.int64)
    pos[np.asarray(items, np.int64)] = np.arange(len(items), dtype=np.int64)
    return pos
