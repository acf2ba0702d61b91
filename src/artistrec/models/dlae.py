"""DLAE (Steck 2020, "Autoencoders that don't overfit towards the Identity"): a denoising
linear autoencoder in closed form.

The weights predict a user's whole row from the row with each entry dropped with probability
``dropout``; in expectation that is a ridge regression with the dropout-shaped penalty

    B = (G + Λ)⁻¹ G = I - (G + Λ)⁻¹ Λ,   Λ = diag(dropout / (1 - dropout) · diag(G) + l2),

with ``G = XᵀX`` the Gram matrix of the (weighted) listens. "A few revealed artists -> the rest"
is exactly the new-user task, and the penalty grows with each artist's listener count, so
popular artists' rows are shrunk most. The diagonal is zeroed (a listened artist never
recommends itself). Like EASE, the dense inverse covers only the artists with at least
``min_listeners`` training listeners; the others score 0 and are ordered by popularity.

:func:`dlae_weights` is also the DLAE part of the ``hybrid`` model's new-user fold-in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artistrec.models.capping import DEFAULT_MAX_ARTISTS
from artistrec.models.item_item import SubsetItemItemRecommender
from artistrec.models.linalg import spd_inverse
from artistrec.models.params import param
from artistrec.models.weighting import WEIGHTINGS


def dlae_penalty(gram: np.ndarray, dropout: float, l2: float) -> np.ndarray:
    """The diagonal of Λ: ``dropout / (1 - dropout) · diag(G) + l2`` (float32)."""
    return (dropout / (1.0 - dropout) * np.diag(gram) + l2).astype(np.float32)


def dlae_weights(gram: np.ndarray, dropout: float, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """DLAE's closed form from a Gram matrix ``XᵀX`` (left unchanged), float32 via Cholesky:
    ``(B, diag(P))`` with ``P = (G + Λ)⁻¹`` and ``B = -P Λ`` off the diagonal, zero diagonal.
    ``B`` is C-contiguous."""
    penalty = dlae_penalty(gram, dropout, l2)
    a = np.array(gram, dtype=np.float32, order="F", copy=True)
    a[np.diag_indices_from(a)] += penalty
    p = spd_inverse(a)
    diag = np.diag(p).copy()
    p *= -penalty[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return np.ascontiguousarray(p, dtype=np.float32), diag


class DLAE(SubsetItemItemRecommender):
    """Denoising linear autoencoder on a subset of artists; fold-in is ``r @ B``."""

    name = "dlae"

    dropout: float = param(
        0.95,
        "probability of dropping each listened artist from the input (a new user reveals "
        "3-10 of ~50 artists)",
        gt=0,
        lt=1,
    )
    l2: float = param(30.0, "L2 penalty added to the dropout-shaped one", ge=0)
    min_listeners: int = param(
        3, "artists with fewer training listeners are not modelled (score 0)", ge=1
    )
    max_artists: int = param(
        DEFAULT_MAX_ARTISTS,
        "at most this many artists (the most listened) are modelled: caps the dense n x n "
        "matrices (default: 4 of them in 2 GiB, artistrec.models.capping)",
        ge=1,
    )
    weighting: str = param("binary", "input weight of a listen count", choices=WEIGHTINGS)

    def _solve(self, gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.penalty_ = dlae_penalty(gram, float(self.dropout), float(self.l2))
        return dlae_weights(gram, float(self.dropout), float(self.l2))

    def _cosine_scale(self, pos: int) -> np.ndarray:
        # B_aj = -P_aj Λ_j, so the partial correlation -P_aj / sqrt(P_aa P_jj) is
        # B_aj / (Λ_j sqrt(P_aa P_jj))
        d = self.precision_diag_
        return 1.0 / np.maximum(self.penalty_ * np.sqrt(d[pos] * d), 1e-12)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "penalty": self.penalty_}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.penalty_ = np.asarray(state["penalty"], dtype=np.float32)
        if self.penalty_.shape != self.items_.shape:
            raise ValueError("dlae penalty does not match its item subset")
