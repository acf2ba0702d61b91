"""The service layer: one facade (:class:`RecommenderService`) over small parts with one job each.

- :mod:`~artistrec.service.facade` - ``RecommenderService``, what the CLI, API and web app call
- :mod:`~artistrec.service.catalogue` - artist ids <-> indices, names, links, tags, name search
  (through :class:`artistrec.data.names.NameIndex`)
- :mod:`~artistrec.service.models` - the model cache (artifacts, training, staleness, locks)
- :mod:`~artistrec.service.explain` - "because you rated X and Y" reasons
- :mod:`~artistrec.service.rerank` - novelty re-ranking and its candidate pool
- :mod:`~artistrec.service.profiles` - stored profiles, ratings checked against the catalogue
- :mod:`~artistrec.service.history` - listening-history imports (one importer per data set)
- :mod:`~artistrec.service.validation` - request validation at the boundary, limits
- :mod:`~artistrec.service.errors` / :mod:`~artistrec.service.results` - what it raises / returns
"""

from __future__ import annotations

from artistrec.service.catalogue import N_TAGS, Catalogue
from artistrec.service.errors import InvalidRequestError, UnknownArtistError, UnknownUserError
from artistrec.service.explain import Explainer
from artistrec.service.facade import RecommenderService
from artistrec.service.history import (
    HISTORY_MAX_RATINGS,
    MAX_HISTORY_ENTRIES,
    InvalidHistoryError,
)
from artistrec.service.models import ModelCache, default_model_path, fit_with_progress
from artistrec.service.profiles import ENV_PROFILE_DB, ProfileService, open_store
from artistrec.service.rerank import NoveltyReranker
from artistrec.service.results import ArtistHit, Recommendation
from artistrec.service.validation import (
    MAX_EXCLUDE,
    MAX_K,
    MAX_QUERY_CHARS,
    MAX_RATINGS,
    MAX_SEARCH_LIMIT,
    check_k,
)

__all__ = [
    "ENV_PROFILE_DB",
    "HISTORY_MAX_RATINGS",
    "MAX_EXCLUDE",
    "MAX_HISTORY_ENTRIES",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "MAX_RATINGS",
    "MAX_SEARCH_LIMIT",
    "N_TAGS",
    "ArtistHit",
    "Catalogue",
    "Explainer",
    "InvalidHistoryError",
    "InvalidRequestError",
    "ModelCache",
    "NoveltyReranker",
    "ProfileService",
    "Recommendation",
    "RecommenderService",
    "UnknownArtistError",
    "UnknownUserError",
    "check_k",
    "default_model_path",
    "fit_with_progress",
    "open_store",
]
