"""RecommenderService: the one facade the CLI, the HTTP API and the web app call.

It composes the parts - catalogue (ids, names, search), model cache, explainer, novelty
re-ranker - and speaks in ORIGINAL artist/user ids: column and row indices never leave it. Input
is validated once, here at the boundary (:mod:`artistrec.service.validation`); the errors it
raises (:mod:`artistrec.service.errors`) are what the interfaces translate. No web framework is
imported here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artistrec.data import Dataset, load_dataset
from artistrec.history import HistoryImport
from artistrec.history.formats import Progress
from artistrec.models.base import Recommender
from artistrec.service.catalogue import Catalogue
from artistrec.service.explain import Explainer
from artistrec.service.history import Files, HistoryService, fold_in, history_body
from artistrec.service.models import ModelCache
from artistrec.service.rerank import NoveltyReranker, pool_size
from artistrec.service.results import ArtistHit, Recommendation
from artistrec.service.validation import (
    check_exclude,
    check_k,
    check_measure,
    check_novelty,
    check_ratings,
    check_user,
)


class RecommenderService:
    """Dataset + models + the queries every interface needs, with ids at the boundary."""

    def __init__(
        self,
        dataset: Dataset,
        model_path: str | os.PathLike[str] | None = None,
        models: Mapping[str, Recommender] | None = None,
        train_if_missing: bool = True,
        progress: bool = False,
    ) -> None:
        self.dataset = dataset
        self.started_at = time.time()
        self.model_cache = ModelCache(dataset, model_path, models, train_if_missing, progress)
        self.catalogue = Catalogue(dataset)
        self.explainer = Explainer(dataset, self.catalogue.names, self.catalogue.listeners)
        self.reranker = NoveltyReranker(self.catalogue.listeners)
        self.history = HistoryService(self.catalogue)

    @classmethod
    def load(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        model_path: Path | None = None,
        model: str = "default",
        train_if_missing: bool = True,
        progress: bool = False,
    ) -> RecommenderService:
        """Load the data set once and the ``model`` (from ``model_path`` or the artifact cache)."""
        svc = cls(load_dataset(data_dir), model_path, None, train_if_missing, progress)
        svc.model(model)
        return svc

    # ------------------------------------------------------------------ models
    @property
    def model_path(self) -> Path | None:
        """The explicit artifact of the default model, if one was given."""
        return self.model_cache.model_path

    def model(self, name: str = "default") -> Recommender:
        """The fitted model ``name`` (loaded from its artifact, else trained and saved); cached."""
        return self.model_cache.get(name)

    def is_loaded(self, name: str = "default") -> bool:
        """Whether model ``name`` is already in memory (readiness probes)."""
        return self.model_cache.is_loaded(name)

    def train(self, name: str, **params: Any) -> Recommender:
        """A new model ``name`` (with ``params``) fitted on this service's data set (not cached)."""
        return self.model_cache.train(name, **params)

    def set_model(self, model: Recommender, name: str = "default") -> None:
        """Serve ``model`` under ``name`` (atomic swap: in-flight requests keep the old one)."""
        self.model_cache.set(model, name)

    def reload(self, name: str = "default") -> Recommender:
        """Re-read ``name``'s artifact file (no training, no pickle) and swap it in atomically."""
        return self.model_cache.reload(name)

    def model_info(self, name: str = "default") -> dict[str, Any]:
        """Name, parameters, data fingerprint and artifact of the served model ``name``."""
        return self.model_cache.info(name)

    @property
    def uptime(self) -> float:
        """Seconds since this service was created."""
        return time.time() - self.started_at

    # ------------------------------------------------------------------ artists
    def search_artists(self, query: str, limit: int = 20) -> list[ArtistHit]:
        """Artists whose name matches ``query`` (case and accents ignored), most listened first."""
        return self.catalogue.search(query, limit)

    def suggest_names(self, query: str, n: int = 5) -> list[str]:
        """Close artist names for a misspelt ``query``."""
        return self.catalogue.suggest(query, n)

    def resolve_artist(self, name_or_id: str | int) -> int:
        """The ORIGINAL artist id of a name or id (:class:`UnknownArtistError` with suggestions)."""
        return self.catalogue.resolve_name(name_or_id)

    def artist_index(self, artist_id: int) -> int:
        """Column index of an original artist id (for code that needs model arrays)."""
        return self.catalogue.index_of(artist_id)

    def names_of(self, artist_ids: Iterable[int]) -> list[str | None]:
        """Names of original artist ids (``None`` for ids not in the data)."""
        return self.catalogue.names_of(artist_ids)

    def artist_info(self, artist_id: int) -> dict[str, Any]:
        """id, name, url, picture_url, listeners and top tags of one artist."""
        return self.catalogue.info(artist_id)

    # ------------------------------------------------------------------ recommendations
    def recommend_for_ratings(
        self,
        ratings: Mapping[int, int],
        k: int = 10,
        exclude: Iterable[int] = (),
        model: str = "default",
        novelty: float = 0.0,
    ) -> list[Recommendation]:
        """Top-``k`` artists for a new listener from {artist id: level 0..5} (fold-in).

        Never returns rated or excluded artists. ``novelty`` > 0 re-ranks a wider candidate
        pool towards less popular artists (scores are then the re-ranking scores). Without a
        positive level, the most popular artists are recommended.
        """
        k, novelty = check_k(k), check_novelty(novelty)
        rated, levels = check_ratings(ratings, self.catalogue)
        excluded = check_exclude(exclude, self.catalogue)
        m = self.model(model)
        liked = rated[levels > 0]
        if liked.size == 0:
            return self._popular(k, rated, excluded, novelty)
        items, scores = self._top_for_new_user(m, rated, levels, excluded, k, novelty)
        return self._results(items, scores, self.explainer.because(items, liked, "rated"))

    def recommend_for_user(
        self, user_id: int, k: int = 10, model: str = "default"
    ) -> list[Recommendation]:
        """Top-``k`` artists for a known user (original user id) that they neither listened to
        nor tagged."""
        k = check_k(k)
        user = check_user(user_id, self.dataset.user_map)
        m = self.model(model)
        items, scores = m.recommend(user, k=min(k, m.n_items), exclude_seen=True)
        anchors = self.explainer.user_anchors(user)
        return self._results(items, scores, self.explainer.because(items, anchors, "listen to"))

    def similar(
        self, artist_id: int, k: int = 10, measure: str = "cosine", model: str = "default"
    ) -> list[Recommendation]:
        """The ``k`` artists most similar to ``artist_id`` (itself excluded)."""
        k, measure = check_k(k), check_measure(measure)
        idx = self.catalogue.index_of(artist_id)
        m = self.model(model)
        items, scores = m.similar_artists(idx, k=min(k, max(m.n_items - 1, 1)), measure=measure)
        return self._results(items, scores, self.explainer.similar_to(items, idx))

    def popular(self, k: int = 10) -> list[Recommendation]:
        """The ``k`` most listened artists (score = share of the top artist's listeners)."""
        empty = np.empty(0, np.int64)
        return self._popular(check_k(k), empty, empty, 0.0)

    # ------------------------------------------------------------------ listening histories
    def read_history(
        self,
        files: Files | None = None,
        *,
        entries: Sequence[Mapping[str, Any]] | None = None,
        progress: Progress | None = None,
    ) -> HistoryImport:
        """Read a listening history (export files, or ``{"name"|"artist_id", "plays"}``
        entries) and match it to the catalogue; nothing is stored."""
        return self.history.read(files, entries=entries, progress=progress)

    def import_history(
        self,
        files: Files | None = None,
        *,
        entries: Sequence[Mapping[str, Any]] | None = None,
        k: int = 10,
        model: str = "default",
        novelty: float = 0.0,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """A listening history and the top-``k`` artists it leads to (see
        :func:`artistrec.service.history.history_body`): the matched artists' levels go
        through :meth:`recommend_for_ratings`, and no artist of the history is recommended."""
        k, novelty = check_k(k), check_novelty(novelty)
        name = self.model(model).name  # a bad model name fails before the import's work
        result = self.read_history(files, entries=entries, progress=progress)
        ratings, exclude = fold_in(result)
        recs = self.recommend_for_ratings(ratings, k, exclude, model, novelty)
        return history_body(result, ratings, recs, name)

    # ------------------------------------------------------------------ internals
    def _popular(
        self, k: int, rated: np.ndarray, excluded: np.ndarray, novelty: float
    ) -> list[Recommendation]:
        baseline = self.model_cache.baseline()
        levels = np.zeros(rated.size, np.int64)
        items, scores = self._top_for_new_user(baseline, rated, levels, excluded, k, novelty)
        return self._results(items, scores, self.explainer.popular(self.catalogue.listeners[items]))

    def _top_for_new_user(
        self,
        model: Recommender,
        rated: np.ndarray,
        levels: np.ndarray,
        excluded: np.ndarray,
        k: int,
        novelty: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's fold-in ranking without rated or excluded artists, re-ranked for novelty.

        The one place candidates are fetched: the model ranks the re-ranker's pool with the
        excluded artists filtered out by the protocol's ``exclude=`` (no over-fetching).
        """
        pool = min(pool_size(k, novelty), model.n_items)
        ratings = dict(zip(rated.tolist(), levels.tolist(), strict=True))
        items, scores = model.recommend_new_user(
            ratings, k=pool, exclude_rated=True, exclude=excluded
        )
        return self.reranker.rerank(items, scores, k, novelty)

    def _results(
        self, items: np.ndarray, scores: np.ndarray, reasons: list[str]
    ) -> list[Recommendation]:
        return self.catalogue.recommendations(items, scores, reasons)
