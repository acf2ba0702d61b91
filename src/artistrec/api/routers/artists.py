"""The artist catalogue: search, one artist, similar artists.

Name search and similar artists run on the compute thread (:mod:`artistrec.api.offload`).
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
from artistrec.api.offload import run_cpu
from artistrec.api.payloads import (
    json_response,
    model_version,
    recommendations_body,
    version_header,
)
from artistrec.api.schemas import ArtistDetail, ArtistOut, RecommendationsOut
from artistrec.service import MAX_QUERY_CHARS, MAX_SEARCH_LIMIT, RecommenderService

router = APIRouter(tags=["artists"])


@router.get("/artists", response_model=list[ArtistOut], responses=errors())
async def search_artists(
    svc: Service,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="Name substring")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
) -> Response:
    """Artists whose name matches ``q`` (case and accents ignored), most listened first."""
    return await run_cpu(_search, svc, q, limit)


def _search(svc: RecommenderService, q: str, limit: int) -> Response:
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
async def similar(
    request: Request,
    svc: Service,
    artist_id: ArtistId,
    k: K = 10,
    measure: Measure = DEFAULT_MEASURE,
    model: ModelName = DEFAULT_MODEL,
) -> Response:
    """The ``k`` artists most similar to one artist."""
    return await run_cpu(_similar, request, svc, artist_id, k, measure.value, model.value)


def _similar(
    request: Request, svc: RecommenderService, artist_id: int, k: int, measure: str, name: str
) -> Response:
    recs = svc.similar(artist_id, k=k, measure=measure, model=name)
    version = model_version(request, svc, name)
    return json_response(recommendations_body(svc, recs, name), headers=version_header(version))
