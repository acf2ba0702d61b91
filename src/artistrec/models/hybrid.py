"""``hybrid``: tag-augmented EASE with a friend-graph term — the product's default model.

Why it works (measured in docs/BENCHMARKS.md):

* EASE^R (a closed-form item-item ridge regression) is the strongest single baseline on this
  data set; restricting it to artists with >= 2 training listeners keeps the dense inverse fast
  and loses nothing (one-listener artists cannot be learned from co-listening anyway).
* Tags: the tf-idf, L2-normalised artist x tag matrix is added to the Gram matrix as weighted
  pseudo-users, so co-tagged artists become similar even with few shared listeners.
* New users get their own, more strongly regularised item matrix (few revealed artists need
  smoother weights), a level-weighted profile, and a popularity prior that fades as they rate more.
* Known users additionally get a small share of their friends' listening (the friend graph).

The numerical core is :mod:`artistrec.models.hybrid_core` (pure numpy/scipy); this module adapts
it to the :class:`~artistrec.models.base.Recommender` protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models import hybrid_core as core
from artistrec.models.base import Recommender


class Hybrid(Recommender):
    """Tag-augmented EASE (+ friends for known users); parameters as in ``hybrid_core``."""

    name = "hybrid"

    def __init__(
        self,
        lam: float = core.DEFAULT_PARAMS["lam"],
        lam_new: float = core.DEFAULT_PARAMS["lam_new"],
        min_users: int = int(core.DEFAULT_PARAMS["min_users"]),
        tag_weight: float = core.DEFAULT_PARAMS["tag_weight"],
        tag_weight_new: float = core.DEFAULT_PARAMS["tag_weight_new"],
        friend_direct: float = core.DEFAULT_PARAMS["friend_direct"],
        pop_beta: float = core.DEFAULT_PARAMS["pop_beta"],
    ) -> None:
        self.lam = lam
        self.lam_new = lam_new
        self.min_users = min_users
        self.tag_weight = tag_weight
        self.tag_weight_new = tag_weight_new
        self.friend_direct = friend_direct
        self.pop_beta = pop_beta

    def _core_params(self) -> dict[str, float]:
        return {**core.DEFAULT_PARAMS, **{k: float(v) for k, v in self.get_params().items()}}

    def _fit(self, dataset: Dataset) -> None:
        self.state_ = core.fit(
            self.seen_, dataset.artist_tags, dataset.friends, params=self._core_params()
        )
        self.friends_ = sp.csr_matrix(dataset.friends, dtype=np.float32)
        self.artist_tags_ = sp.csr_matrix(dataset.artist_tags, dtype=np.float32)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return core.score_users(self.state_, self.seen_[users], self.friends_[users], self.seen_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        ratings = dict(zip(items.tolist(), levels.tolist(), strict=True))
        return core.score_new_user(self.state_, ratings)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        st = self.state_
        out = 1e-6 * st["pop"].astype(np.float32)
        pos = int(st["item_pos"][artist])
        if pos >= 0:
            b = st["B_new"]
            if measure == "dot":
                out[st["items"]] += b[pos]
            else:
                norms = np.linalg.norm(b, axis=1)
                out[st["items"]] += (b @ b[pos]) / np.maximum(norms * norms[pos], 1e-12)
            return out
        # an artist without enough listeners to be modelled: fall back to shared tags
        t = self.artist_tags_
        sim = np.asarray((t @ t[artist].T).todense()).ravel()
        if measure == "cosine":
            norms = np.sqrt(np.asarray(t.multiply(t).sum(axis=1)).ravel())
            sim = sim / np.maximum(norms * norms[artist], 1e-12)
        return out + sim.astype(np.float32)

    def _state(self) -> dict[str, Any]:
        return {
            **{f"core.{k}": v for k, v in self.state_.items()},
            "friends": self.friends_,
            "artist_tags": self.artist_tags_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.state_ = {k[5:]: np.asarray(v) for k, v in state.items() if k.startswith("core.")}
        self.friends_ = sp.csr_matrix(state["friends"], dtype=np.float32)
        self.artist_tags_ = sp.csr_matrix(state["artist_tags"], dtype=np.float32)
