"""``tag-profile``: a person's level-weighted tag profile scored against every artist's tags.

The profile is the level-weighted sum of the person's artists' unit tf-idf tag rows
(:func:`~artistrec.models.tags.tag_features`); each target artist (at least ``min_listeners``
training listeners) scores the dot product of its own row with it (a cosine up to the profile's
norm). The rows are embedded with a rank-``rank`` factorisation
(:func:`~artistrec.models.tags.tag_embedding`), which scored like the exact sparse product on
validation at half its request time. It reaches artists by what listeners call them rather than
by who else listens to them: a stage-1 scorer of the ``pipeline`` for new users. It implements the
model protocol (fit, scores, save/load) but is not registered: alone it knows tags only, and on
data whose tags say little about taste it does not beat popularity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.params import param
from artistrec.models.tags import tag_embedding, tag_features
from artistrec.models.weighting import add_prior, listener_counts, popularity_prior, weigh


class TagProfile(Recommender):
    """Level-weighted tag profile vs. each artist's tags, through a rank-``rank`` embedding."""

    name = "tag-profile"

    rank: int = param(128, "rank of the tag embedding", ge=1)
    min_listeners: int = param(
        10, "artists scored: at least this many training listeners (others score 0)", ge=1
    )

    def _fit(self, dataset: Dataset) -> None:
        self.prior_ = popularity_prior(self.seen_)
        self.targets_ = np.flatnonzero(listener_counts(self.seen_) >= self.min_listeners)
        t_all = tag_features(dataset.artist_tags, np.arange(self.n_items))
        self.embedding_, self.target_embedding_ = tag_embedding(
            t_all, self.targets_, int(self.rank)
        )

    def _scores(self, profile: np.ndarray) -> np.ndarray:
        """(n, r) embedded profiles -> (n, n_items) scores (targets only)."""
        out = np.zeros((profile.shape[0], self.n_items), np.float32)
        out[:, self.targets_] = profile @ self.target_embedding_.T
        return out

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        x = weigh(self.seen_[users], "levels")
        return add_prior(self._scores(np.asarray(x @ self.embedding_)), self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        q = levels.astype(np.float32) @ self.embedding_[items]
        return add_prior(self._scores(q[None, :]), self.prior_)[0]

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        emb = self.embedding_
        sim = emb @ emb[artist]
        if measure == "cosine":
            norms = np.linalg.norm(emb, axis=1)
            sim = sim / np.maximum(norms * norms[artist], 1e-12)
        return add_prior(sim.astype(np.float32), self.prior_)[0]

    def item_embeddings(self) -> np.ndarray:
        """Every artist's embedded tag row (n_items, rank)."""
        self._check_fitted()
        return self.embedding_

    def _state(self) -> dict[str, Any]:
        return {
            "prior": self.prior_,
            "targets": self.targets_,
            "embedding": self.embedding_,
            "target_embedding": self.target_embedding_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.targets_ = np.asarray(state["targets"], dtype=np.int64)
        self.embedding_ = np.asarray(state["embedding"], dtype=np.float32)
        self.target_embedding_ = np.asarray(state["target_embedding"], dtype=np.float32)
        if self.target_embedding_.shape[0] != self.targets_.size:
            raise ValueError("tag-profile target embedding does not match its targets")
