"""Stored listener profiles: create, read, replace, patch, delete, and their recommendations.

Anyone holding a profile id may read it; changing it needs its owner token (``Bearer``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from artistrec.api.deps import K, ModelName, Novelty, OwnerToken, ProfileId, Profiles, Service
from artistrec.api.errors import AUTH_ERRORS, ERRORS
from artistrec.api.payloads import profile_body, ratings_by_id, recommendations_body
from artistrec.api.schemas import (
    ProfileCreated,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
    RecommendationsOut,
)

router = APIRouter(tags=["profiles"])


@router.post("/profiles", response_model=ProfileCreated, status_code=201, responses=ERRORS)
def create_profile(svc: Service, profiles: Profiles, body: ProfileIn) -> dict[str, Any]:
    """Store a profile; the answer holds its id and the owner token (shown once)."""
    profile, token = profiles.create(ratings_by_id(svc, body.ratings), body.display_name)
    return {"id": profile.id, "owner_token": token, "profile": profile_body(profiles, profile)}


@router.get("/profiles/{profile_id}", response_model=ProfileOut, responses=ERRORS)
def get_profile(profiles: Profiles, profile_id: ProfileId) -> dict[str, Any]:
    """A stored profile (anyone holding the id may read it)."""
    return profile_body(profiles, profiles.get(str(profile_id)))


@router.put("/profiles/{profile_id}", response_model=ProfileOut, responses=AUTH_ERRORS)
def put_profile(
    svc: Service, profiles: Profiles, profile_id: ProfileId, body: ProfileIn, token: OwnerToken
) -> dict[str, Any]:
    """Replace a profile's ratings and display name (owner only)."""
    pid = str(profile_id)
    profiles.get(pid)  # 404 before resolving artist names for a profile that is not there
    ratings = ratings_by_id(svc, body.ratings)
    return profile_body(profiles, profiles.replace(pid, token, ratings, body.display_name))


@router.patch("/profiles/{profile_id}", response_model=ProfileOut, responses=AUTH_ERRORS)
def patch_profile(
    svc: Service, profiles: Profiles, profile_id: ProfileId, body: ProfilePatch, token: OwnerToken
) -> dict[str, Any]:
    """Upsert ``ratings``, delete ``remove``, and/or rename (owner only)."""
    pid = str(profile_id)
    profiles.get(pid)
    profile = profiles.update(
        pid,
        token,
        ratings=ratings_by_id(svc, body.ratings),
        remove=body.remove,
        display_name=body.display_name,
        set_display_name="display_name" in body.model_fields_set,
    )
    return profile_body(profiles, profile)


@router.delete("/profiles/{profile_id}", status_code=204, responses=AUTH_ERRORS)
def delete_profile(profiles: Profiles, profile_id: ProfileId, token: OwnerToken) -> Response:
    """Delete a profile (owner only)."""
    profiles.delete(str(profile_id), token)
    return Response(status_code=204)


@router.get(
    "/profiles/{profile_id}/recommendations", response_model=RecommendationsOut, responses=ERRORS
)
def profile_recommendations(
    svc: Service,
    profiles: Profiles,
    profile_id: ProfileId,
    k: K = 10,
    model: ModelName = "default",
    novelty: Novelty = 0.0,
) -> dict[str, Any]:
    """Recommendations from a stored profile's ratings."""
    ratings = profiles.load(str(profile_id)).ratings
    recs = svc.recommend_for_ratings(ratings, k=k, model=model, novelty=novelty)
    return recommendations_body(svc, recs, model)
