"""Stored listener profiles: create, read, replace, patch, delete, and their recommendations.

Anyone holding a profile id may read it; changing it needs its owner token (``Bearer``).
Profiles are versioned: the ``ETag`` is the version, and writes honour ``If-Match`` /
``If-Unmodified-Since`` through the store's compare-and-set (:mod:`artistrec.api.preconditions`).
Store work runs on the I/O thread pool; a body that names artists (resolving a misspelt name
searches the catalogue) and recommendations run on the compute thread (:mod:`..offload`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from msgspec import UNSET

from artistrec.api.bodies import ProfileIn, ProfilePatch, request_body
from artistrec.api.deps import (
    DEFAULT_MODEL,
    K,
    ModelName,
    Novelty,
    OwnerToken,
    ProfileId,
    Profiles,
    Service,
    read_body,
)
from artistrec.api.errors import AUTH, BODY, NOT_FOUND, PRECONDITION, errors
from artistrec.api.offload import run_cpu, run_io
from artistrec.api.payloads import (
    json_response,
    model_version,
    profile_body,
    ratings_by_id,
    recommendations_body,
    version_header,
)
from artistrec.api.preconditions import expected_version, not_modified, profile_headers
from artistrec.api.schemas import ProfileCreated, ProfileOut, RecommendationsOut
from artistrec.service import ProfileService, RecommenderService
from artistrec.store.profiles import Profile

router = APIRouter(tags=["profiles"])

_VERSIONED = {
    "ETag": {"description": "The profile's version, quoted", "schema": {"type": "string"}},
    "Last-Modified": {"description": "When it last changed", "schema": {"type": "string"}},
}
IfMatch = Annotated[
    str | None,
    Header(
        description='Write only if the profile is still at this version (its ETag, e.g. "3"; '
        "`*` = any). 412 otherwise. Optional: without it the last writer wins."
    ),
]
IfUnmodifiedSince = Annotated[
    str | None,
    Header(
        description="Write only if the profile did not change after this HTTP-date "
        "(ignored when If-Match is sent; whole seconds: If-Match is exact)"
    ),
]
IfNoneMatch = Annotated[
    str | None, Header(description="304 Not Modified if the profile still has this ETag")
]


def has_names(body: ProfileIn | ProfilePatch) -> bool:
    """Whether a body names an artist (resolving names is CPU work)."""
    return any(r.name is not UNSET for r in body.ratings)


def _ok(profiles: ProfileService, profile: Profile) -> Response:
    return json_response(profile_body(profiles, profile), 200, profile_headers(profile))


@router.post(
    "/profiles",
    response_model=ProfileCreated,
    status_code=201,
    responses=errors(BODY, NOT_FOUND),
    openapi_extra={
        **request_body(ProfileIn),
        "responses": {
            "201": {"headers": {**_VERSIONED, "Location": {"schema": {"type": "string"}}}}
        },
    },
)
async def create_profile(request: Request) -> Response:
    """Store a profile; the answer holds its id and the owner token (shown once)."""
    body = await read_body(request, ProfileIn)
    run = run_cpu if has_names(body) else run_io
    return await run(_create, request, body)


def _create(request: Request, body: ProfileIn) -> Response:
    svc: RecommenderService = request.app.state.service
    profiles: ProfileService = request.app.state.profiles
    profile, token = profiles.create(ratings_by_id(svc, body.ratings), body.display_name)
    request.app.state.store_health.succeeded()
    headers = {**profile_headers(profile), "Location": f"/profiles/{profile.id}"}
    content = {"id": profile.id, "owner_token": token, "profile": profile_body(profiles, profile)}
    return json_response(content, 201, headers)


@router.get(
    "/profiles/{profile_id}",
    response_model=ProfileOut,
    responses=errors(NOT_FOUND, {304: {"description": "Not modified (If-None-Match)"}}),
    openapi_extra={"responses": {"200": {"headers": _VERSIONED}}},
)
def get_profile(
    request: Request,
    profiles: Profiles,
    profile_id: ProfileId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A stored profile (anyone holding the id may read it)."""
    profile = profiles.get(str(profile_id))
    if not_modified(request, profile):
        return Response(status_code=304, headers=profile_headers(profile))
    return _ok(profiles, profile)


_WRITE_ERRORS = errors(BODY, NOT_FOUND, AUTH, PRECONDITION)


@router.put(
    "/profiles/{profile_id}",
    response_model=ProfileOut,
    responses=_WRITE_ERRORS,
    openapi_extra={**request_body(ProfileIn), "responses": {"200": {"headers": _VERSIONED}}},
)
async def put_profile(
    request: Request,
    profile_id: ProfileId,
    token: OwnerToken,
    if_match: IfMatch = None,
    if_unmodified_since: IfUnmodifiedSince = None,
) -> Response:
    """Replace a profile's ratings and display name (owner only)."""
    body = await read_body(request, ProfileIn)
    run = run_cpu if has_names(body) else run_io
    return await run(_put, request, str(profile_id), token, body)


def _put(request: Request, pid: str, token: str, body: ProfileIn) -> Response:
    svc: RecommenderService = request.app.state.service
    profiles: ProfileService = request.app.state.profiles
    current = profiles.get(pid)  # 404 before resolving artist names of a profile not there
    expected = expected_version(request, lambda: current)
    ratings = ratings_by_id(svc, body.ratings)
    profile = profiles.replace(pid, token, ratings, body.display_name, if_version=expected)
    request.app.state.store_health.succeeded()
    return _ok(profiles, profile)


@router.patch(
    "/profiles/{profile_id}",
    response_model=ProfileOut,
    responses=_WRITE_ERRORS,
    openapi_extra={**request_body(ProfilePatch), "responses": {"200": {"headers": _VERSIONED}}},
)
async def patch_profile(
    request: Request,
    profile_id: ProfileId,
    token: OwnerToken,
    if_match: IfMatch = None,
    if_unmodified_since: IfUnmodifiedSince = None,
) -> Response:
    """Upsert ``ratings``, delete ``remove``, and/or rename (owner only)."""
    body = await read_body(request, ProfilePatch)
    run = run_cpu if has_names(body) else run_io
    return await run(_patch, request, str(profile_id), token, body)


def _patch(request: Request, pid: str, token: str, body: ProfilePatch) -> Response:
    svc: RecommenderService = request.app.state.service
    profiles: ProfileService = request.app.state.profiles
    current = profiles.get(pid)
    expected = expected_version(request, lambda: current)
    rename = body.display_name is not UNSET  # absent keeps the name, null clears it
    profile = profiles.update(
        pid,
        token,
        ratings=ratings_by_id(svc, body.ratings),
        remove=body.remove,
        display_name=body.display_name if isinstance(body.display_name, str) else None,
        set_display_name=rename,
        if_version=expected,
    )
    request.app.state.store_health.succeeded()
    return _ok(profiles, profile)


@router.delete(
    "/profiles/{profile_id}",
    status_code=204,
    responses=errors(NOT_FOUND, AUTH, PRECONDITION),
)
def delete_profile(
    request: Request,
    profiles: Profiles,
    profile_id: ProfileId,
    token: OwnerToken,
    if_match: IfMatch = None,
    if_unmodified_since: IfUnmodifiedSince = None,
) -> Response:
    """Delete a profile (owner only)."""
    pid = str(profile_id)
    expected = expected_version(request, lambda: profiles.get(pid))
    profiles.delete(pid, token, if_version=expected)
    request.app.state.store_health.succeeded()
    return Response(status_code=204)


@router.get(
    "/profiles/{profile_id}/recommendations",
    response_model=RecommendationsOut,
    responses=errors(NOT_FOUND),
)
async def profile_recommendations(
    request: Request,
    svc: Service,
    profiles: Profiles,
    profile_id: ProfileId,
    k: K = 10,
    model: ModelName = DEFAULT_MODEL,
    novelty: Novelty = 0.0,
) -> Response:
    """Recommendations from a stored profile's ratings."""
    args = (request, svc, profiles, str(profile_id), k, model.value, novelty)
    return await run_cpu(_profile_recommendations, *args)


def _profile_recommendations(
    request: Request,
    svc: RecommenderService,
    profiles: ProfileService,
    profile_id: str,
    k: int,
    name: str,
    novelty: float,
) -> Response:
    ratings = profiles.load(profile_id).ratings
    recs = svc.recommend_for_ratings(ratings, k=k, model=name, novelty=novelty)
    version = model_version(request, svc, name)
    return json_response(recommendations_body(svc, recs, name), headers=version_header(version))
