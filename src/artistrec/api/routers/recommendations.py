"""Recommendations for a new listener (ratings in the body) and for a user of the data set.

``POST /recommendations`` is the hot path. A small request of artist ids against a model that is
already in memory is answered inline on the event loop: strict decoding (msgspec, a few
microseconds), one fold-in and its explanation (about a millisecond on HetRec for up to
:data:`INLINE_ITEMS` ratings + exclusions and :data:`INLINE_K` results) and orjson; a
thread-pool hop would only add overhead and GIL hand-offs to that. Everything whose cost is not
bounded that tightly goes to the thread pool, so it cannot hold up other connections: names
(resolving a misspelt name searches the catalogue for suggestions), long rating lists, large
``k`` or novelty pools, and a model that still has to be loaded or trained.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from msgspec import UNSET

from artistrec.api.bodies import RecommendRequest, request_body
from artistrec.api.deps import DEFAULT_MODEL, MODEL_NAMES, K, ModelName, Service, UserId, read_body
from artistrec.api.errors import BODY, NOT_FOUND, errors
from artistrec.api.offload import run_cpu
from artistrec.api.payloads import (
    cached_version,
    json_response,
    model_version,
    ratings_by_id,
    recommendations_body,
    version_header,
)
from artistrec.api.schemas import RecommendationsOut
from artistrec.service import InvalidRequestError, RecommenderService

#: Inline (on the event loop) only up to this many ratings + exclusions ...
INLINE_ITEMS = 24
#: ... and this many results, without novelty re-ranking (its pool is 10 k >= 200 candidates).
#: Measured on HetRec with the default model (one process, shared machine): 24 ratings and
#: k = 12 cost ~1 ms median; 32 ratings and k = 20 already ~11 ms (the reasons' item x anchor
#: similarities grow with both).
INLINE_K = 12

router = APIRouter(tags=["recommendations"])


def check_model(name: str) -> str:
    """``name`` if it is a model name the API accepts (422 otherwise)."""
    if name not in MODEL_NAMES:
        raise InvalidRequestError(
            f"unknown model {name!r}; available: {', '.join(MODEL_NAMES)}", "model"
        )
    return name


def is_inline(svc: RecommenderService, body: RecommendRequest) -> bool:
    """Whether the request's cost is bounded tightly enough to run on the event loop."""
    return (
        len(body.ratings) + len(body.exclude) <= INLINE_ITEMS
        and body.k <= INLINE_K
        and body.novelty == 0.0
        and svc.is_loaded(body.model)
        and all(r.name is UNSET for r in body.ratings)
    )


@router.post(
    "/recommendations",
    response_model=RecommendationsOut,
    responses=errors(BODY, NOT_FOUND),
    openapi_extra=request_body(RecommendRequest),
)
async def recommend(request: Request) -> Response:
    """Ranked artists for a new listener from ratings (by id or name), with reasons."""
    body = await read_body(request, RecommendRequest)
    check_model(body.model)
    svc: RecommenderService = request.app.state.service
    version = cached_version(request, svc, body.model)
    if version is not None and is_inline(svc, body):
        return _recommend_for(svc, body, version)
    return await run_cpu(_recommend_in_thread, request, svc, body)


def _recommend_in_thread(
    request: Request, svc: RecommenderService, body: RecommendRequest
) -> Response:
    return _recommend_for(svc, body, model_version(request, svc, body.model))


def _recommend_for(svc: RecommenderService, body: RecommendRequest, version: str) -> Response:
    recs = svc.recommend_for_ratings(
        ratings_by_id(svc, body.ratings),
        k=body.k,
        exclude=body.exclude,
        model=body.model,
        novelty=body.novelty,
    )
    return json_response(
        recommendations_body(svc, recs, body.model), headers=version_header(version)
    )


@router.get(
    "/users/{user_id}/recommendations",
    response_model=RecommendationsOut,
    responses=errors(NOT_FOUND),
)
async def user_recommendations(
    request: Request,
    svc: Service,
    user_id: UserId,
    k: K = 10,
    model: ModelName = DEFAULT_MODEL,
) -> Response:
    """Artists a user of the data set has neither listened to nor tagged."""
    return await run_cpu(_user_recommendations, request, svc, user_id, k, model.value)


def _user_recommendations(
    request: Request, svc: RecommenderService, user_id: int, k: int, name: str
) -> Response:
    recs = svc.recommend_for_user(user_id, k=k, model=name)
    version = model_version(request, svc, name)
    return json_response(recommendations_body(svc, recs, name), headers=version_header(version))
