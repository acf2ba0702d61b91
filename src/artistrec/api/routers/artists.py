"""The artist catalogue: search, one artist, similar artists.

Plain ``def`` handlers: name search and lookups run in the thread pool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from artistrec.api.deps import (
    DEFAULT_MEASURE,
    DEFAULT_MODEL,
    ArtistId,
    K,
    Measure,
    ModelName,
    Service,
)
from artistrec.api.errors import NOT_FOUND, errors
from artistrec.api.payloads import (
    json_response,
    model_version,
    recommendations_body,
    version_header,
)
from artistrec.api.schemas import ArtistDetail, ArtistOut, RecommendationsOut
from artistrec.service import MAX_QUERY_CHARS, MAX_SEARCH_LIMIT

router = APIRouter(tags=["artists"])


@router.get("/artists", response_model=list[ArtistOut], responses=errors())
def search_artists(
    svc: Service,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="Name substring")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
) -> Response:
    """Artists whose name matches ``q`` (case and accents ignored), most listened first."""
    return json_response(
        [
            {"id": h.id, "name": h.name, "listeners": h.listeners, "url": h.url}
            for h in svc.search_artists(q, limit)
        ]
    )


@router.get("/artists/{artist_id}", response_model=ArtistDetail, responses=errors(NOT_FOUND))
def artist(svc: Service, artist_id: ArtistId) -> dict[str, Any]:
    """One artist: name, links, listener count, top tags."""
    info = svc.artist_info(artist_id)
    info.pop("index", None)
    return info


@router.get(
    "/artists/{artist_id}/similar",
    response_model=RecommendationsOut,
    responses=errors(NOT_FOUND),
)
def similar(
    request: Request,
    svc: Service,
    artist_id: ArtistId,
    k: K = 10,
    measure: Measure = DEFAULT_MEASURE,
    model: ModelName = DEFAULT_MODEL,
) -> Response:
    """The ``k`` artists most similar to one artist."""
    name = model.value
    recs = svc.similar(artist_id, k=k, measure=measure.value, model=name)
    version = model_version(request, svc, name)
    return json_response(recommendations_body(svc, recs, name), headers=version_header(version))
