"""The one model protocol every recommender implements (scikit-learn style).

Subclasses set ``name``, declare their hyper-parameters once as annotated class attributes with
:func:`~artistrec.models.params.param` (every subclass becomes a dataclass, so ``__init__`` only
stores them and ``inspect.signature(Model)`` lists them), and implement:

- ``_fit(dataset)``: learn state into attributes ending in ``_``;
- ``_score_users(users) -> float32 (n, n_items)``: scores for known users (row indices);
- ``_score_new_user(items, levels) -> float32 (n_items,)``: fold-in of an unseen person from the
  artists they rated (column indices) and their levels 1..5;
- ``_similar_scores(artist, measure) -> float32 (n_items,)``: similarity of every artist to one;
- ``_state()`` / ``_set_state(state)``: the learned arrays (dense or scipy CSR) for save/load;
- optionally ``item_embeddings()``: a dense (n_items, d) artist embedding, where the model has one.

The base class validates parameters and requests, excludes what must not be recommended, ranks
through :func:`artistrec.models.ranking.rank` (candidates ``items=``, filters ``exclude=``) and
writes artifacts. Loading lives in :mod:`artistrec.models.io` (it needs the registry).

Public queries: ``recommend`` / ``recommend_new_user`` / ``similar_artists`` (top-k lists) and,
for pipelines that re-rank, ``score_users`` / ``score_new_user`` (every artist's score) and
``item_embeddings``.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset, IdMap
from artistrec.data.scale import check_level
from artistrec.models import params as _params
from artistrec.models.params import Param
from artistrec.models.ranking import Filter, rank
from artistrec.store.artifacts import save_artifact

MEASURES = ("cosine", "dot")


class NotFittedError(RuntimeError):
    """The model is used before ``fit`` (or ``load_model``)."""


class Recommender(ABC):
    """Base class of all models. See the module docstring for the contract."""

    name: ClassVar[str] = "base"
    #: Bump when the learned arrays of a family, or the names/meaning of its parameters, change:
    #: older artifacts are then refused with a clear "retrain" error (and the service retrains)
    #: instead of failing mid-request.
    state_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # the parameter declarations become __init__ (store only), in declaration order
        dataclasses.dataclass(cls, eq=False, repr=False)

    # --------------------------------------------------------------------------- params
    @classmethod
    def param_specs(cls) -> dict[str, Param]:
        """name -> :class:`~artistrec.models.params.Param` (type, default, bounds, doc)."""
        return _params.specs(cls)

    @classmethod
    def param_table(cls) -> pd.DataFrame:
        """The parameters as a table: ``name``, ``type``, ``default``, ``accepts``, ``doc``."""
        return _params.param_table(cls)

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as given to ``__init__``."""
        return {n: getattr(self, n) for n in self.param_specs()}

    def set_params(self, **params: Any) -> Self:
        """Change hyper-parameters (validated, and taking effect, at the next ``fit``)."""
        _params.check_names(self.name, type(self), params)
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def validate_params(self) -> Self:
        """Raise :class:`~artistrec.models.params.ParameterError` for a value the model does not
        accept (``fit`` calls this first)."""
        _params.validate(self.name, type(self), self.get_params())
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --------------------------------------------------------------------------- fitting
    def fit(self, dataset: Dataset) -> Self:
        """Learn from ``dataset.interactions`` (and tags/friends where the model uses them)."""
        self.validate_params()
        self.user_ids_ = dataset.user_ids.copy()
        self.artist_ids_ = dataset.artist_ids.copy()
        self.fingerprint_ = dataset.fingerprint
        self.seen_ = sp.csr_matrix(dataset.interactions, dtype=np.float32)
        # artists each user already knows (listened or tagged): left out of their recommendations
        self.known_ = dataset.known_artists()
        self._fit(dataset)
        return self

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "seen_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{self.name} model is not fitted; call fit(dataset) first")

    @property
    def n_items(self) -> int:
        self._check_fitted()
        return int(self.artist_ids_.size)

    @property
    def n_users(self) -> int:
        self._check_fitted()
        return int(self.user_ids_.size)

    @property
    def artist_map(self) -> IdMap:
        return IdMap(self.artist_ids_, "artist")

    @property
    def user_map(self) -> IdMap:
        return IdMap(self.user_ids_, "user")

    # --------------------------------------------------------------------------- scores
    def score_users(self, users: int | npt.ArrayLike) -> np.ndarray:
        """Every artist's score for known users (row indices): float32 (n, n_items), or
        (n_items,) for one int. Higher is better; nothing is excluded."""
        self._check_fitted()
        idx = self._check_users(users)
        scores = np.array(self._score_users(idx), dtype=np.float32, copy=True)
        return scores[0] if np.ndim(users) == 0 else scores

    def score_new_user(self, ratings: Mapping[int, int]) -> np.ndarray:
        """Every artist's score for an unseen person from {artist index: level 0..5}: float32
        (n_items,). Level 0 counts as nothing; no positive level gives the model's prior."""
        self._check_fitted()
        items, levels = self._validate_ratings(ratings)
        return self._new_user_scores(items, levels)

    def item_embeddings(self) -> np.ndarray | None:
        """A dense float32 (n_items, d) artist embedding, or None for models without one.

        Factor models return their item factors (``als``, ``bpr`` without its bias column,
        ``seed-mf``, the ALS part of ``hybrid``); ``set-autoencoder`` its output embeddings.
        Item-item models (``item-knn``, ``ease``, ``dlae``, ``rp3beta``) and ``popularity``
        have none.
        """
        self._check_fitted()
        return None

    def _new_user_scores(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        pos = levels > 0
        return np.array(
            self._score_new_user(items[pos], levels[pos]), dtype=np.float32, copy=True
        ).ravel()

    # --------------------------------------------------------------------------- queries
    def recommend(
        self,
        users: int | npt.ArrayLike,
        k: int = 10,
        exclude_seen: bool = True,
        *,
        items: Filter = None,
        exclude: Filter = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` artists (column indices, scores) for known users (row indices).

        An int gives 1-D arrays (at most k long); an array of n users gives (n, k) arrays, with
        index -1 / score -inf where fewer than k candidates remain. ``exclude_seen`` leaves out
        the artists each user already knows: the ones they listened to and the ones they tagged
        (``Dataset.known_artists``). ``items`` restricts the ranking to candidate artists and
        ``exclude`` removes artists: each a 1-D array of column indices (the same for every
        user) or a sparse matrix with one row per requested user (its non-zeros are that user's
        set), as :func:`artistrec.models.ranking.rank`.
        """
        self._check_fitted()
        scalar = np.ndim(users) == 0
        idx = self._check_users(users)
        k = self._check_k(k)
        scores = np.array(self._score_users(idx), dtype=np.float32, copy=True)
        if exclude_seen:
            known = self.known_[idx].tocoo()
            scores[known.row, known.col] = -np.inf
        if scalar:
            return rank(scores[0], k, items=items, exclude=exclude)
        return rank(scores, k, items=items, exclude=exclude)

    def recommend_new_user(
        self,
        ratings: Mapping[int, int],
        k: int = 10,
        exclude_rated: bool = True,
        *,
        items: Filter = None,
        exclude: Filter = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` artists for a person the model has never seen, from {artist index: level 1..5}.

        Level 0 means "not listened" and counts as nothing (it is still excluded when
        ``exclude_rated``). With no positive level, the model's prior (popularity-like) ranking
        is used. ``items`` (candidates) and ``exclude`` are 1-D arrays of column indices.
        """
        self._check_fitted()
        k = self._check_k(k)
        rated, levels = self._validate_ratings(ratings)
        scores = self._new_user_scores(rated, levels)
        if exclude_rated and rated.size:
            scores[rated] = -np.inf
        return rank(scores, k, items=items, exclude=exclude)

    def similar_artists(
        self,
        artist: int,
        k: int = 10,
        measure: str = "cosine",
        *,
        items: Filter = None,
        exclude: Filter = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` artists most similar to ``artist`` (column index), excluding itself;
        ``items`` (candidates) and ``exclude`` are 1-D arrays of column indices."""
        self._check_fitted()
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        if isinstance(artist, bool) or not isinstance(artist, (int, np.integer)):
            raise TypeError("artist must be an integer column index")
        if not 0 <= int(artist) < self.n_items:
            raise IndexError(f"artist index {artist} out of range 0..{self.n_items - 1}")
        k = self._check_k(k)
        scores = np.array(self._similar_scores(int(artist), measure), np.float32, copy=True).ravel()
        scores[int(artist)] = -np.inf
        return rank(scores, k, items=items, exclude=exclude)

    # --------------------------------------------------------------------------- validation
    @staticmethod
    def _check_k(k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return int(k)

    def _check_users(self, users: int | npt.ArrayLike) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(users))
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError("users must be integer row indices")
        idx = idx.astype(np.int64)
        if idx.ndim != 1:
            raise ValueError(f"users must be an int or a 1-D array, got shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_users):
            raise IndexError(f"user index out of range 0..{self.n_users - 1}")
        return idx

    def _validate_ratings(self, ratings: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(ratings, Mapping):
            raise TypeError("ratings must be a mapping {artist index: level}")
        for key in ratings:
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
                raise TypeError(f"artist index must be an integer, got {key!r}")
        items = np.fromiter((int(i) for i in ratings.keys()), dtype=np.int64, count=len(ratings))
        levels = np.fromiter(
            (check_level(v) for v in ratings.values()), dtype=np.int64, count=len(ratings)
        )
        if items.size and (items.min() < 0 or items.max() >= self.n_items):
            bad = items[(items < 0) | (items >= self.n_items)]
            raise IndexError(f"artist index out of range 0..{self.n_items - 1}: {bad[:5].tolist()}")
        return items, levels

    # --------------------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path`` (npz + JSON metadata, atomic, no pickle)."""
        self._check_fitted()
        state = {
            "user_ids": self.user_ids_,
            "artist_ids": self.artist_ids_,
            "seen": self.seen_,
            "known": self.known_,
        }
        for key, value in self._state().items():
            state[f"m.{key}"] = value
        meta = {
            "model": self.name,
            "class": type(self).__name__,
            "state_version": self.state_version,
            "params": _params.jsonable(self.get_params()),
            "data_fingerprint": self.fingerprint_,
            "n_users": self.n_users,
            "n_items": self.n_items,
            **self._artifact_meta(),
        }
        return save_artifact(path, meta, state)

    @classmethod
    def _from_artifact(cls, meta: dict[str, Any], state: dict[str, Any]) -> Recommender:
        _params.check_names(cls.name, cls, meta["params"])
        model = cls(**meta["params"]).validate_params()
        model.user_ids_ = np.asarray(state["user_ids"], dtype=np.int64)
        model.artist_ids_ = np.asarray(state["artist_ids"], dtype=np.int64)
        model.seen_ = sp.csr_matrix(state["seen"], dtype=np.float32)
        if "known" not in state:
            raise KeyError("'known' (the artists users listened to or tagged): retrain the model")
        model.known_ = sp.csr_matrix(state["known"], dtype=np.float32)
        if model.known_.shape != model.seen_.shape:
            raise ValueError(f"known {model.known_.shape} != seen {model.seen_.shape}")
        model.fingerprint_ = meta["data_fingerprint"]
        model._set_state({k[2:]: v for k, v in state.items() if k.startswith("m.")})
        return model

    # --------------------------------------------------------------------------- hooks
    def _artifact_meta(self) -> dict[str, Any]:
        """Extra JSON metadata for this model's artifacts (e.g. the engine that trained it)."""
        return {}

    @abstractmethod
    def _fit(self, dataset: Dataset) -> None: ...

    @abstractmethod
    def _score_users(self, users: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _similar_scores(self, artist: int, measure: str) -> np.ndarray: ...

    @abstractmethod
    def _state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None: ...


class EmbeddingSimilarityMixin:
    """``_similar_scores`` from the dense (n_items, d) ``self.item_embeddings()``: cosine or dot
    product of every artist's vector with the query artist's."""

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        emb = self.item_embeddings()  # type: ignore[attr-defined]
        if measure == "cosine":
            norms = np.linalg.norm(emb, axis=1)
            scores = (emb @ emb[artist]) / np.maximum(norms * norms[artist], 1e-12)
        else:
            scores = emb @ emb[artist]
        return scores
