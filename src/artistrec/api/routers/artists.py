"""The artist catalogue: search, one artist, similar artists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from artistrec.api.deps import ArtistId, K, ModelName, Service
from artistrec.api.errors import ERRORS
from artistrec.api.payloads import recommendations_body
from artistrec.api.schemas import ArtistDetail, ArtistOut, RecommendationsOut
from artistrec.models.base import MEASURES
from artistrec.service import MAX_QUERY_CHARS, MAX_SEARCH_LIMIT

router = APIRouter(tags=["artists"], responses=ERRORS)


@router.get("/artists", response_model=list[ArtistOut])
def search_artists(
    svc: Service,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="Name substring")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
) -> list[dict[str, Any]]:
    """Artists whose name contains ``q`` (case and accents ignored), most listened first."""
    return [
        {"id": h.id, "name": h.name, "listeners": h.listeners, "url": h.url}
        for h in svc.search_artists(q, limit)
    ]


@router.get("/artists/{artist_id}", response_model=ArtistDetail)
def artist(svc: Service, artist_id: ArtistId) -> dict[str, Any]:
    """One artist: name, links, listener count, top tags."""
    info = svc.artist_info(artist_id)
    info.pop("index", None)
    return info


@router.get("/artists/{artist_id}/similar", response_model=RecommendationsOut)
def similar(
    svc: Service,
    artist_id: ArtistId,
    k: K = 10,
    measure: Annotated[str, Query(description=f"one of {', '.join(MEASURES)}")] = "cosine",
    model: ModelName = "default",
) -> dict[str, Any]:
    """The ``k`` artists most similar to one artist."""
    return recommendations_body(
        svc, svc.similar(artist_id, k=k, measure=measure, model=model), model
    )
