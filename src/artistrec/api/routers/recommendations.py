"""Recommendations for a new listener (ratings in the body) and for a user of the data set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from artistrec.api.deps import K, ModelName, Service, UserId
from artistrec.api.errors import ERRORS
from artistrec.api.payloads import ratings_by_id, recommendations_body
from artistrec.api.schemas import ErrorOut, RecommendationsOut, RecommendRequest
from artistrec.service import RecommenderService

#: ``POST /recommendations`` with more ratings + exclusions than this runs in the thread pool
INLINE_RATINGS = 64

router = APIRouter(tags=["recommendations"])


@router.post(
    "/recommendations",
    response_model=RecommendationsOut,
    responses={**ERRORS, 413: {"model": ErrorOut}},
)
async def recommend(svc: Service, body: RecommendRequest) -> Response:
    """Ranked artists for a new listener from ratings (by id or name), with reasons."""
    # The hot path: ~2 ms of GIL-bound CPU, run inline on the event loop (a thread-pool hop
    # adds overhead and GIL hand-offs, not parallelism; scale with `serve --workers`), and
    # answered as ready JSON (the dict already has the RecommendationsOut shape, so
    # re-validating it through the response model would only cost time).
    if len(body.ratings) + len(body.exclude) > INLINE_RATINGS:
        # a long rating list costs tens of ms: off the event loop, so the small requests
        # queued behind it are not held up
        return await run_in_threadpool(_recommend_for, svc, body)
    return _recommend_for(svc, body)


def _recommend_for(svc: RecommenderService, body: RecommendRequest) -> Response:
    recs = svc.recommend_for_ratings(
        ratings_by_id(svc, body.ratings),
        k=body.k,
        exclude=body.exclude,
        model=body.model,
        novelty=body.novelty,
    )
    return JSONResponse(recommendations_body(svc, recs, body.model))


@router.get("/users/{user_id}/recommendations", response_model=RecommendationsOut, responses=ERRORS)
def user_recommendations(
    svc: Service, user_id: UserId, k: K = 10, model: ModelName = "default"
) -> dict[str, Any]:
    """Artists a user of the data set has neither listened to nor tagged."""
    return recommendations_body(svc, svc.recommend_for_user(user_id, k=k, model=model), model)
