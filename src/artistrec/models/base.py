"""The one model protocol every recommender implements (scikit-learn style).

Subclasses set ``name``, take their hyper-parameters as keyword arguments in ``__init__`` (stored
unchanged, no work done), and implement:

- ``_fit(dataset)``: learn state into attributes ending in ``_``;
- ``_score_users(users) -> float32 (n, n_items)``: scores for known users (row indices);
- ``_score_new_user(items, levels) -> float32 (n_items,)``: fold-in of an unseen person from the
  artists they rated (column indices) and their levels 1..5;
- ``_similar_scores(artist, measure) -> float32 (n_items,)``: similarity of every artist to one;
- ``_state()`` / ``_set_state(state)``: the learned arrays (dense or scipy CSR) for save/load.

The base class handles validation, seen-item exclusion, top-k selection, and artifacts.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from artistrec.data.dataset import Dataset, IdMap
from artistrec.data.scale import check_level
from artistrec.store.artifacts import ArtifactError, load_artifact, save_artifact

MEASURES = ("cosine", "dot")

_BLAS_CONTROLLER: ThreadpoolController | None = None


def single_blas_thread() -> contextlib.AbstractContextManager[object]:
    """Context in which BLAS runs on one thread.

    Small or tall-skinny products (fold-ins, implicit's own multi-threaded solvers) only pay for
    BLAS threads in synchronisation, which is 10-50x slower on a busy 2-core machine. The
    controller inspects the loaded libraries once per process (~0.6 ms); each use then costs
    ~0.02 ms, so this is cheap enough for per-request paths.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


class NotFittedError(RuntimeError):
    """The model is used before ``fit`` (or ``load_model``)."""


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest entries of each row, best first (vectorised)."""
    scores = np.atleast_2d(scores)
    n = scores.shape[1]
    k = min(k, n)
    if k <= 0:
        return np.empty((scores.shape[0], 0), np.int64), np.empty((scores.shape[0], 0), np.float32)
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return items, np.take_along_axis(vals, order, axis=1).astype(np.float32)


def _top_candidates(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` largest entries of a long vector (unordered; ties at the cut arbitrary).

    numpy's introselect degrades badly when many entries share one value (~1 ms instead of
    ~0.03 ms for 17,632 scores with 13,000 scattered ties, as a fold-in leaves the artists no
    model part scores). So first keep only the entries above a threshold read off a strided
    sample (about 64 x (k/16 + 2) of them, all of the top k whenever at least k pass), and
    partition those; if fewer than ``k`` pass, partition everything.
    """
    n = scores.size
    if n > 4096:
        sample = np.sort(scores[::64])
        thr = sample[-min(sample.size, k // 16 + 2)]
        cand = np.flatnonzero(scores > thr)
        if cand.size >= k:
            return cand[np.argpartition(scores[cand], cand.size - k)[cand.size - k :]]
    return np.argpartition(scores, n - k)[n - k :]


def top_k_1d(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``top_k`` for one score vector: the per-request path (no 2-D bookkeeping, no negated copy)."""
    n = scores.size
    k = min(k, n)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    if k < n:
        part = _top_candidates(scores, k)
        cut = scores[part].min()
        if np.count_nonzero(scores == cut) > np.count_nonzero(scores[part] == cut):
            # a tie straddles the cut: keep the lowest-index tied artists (deterministic in k)
            above = np.flatnonzero(scores > cut)
            part = np.concatenate([above, np.flatnonzero(scores == cut)[: k - above.size]])
    else:
        part = np.arange(n)
    vals = scores[part]
    order = np.lexsort((part, -vals))  # best first; ties by index, as top_k's stable sort
    return part[order].astype(np.int64), vals[order].astype(np.float32)


def csr_row_entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in a CSR matrix's data/indices of every entry of ``rows`` (in order), and each
    row's entry count: a gather without building scipy matrices (per-request paths)."""
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    flat = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    return flat, lens


def row_normalize(m: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


class Recommender(ABC):
    """Base class of all models. See the module docstring for the contract."""

    name: ClassVar[str] = "base"
    #: Bump when the learned arrays of a family change shape or meaning: older artifacts are
    #: then refused with a clear error (and the service retrains) instead of failing mid-request.
    state_version: ClassVar[int] = 1

    # --------------------------------------------------------------------------- params
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as given to ``__init__``."""
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Change hyper-parameters (takes effect at the next ``fit``)."""
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{self.name} has no parameter {key!r}; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --------------------------------------------------------------------------- fitting
    def fit(self, dataset: Dataset) -> Self:
        """Learn from ``dataset.interactions`` (and tags/friends where the model uses them)."""
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

    # --------------------------------------------------------------------------- queries
    def recommend(
        self, users: int | npt.ArrayLike, k: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` artists (column indices, scores) for known users (row indices).

        An int gives 1-D arrays of length k; an array of n users gives (n, k) arrays.
        ``exclude_seen`` leaves out the artists each user already knows: the ones they listened
        to and the ones they tagged (``Dataset.known_artists``).
        """
        self._check_fitted()
        scalar = np.ndim(users) == 0
        idx = np.atleast_1d(np.asarray(users))
        if not np.issubdtype(idx.dtype, np.integer):
            raise TypeError("users must be integer row indices")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_users):
            raise IndexError(f"user index out of range 0..{self.n_users - 1}")
        k = self._check_k(k)
        scores = np.array(self._score_users(idx), dtype=np.float32, copy=True)
        if exclude_seen:
            known = self.known_[idx].tocoo()
            scores[known.row, known.col] = -np.inf
        items, vals = top_k(scores, k)
        return (items[0], vals[0]) if scalar else (items, vals)

    def recommend_new_user(
        self, ratings: Mapping[int, int], k: int = 10, exclude_rated: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` artists for a person the model has never seen, from {artist index: level 1..5}.

        Level 0 means "not listened" and counts as nothing (it is still excluded when
        ``exclude_rated``). With no positive level, the model's prior (popularity-like) ranking is used.
        """
        self._check_fitted()
        k = self._check_k(k)
        items, levels = self._validate_ratings(ratings)
        pos = levels > 0
        scores = np.array(
            self._score_new_user(items[pos], levels[pos]), dtype=np.float32, copy=True
        ).ravel()
        if exclude_rated and items.size:
            scores[items] = -np.inf
        it, vals = top_k_1d(scores, k)
        keep = np.isfinite(vals)
        return it[keep], vals[keep]

    def similar_artists(
        self, artist: int, k: int = 10, measure: str = "cosine"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` artists most similar to ``artist`` (column index), excluding itself."""
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
        it, vals = top_k(scores[None, :], k)
        keep = np.isfinite(vals[0])
        return it[0][keep], vals[0][keep]

    # --------------------------------------------------------------------------- validation
    @staticmethod
    def _check_k(k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return int(k)

    def _validate_ratings(self, ratings: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(ratings, Mapping):
            raise TypeError("ratings must be a mapping {artist index: level}")
        items = np.fromiter((int(i) for i in ratings.keys()), dtype=np.int64, count=len(ratings))
        for key in ratings:
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
                raise TypeError(f"artist index must be an integer, got {key!r}")
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
            "params": _jsonable(self.get_params()),
            "data_fingerprint": self.fingerprint_,
            "n_users": self.n_users,
            "n_items": self.n_items,
            **self._artifact_meta(),
        }
        return save_artifact(path, meta, state)

    @classmethod
    def _from_artifact(cls, meta: dict[str, Any], state: dict[str, Any]) -> Recommender:
        model = cls(**meta["params"])
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


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def load_model(path: str | os.PathLike[str], dataset: Dataset | None = None) -> Recommender:
    """Load a saved model; with ``dataset``, check it was trained on the same data."""
    from artistrec.models.registry import model_class

    meta, state = load_artifact(path)
    try:
        cls = model_class(meta["model"])
    except KeyError as exc:
        raise ArtifactError(f"{path}: unknown model {meta.get('model')!r}") from exc
    if dataset is not None and meta.get("data_fingerprint") != dataset.fingerprint:
        raise ArtifactError(
            f"{path} was trained on data {meta.get('data_fingerprint')}, "
            f"but the loaded data set is {dataset.fingerprint}; retrain with `artistrec train`"
        )
    if int(meta.get("state_version", 1)) != cls.state_version:
        raise ArtifactError(
            f"{path} holds a {meta['model']!r} model in state version "
            f"{meta.get('state_version', 1)}, this artistrec reads version {cls.state_version}; "
            f"retrain it with `artistrec train {meta['model']}`"
        )
    try:
        model = cls._from_artifact(meta, state)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{path}: artifact does not match model {meta['model']!r}: {exc}"
        ) from exc
    if dataset is not None and not np.array_equal(model.artist_ids_, dataset.artist_ids):
        raise ArtifactError(f"{path}: artist id map differs from the loaded data set")
    return model


class EmbeddingSimilarityMixin:
    """``_similar_scores`` from a dense (n_items, d) item embedding ``self._item_embeddings()``."""

    def _item_embeddings(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        emb = self._item_embeddings()
        if measure == "cosine":
            norms = np.linalg.norm(emb, axis=1)
            return (emb @ emb[artist]) / np.maximum(norms * norms[artist], 1e-12)
        return emb @ emb[artist]
