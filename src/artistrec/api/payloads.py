"""Request bodies -> service arguments, service results -> response bodies, JSON responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from msgspec import UNSET

from artistrec.api.bodies import RatingIn
from artistrec.api.middleware import VERSION_HEADER
from artistrec.service import (
    InvalidRequestError,
    ProfileService,
    Recommendation,
    RecommenderService,
)
from artistrec.store.profiles import Profile


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``content`` as JSON (orjson: several times faster than the standard library's encoder)."""
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


def ratings_by_id(svc: RecommenderService, ratings: list[RatingIn]) -> dict[int, int]:
    """{original artist id: level} from ratings naming artists by id or by name.

    Names are resolved here (unknown ones raise with suggestions: call this off the event loop
    when a rating has a name); an artist given twice, by id or name, is refused. Ids and levels
    are validated where they are used, by the service.
    """
    out: dict[int, int] = {}
    for r in ratings:
        aid = r.artist_id if r.artist_id is not UNSET else svc.resolve_artist(str(r.name))
        if aid in out:
            label = r.name if r.name is not UNSET else aid
            raise InvalidRequestError(
                f"artist {label!r} (id {aid}) appears more than once", "ratings"
            )
        out[int(aid)] = int(r.level)
    return out


def recommendations_body(
    svc: RecommenderService, recs: list[Recommendation], model: str
) -> dict[str, Any]:
    """The ``RecommendationsOut`` shape: the concrete model name and the records (no index)."""
    return {
        "model": svc.model(model).name,
        "recommendations": [
            {
                "artist_id": r.artist_id,
                "name": r.name,
                "url": r.url,
                "score": r.score,
                "tags": r.tags,
                "reason": r.reason,
            }
            for r in recs
        ],
    }


def cached_version(request: Request, svc: RecommenderService, model: str) -> str | None:
    """The version of model ``model`` if it is in memory and its version known (no I/O)."""
    watcher = request.app.state.watcher
    if model == "default":
        return watcher.version
    if not svc.is_loaded(model):
        return None
    return watcher.version_of(svc.model(model))


def model_version(request: Request, svc: RecommenderService, model: str) -> str:
    """The version of model ``model`` (loading it and hashing its artifact the first time:
    blocking, call off the event loop)."""
    known = cached_version(request, svc, model)
    if known is not None:
        return known
    return request.app.state.watcher.remember(
        svc.model(model), svc.model_cache.artifact_path(model)
    )


def version_header(version: str) -> dict[str, str]:
    """The ``X-Model-Version`` header of an answer a model with ``version`` produced."""
    return {VERSION_HEADER: version}


def profile_body(profiles: ProfileService, profile: Profile) -> dict[str, Any]:
    """The ``ProfileOut`` shape, each rating with the artist's name (None if unknown now)."""
    return {
        "id": profile.id,
        "display_name": profile.display_name,
        "ratings": [
            {"artist_id": a, "name": n, "level": lv} for a, n, lv in profiles.rated_artists(profile)
        ],
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
        "version": profile.version,
    }
