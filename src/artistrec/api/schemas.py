"""Request and response bodies of the HTTP API (pydantic); limits mirror the service's."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from artistrec.service import MAX_EXCLUDE, MAX_K, MAX_RATINGS

#: Ids beyond this are certainly unknown; bounding them keeps every id a valid SQLite/int64 value.
MAX_ID = 2**53
MAX_NAME = 200


def _utf8(value: str | None) -> str | None:
    """Reject strings with lone surrogates: they cannot be stored or echoed as UTF-8."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


Utf8Name = Annotated[str | None, AfterValidator(_utf8)]


class RatingIn(BaseModel):
    """One rating: an artist by id OR by name, and a level 0..5."""

    model_config = ConfigDict(extra="forbid")

    artist_id: int | None = Field(None, ge=-MAX_ID, le=MAX_ID, examples=[289])
    name: Utf8Name = Field(None, min_length=1, max_length=MAX_NAME, examples=["Britney Spears"])
    level: int = Field(..., ge=0, le=5, description="0 = not listened .. 5 = over 50,000 plays")

    @model_validator(mode="after")
    def _one_reference(self) -> RatingIn:
        if (self.artist_id is None) == (self.name is None):
            raise ValueError("give exactly one of artist_id or name")
        return self


class RecommendRequest(BaseModel):
    """Body of ``POST /recommendations``."""

    model_config = ConfigDict(extra="forbid")

    ratings: list[RatingIn] = Field(default_factory=list, max_length=MAX_RATINGS)
    k: int = Field(10, ge=1, le=MAX_K)
    exclude: list[int] = Field(default_factory=list, max_length=MAX_EXCLUDE)
    model: str = Field("default", max_length=64)
    novelty: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False)


class ProfileIn(BaseModel):
    """Body of ``POST /profiles`` and ``PUT /profiles/{id}``."""

    model_config = ConfigDict(extra="forbid")

    ratings: list[RatingIn] = Field(default_factory=list, max_length=MAX_RATINGS)
    display_name: Utf8Name = Field(None, max_length=100)


class ProfilePatch(BaseModel):
    """Body of ``PATCH /profiles/{id}``: upsert ``ratings``, delete ``remove``, rename."""

    model_config = ConfigDict(extra="forbid")

    ratings: list[RatingIn] = Field(default_factory=list, max_length=MAX_RATINGS)
    remove: list[int] = Field(default_factory=list, max_length=MAX_RATINGS)
    display_name: Utf8Name = Field(None, max_length=100)


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
    model: str
    recommendations: list[RecommendationOut]


class RatingOut(BaseModel):
    artist_id: int
    name: str | None
    level: int


class ProfileOut(BaseModel):
    id: str
    display_name: str | None
    ratings: list[RatingOut]
    created_at: float
    updated_at: float


class ProfileCreated(BaseModel):
    id: str
    owner_token: str = Field(description="Shown once; send as `Authorization: Bearer <token>`.")
    profile: ProfileOut


class Health(BaseModel):
    status: str
    model: str
    model_params: dict
    data_fingerprint: str
    uptime_seconds: float


class ErrorOut(BaseModel):
    error: str
    message: str
