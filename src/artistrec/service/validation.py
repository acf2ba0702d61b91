"""Request validation at the service boundary: limits, k, novelty, measure, ratings, exclusions.

The one place user input is checked. Every check raises :class:`InvalidRequestError` (naming the
field) or :class:`UnknownArtistError` / :class:`UnknownUserError`; what passes is handed to the
models as column/row indices they can trust.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from artistrec.data.dataset import IdMap
from artistrec.models.base import MEASURES
from artistrec.service.errors import InvalidRequestError, UnknownUserError

if TYPE_CHECKING:
    from artistrec.service.catalogue import Catalogue

MAX_K = 500
MAX_RATINGS = 1000
MAX_EXCLUDE = 10_000
MAX_QUERY_CHARS = 200
MAX_SEARCH_LIMIT = 500
MIN_LEVEL, MAX_LEVEL = 0, 5

_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


def is_int(x: object) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def in_int64(x: int) -> bool:
    """Whether ``x`` fits an int64 (larger ids are certainly unknown)."""
    return _ID_MIN <= int(x) <= _ID_MAX


def check_k(k: object, name: str = "k", upper: int = MAX_K) -> int:
    """Validate a result count 1..``upper``."""
    if not is_int(k) or not 1 <= int(k) <= upper:
        raise InvalidRequestError(f"{name} must be an integer in 1..{upper}, got {k!r}", name)
    return int(k)


def check_novelty(novelty: object) -> float:
    """Validate the novelty (discovery) weight, a finite number in 0..1."""
    if isinstance(novelty, bool) or not isinstance(novelty, (int, float, np.number)):
        raise InvalidRequestError(f"novelty must be a number in 0..1, got {novelty!r}", "novelty")
    v = float(novelty)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise InvalidRequestError(f"novelty must be in 0..1, got {novelty!r}", "novelty")
    return v


def check_measure(measure: object) -> str:
    """Validate a similarity measure name."""
    if measure not in MEASURES:
        raise InvalidRequestError(
            f"measure must be one of {', '.join(MEASURES)}, got {measure!r}", "measure"
        )
    return str(measure)


def check_query(query: object, field: str, what: str = "query") -> str:
    """Validate a search text: a string of at most :data:`MAX_QUERY_CHARS` characters."""
    if not isinstance(query, str):
        raise InvalidRequestError(f"{what} must be a string", field)
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidRequestError(f"{what} longer than {MAX_QUERY_CHARS} characters", field)
    return query


def check_ratings(
    ratings: Mapping[int, int], catalogue: Catalogue
) -> tuple[np.ndarray, np.ndarray]:
    """{original artist id: level 0..5} -> (column indices, levels), both int64.

    Raises for a non-mapping, too many ratings, non-integer ids or levels, levels outside 0..5,
    unknown artists (``field="ratings"``) and an artist rated twice.
    """
    if not isinstance(ratings, Mapping):
        raise InvalidRequestError("ratings must be a mapping {artist id: level}", "ratings")
    if len(ratings) > MAX_RATINGS:
        raise InvalidRequestError(
            f"at most {MAX_RATINGS} ratings per request, got {len(ratings)}", "ratings"
        )
    ids = []
    levels = []
    for key, level in ratings.items():
        if not is_int(key):
            raise InvalidRequestError(f"artist id must be an integer, got {key!r}", "ratings")
        if not is_int(level) or not MIN_LEVEL <= int(level) <= MAX_LEVEL:
            raise InvalidRequestError(
                f"level for artist {key} must be an integer {MIN_LEVEL}..{MAX_LEVEL}, "
                f"got {level!r}",
                "level",
            )
        ids.append(int(key))
        levels.append(int(level))
    idx = catalogue.indices_of(ids, "ratings")
    if np.unique(idx).size != idx.size:
        raise InvalidRequestError("an artist is rated more than once", "ratings")
    return idx, np.asarray(levels, dtype=np.int64)


def check_exclude(exclude: Iterable[int], catalogue: Catalogue) -> np.ndarray:
    """Original artist ids to leave out -> their column indices (int64)."""
    if isinstance(exclude, (str, bytes, Mapping)) or not isinstance(exclude, Iterable):
        raise InvalidRequestError("exclude must be a list of artist ids", "exclude")
    ids = list(exclude)
    if len(ids) > MAX_EXCLUDE:
        raise InvalidRequestError(f"at most {MAX_EXCLUDE} excluded artists", "exclude")
    if not all(is_int(i) for i in ids):
        raise InvalidRequestError("exclude must hold integer artist ids", "exclude")
    return catalogue.indices_of(ids, "exclude")


def check_user(user_id: object, users: IdMap) -> int:
    """An original user id of the data set -> its row index."""
    if not is_int(user_id):
        raise InvalidRequestError(f"user id must be an integer, got {user_id!r}", "user_id")
    uid = int(user_id)
    if not in_int64(uid):
        raise UnknownUserError(uid)
    q = np.asarray([uid], dtype=np.int64)
    if not users.contains(q)[0]:
        raise UnknownUserError(uid)
    return int(users.index(q)[0])
