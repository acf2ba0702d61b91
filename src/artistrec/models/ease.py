"""EASE^R (Steck, 2019): a closed-form item-item linear autoencoder.

``B = I - P diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``, so ``B`` has a zero diagonal and ``x_u @ B``
reconstructs each listen from the others. The dense inverse is cubic in the number of items, so
it is taken only over artists with at least ``min_listeners`` training listeners (on this data
~7k of 17.6k; most artists have a single listener, who cannot teach an item-item weight anyway).
Other artists score 0 and are ordered by the popularity tie-break.

With ``tag_weight`` > 0 the artists' idf-weighted, L2-normalised tag rows
(:func:`~artistrec.models.tags.tag_features`) join the Gram matrix as weighted pseudo-users
(``G += tag_weight * T Tᵀ``), so co-tagged artists become similar even with few shared listeners
(the known-user part of the default model).
"""

from __future__ import annotations

import numpy as np

from artistrec.data.dataset import Dataset
from artistrec.models.capping import DEFAULT_MAX_ARTISTS
from artistrec.models.item_item import SubsetItemItemRecommender
from artistrec.models.linalg import spd_inverse
from artistrec.models.params import param
from artistrec.models.tags import tag_features
from artistrec.models.weighting import WEIGHTINGS


def ease_weights(gram: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """EASE's closed form from a Gram matrix ``XᵀX`` (left unchanged), in float32 via Cholesky:
    ``(B, diag(P))`` with ``P = (XᵀX + l2 I)⁻¹`` and ``B = -P / diag(P)`` (column-wise), zero
    diagonal. ``B`` is Fortran-ordered (as LAPACK returns it)."""
    a = np.asfortranarray(gram, dtype=np.float32)
    if a is gram:  # asfortranarray did not copy: keep the caller's matrix intact
        a = a.copy(order="F")
    a[np.diag_indices_from(a)] += l2
    p = spd_inverse(a)
    diag = np.diag(p).copy()
    p /= -diag[None, :]  # in place: no third n x n matrix at the peak
    p[np.diag_indices_from(p)] = 0.0
    return p, diag


class EASE(SubsetItemItemRecommender):
    """EASE^R with L2 strength ``l2`` on a subset of artists; fold-in is ``r @ B``."""

    name = "ease"

    l2: float = param(150.0, "L2 penalty (ridge) on the item-item weights", gt=0)
    min_listeners: int = param(
        2, "artists with fewer training listeners are not modelled (score 0)", ge=1
    )
    max_artists: int = param(
        DEFAULT_MAX_ARTISTS,
        "at most this many artists (the most listened) are modelled: caps the dense n x n "
        "matrices (default: 4 of them in 2 GiB, artistrec.models.capping)",
        ge=1,
    )
    weighting: str = param("binary", "input weight of a listen count", choices=WEIGHTINGS)
    tag_weight: float = param(
        0.0, "weight of the artists' tag rows added to the Gram matrix as pseudo-users", ge=0
    )

    def _augment_gram(self, gram: np.ndarray, dataset: Dataset) -> np.ndarray:
        if self.tag_weight > 0 and dataset.artist_tags.nnz:
            t = tag_features(dataset.artist_tags, self.items_)
            gram += np.float32(self.tag_weight) * (t @ t.T).toarray()
        return gram

    def _solve(self, gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ease_weights(gram, float(self.l2))
