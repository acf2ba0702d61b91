"""Response bodies of the HTTP API (pydantic models: OpenAPI documentation of what handlers send).

Request bodies are msgspec structs in :mod:`artistrec.api.bodies` (strict, fail-fast decoding).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from artistrec.api.bodies import MAX_ID

__all__ = [
    "MAX_ID",
    "ArtistDetail",
    "ArtistOut",
    "ErrorOut",
    "Health",
    "ProfileCreated",
    "ProfileOut",
    "RatingOut",
    "Ready",
    "RecommendationOut",
    "RecommendationsOut",
    "Reloaded",
]


class ArtistOut(BaseModel):
    id: int
    name: str
    listeners: int
    url: str


class ArtistDetail(ArtistOut):
    picture_url: str | None
    tags: list[str]


class RecommendationOut(BaseModel):
    artist_id: int
    name: str
    url: str
    score: float
    tags: list[str]
    reason: str


class RecommendationsOut(BaseModel):
    model: str = Field(description="The model that ranked the artists (concrete name)")
    recommendations: list[RecommendationOut]


class RatingOut(BaseModel):
    artist_id: int
    name: str | None = Field(description="null for an artist the served data set does not have")
    level: int


class ProfileOut(BaseModel):
    id: str
    display_name: str | None
    ratings: list[RatingOut]
    created_at: float
    updated_at: float
    version: int = Field(description="1 on create, +1 per change; the ETag is this number quoted")


class ProfileCreated(BaseModel):
    id: str
    owner_token: str = Field(description="Shown once; send as `Authorization: Bearer <token>`.")
    profile: ProfileOut


class Health(BaseModel):
    status: str
    model: str
    model_version: str = Field(description="Content hash of the served model artifact")
    model_params: dict
    data_fingerprint: str
    uptime_seconds: float
    pid: int = Field(description="Process id of the server process that answered")


class Ready(BaseModel):
    ready: bool
    model_version: str


class Reloaded(BaseModel):
    reloaded: bool = Field(description="Whether this process now serves another artifact")
    model: str
    model_version: str
    data_fingerprint: str


class ErrorOut(BaseModel):
    error: str = Field(description="Machine-readable code, e.g. validation_error")
    message: str = Field(description="What went wrong, in a sentence")
    fields: list[str] | None = Field(None, description="Request fields at fault (422)")
    detail: list[dict] | None = Field(None, description="The problems found (422, at most 20)")
    query: int | str | None = Field(None, description="The unknown artist id or name (404)")
    suggestions: list[str] | None = Field(None, description="Names close to an unknown one")
    current_version: int | None = Field(None, description="The profile's version now (412)")
    reason: str | None = Field(None, description="Why the store is unavailable (503)")
