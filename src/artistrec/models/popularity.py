"""Most-popular baseline: artists ranked by their number of listeners.

The reference every other model must beat; also the prior for a new user with no ratings.
Similar artists (which popularity cannot really define) are ranked by co-listener counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.params import param
from artistrec.models.weighting import tie_break


class Popularity(Recommender):
    """Rank artists by listener count (``by="listeners"``) or total plays (``by="plays"``)."""

    name = "popularity"

    by: str = param(
        "listeners", "rank by number of listeners or by total plays", choices=("listeners", "plays")
    )

    def _fit(self, dataset: Dataset) -> None:
        x = self.seen_
        if self.by == "listeners":
            counts = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float32)
        else:
            counts = np.asarray(x.sum(axis=0)).ravel().astype(np.float32)
        self.item_scores_ = counts / max(float(counts.max(initial=0.0)), 1.0)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (users.size, self.item_scores_.size))

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return self.item_scores_

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        col = self.seen_[:, artist]
        listeners = (col > 0).astype(np.float32).T  # (1, n_users)
        co = np.asarray((listeners @ (self.seen_ > 0).astype(np.float32)).todense()).ravel()
        if measure == "cosine":
            n = np.bincount(self.seen_.indices, minlength=self.n_items).astype(np.float32)
            co = co / np.maximum(np.sqrt(n * max(n[artist], 1.0)), 1.0)
        # break ties (and the all-zero case) by popularity
        return tie_break(co, self.item_scores_)

    def _state(self) -> dict[str, Any]:
        return {"item_scores": self.item_scores_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.item_scores_ = np.asarray(state["item_scores"], dtype=np.float32)
