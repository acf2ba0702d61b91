"""The shared base of the item-item models (item-kNN, EASE, DLAE, RP3beta): scores are
``weigh(x) @ W`` for a learned artist x artist matrix ``W``, plus the popularity tie-break.

A new person is folded in exactly like a known user: their levels become representative listen
counts (:func:`~artistrec.models.weighting.ratings_row`), weighted as in training, times ``W``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.capping import capped_artists
from artistrec.models.sparse import csr_row_entries
from artistrec.models.weighting import (
    add_prior,
    bm25_length_norm,
    listener_counts,
    popularity_prior,
    query_weights,
    weigh,
)


class ItemItemRecommender(Recommender):
    """Scores are ``weigh(x) @ W`` for a learned item-item matrix ``W`` (plus a popularity tie-break).

    Subclasses declare a ``weighting`` parameter and implement ``_fit_weights(x)`` that stores
    their learned matrix, ``_propagate(x) -> dense (n, n_items)`` and ``_similar_scores``.
    """

    def _fit(self, dataset: Dataset) -> None:
        self.prior_ = popularity_prior(self.seen_)
        self.length_norm_ = bm25_length_norm(self.seen_)
        self._fit_weights(weigh(self._training_counts(dataset), self.weighting, self.length_norm_))

    def _training_counts(self, dataset: Dataset) -> sp.csr_matrix:
        """The users x artists counts the weights are learned from (default: the listens)."""
        return self.seen_

    def _query_weighting(self) -> str:
        """The weighting of a scored person's row (default: the training ``weighting``)."""
        return self.weighting

    def _fit_weights(self, x: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        x = weigh(self.seen_[users], self._query_weighting(), self.length_norm_)
        return add_prior(self._propagate(x), self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        w = query_weights(items, levels, self._query_weighting(), self.length_norm_, self.n_items)
        return add_prior(self._propagate_row(items, w), self.prior_)[0]

    def _propagate_row(self, items: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``_propagate`` of one person's row (``w`` on ``items``) as a dense (n_items,) vector;
        subclasses override it with a path that builds no sparse matrix."""
        x = sp.csr_matrix(
            (w, (np.zeros(items.size, np.int64), items)), shape=(1, self.n_items), dtype=np.float32
        )
        return self._propagate(x)[0]

    def _base_state(self) -> dict[str, Any]:
        return {"prior": self.prior_, "length_norm": self.length_norm_}

    def _set_base_state(self, state: dict[str, Any]) -> None:
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.length_norm_ = np.asarray(state["length_norm"], dtype=np.float32)


class SparseItemItemRecommender(ItemItemRecommender):
    """An item-item model whose learned matrix is a sparse CSR ``weights_``-like attribute named
    by ``_sparse_attr`` (rows: the artists a person has, columns: the artists scored)."""

    _sparse_attr = "weights_"

    def _propagate_row(self, items: np.ndarray, w: np.ndarray) -> np.ndarray:
        m = getattr(self, self._sparse_attr)
        flat, lens = csr_row_entries(m.indptr, items)
        vals = np.repeat(w.astype(np.float64), lens) * m.data[flat]
        return np.bincount(m.indices[flat], weights=vals, minlength=self.n_items).astype(np.float32)


class SubsetItemItemRecommender(ItemItemRecommender):
    """An item-item model whose dense ``weights_`` cover only the artists ``items_`` with at least
    ``min_listeners`` training listeners, at most the ``max_artists`` most listened of them
    (EASE, DLAE; :mod:`artistrec.models.capping`): a dense inverse is cubic in the artists and
    its matrices quadratic, and an artist with one listener cannot teach an item-item weight
    anyway. Other artists score 0 and are ordered by the popularity tie-break; a new person's
    ratings of them are ignored by the fold-in.

    Subclasses implement ``_solve(gram) -> (weights, precision_diag)`` on the subset's Gram
    matrix; ``precision_diag`` (the diagonal of the inverse the weights came from) turns a row
    of weights into symmetric partial correlations for the ``cosine`` similar-artists measure.
    """

    def _solve(self, gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _augment_gram(self, gram: np.ndarray, dataset: Dataset) -> np.ndarray:
        """Hook: change the subset's Gram matrix before the solve (e.g. EASE's tag rows)."""
        return gram

    def _fit(self, dataset: Dataset) -> None:
        self.prior_ = popularity_prior(self.seen_)
        self.length_norm_ = bm25_length_norm(self.seen_)
        x = weigh(self.seen_, self.weighting, self.length_norm_)
        listeners = listener_counts(self.seen_)
        self.items_ = capped_artists(listeners, int(self.min_listeners), int(self.max_artists))
        xs = x[:, self.items_]
        # float32 LAPACK: ~3x faster than float64; the ridge keeps the system well conditioned
        gram = self._augment_gram(np.asarray((xs.T @ xs).toarray(), dtype=np.float32), dataset)
        del xs
        weights, diag = self._solve(gram)
        del gram
        # C order: a fold-in gathers the rated artists' rows; with LAPACK's Fortran order scipy
        # copied the whole matrix per request (~0.5-1.6 s for EASE on HetRec's 1x size)
        self.weights_ = np.ascontiguousarray(weights, dtype=np.float32)
        del weights
        self.precision_diag_ = diag.astype(np.float32)

    def _propagate(self, x: sp.csr_matrix) -> np.ndarray:
        out = np.zeros(x.shape, dtype=np.float32)
        out[:, self.items_] = np.asarray(x[:, self.items_] @ self.weights_, dtype=np.float32)
        return out

    def _propagate_row(self, items: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_items, dtype=np.float32)
        pos = np.searchsorted(self.items_, items)
        pos = np.minimum(pos, max(self.items_.size - 1, 0))
        ok = (self.items_.size > 0) & (self.items_[pos] == items)
        if ok.any():
            out[self.items_] = w[ok] @ self.weights_[pos[ok]]
        return out

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        scores = np.zeros(self.n_items, dtype=np.float32)
        pos = np.searchsorted(self.items_, artist)
        if pos < self.items_.size and self.items_[pos] == artist:
            row = self.weights_[pos]
            if measure == "cosine":
                # partial correlation -P_aj / sqrt(P_aa P_jj) = B_aj sqrt(P_jj / P_aa) / (scale
                # of column j): symmetric in a and j
                row = row * self._cosine_scale(pos)
            scores[self.items_] = row
        return add_prior(scores, self.prior_)[0]

    def _cosine_scale(self, pos: int) -> np.ndarray:
        """Factors turning weight row ``pos`` into partial correlations."""
        return np.sqrt(self.precision_diag_ / self.precision_diag_[pos])

    def _state(self) -> dict[str, Any]:
        return {
            **self._base_state(),
            "items": self.items_,
            "weights": self.weights_,
            "precision_diag": self.precision_diag_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_base_state(state)
        self.items_ = np.asarray(state["items"], dtype=np.int64)
        self.weights_ = np.ascontiguousarray(state["weights"], dtype=np.float32)
        self.precision_diag_ = np.asarray(state["precision_diag"], dtype=np.float32)
        if self.weights_.shape != (self.items_.size, self.items_.size):
            raise ValueError(f"{self.name} weights do not match its item subset")
