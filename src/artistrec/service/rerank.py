"""Novelty re-ranking: trade a model's score against artist popularity, and the candidate pool.

With novelty ``n`` in 0..1 a candidate's combined score is
``(1 - n) * minmax(model score) + n * (1 - log-popularity)``, where log-popularity is
``log1p(listeners)`` scaled to 0..1. Ties in the combined score (at ``n = 1`` every artist with
the same listener count ties) are broken by the model's own score, then by the candidates' order.
"""

from __future__ import annotations

import numpy as np

#: Candidates asked of the model per requested result when re-ranking for novelty: the re-ranker
#: can only surface less popular artists the model ranked near the top, and 10x k (at least 200)
#: reaches well into the long tail without scoring the whole catalogue twice.
NOVELTY_POOL_FACTOR = 10
NOVELTY_POOL_MIN = 200


def pool_size(k: int, novelty: float) -> int:
    """Eligible candidates the re-ranker needs for ``k`` results (just ``k`` without novelty)."""
    return k if novelty == 0 else max(NOVELTY_POOL_FACTOR * k, NOVELTY_POOL_MIN)


class NoveltyReranker:
    """Re-ranks candidates towards less popular artists (see the module docstring)."""

    def __init__(self, listeners: np.ndarray) -> None:
        pop = np.log1p(np.asarray(listeners, dtype=np.float64))
        #: log-popularity by artist index, 0 (no listener) .. 1 (the most listened artist)
        self.popularity = (pop / max(pop.max(initial=0.0), 1e-12)).astype(np.float32)

    def rerank(
        self, items: np.ndarray, scores: np.ndarray, k: int, novelty: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``items`` by combined score, with those scores (float32).

        Without novelty (or candidates) the first ``k`` candidates keep their model scores.
        """
        if novelty <= 0.0 or items.size == 0:
            return items[:k], scores[:k]
        s = scores.astype(np.float64)
        span = s.max() - s.min()
        s_norm = (s - s.min()) / span if span > 0 else np.ones_like(s)
        combined = (1.0 - novelty) * s_norm + novelty * (1.0 - self.popularity[items])
        # lexsort: the last key sorts first, and the sort is stable (candidate order last)
        order = np.lexsort((-s, -combined))[:k]
        return items[order], combined[order].astype(np.float32)
