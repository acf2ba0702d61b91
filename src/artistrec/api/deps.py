"""FastAPI dependencies (the service, the profile service, owner and admin tokens), the typed
path/query parameters the routers share, and :func:`read_body` (strict JSON bodies).

The service objects live in ``app.state`` (set once by :func:`artistrec.api.app.create_app`).
Every dependency is ``async``: it only reads ``app.state`` or a header, so it runs on the event
loop and adds no thread-pool hop.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from enum import Enum
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from msgspec import Struct
from starlette.requests import ClientDisconnect

from artistrec.api.bodies import MAX_ID, decode, is_json
from artistrec.api.errors import ApiError
from artistrec.models import available_models
from artistrec.models.base import MEASURES
from artistrec.service import MAX_K, ProfileService, RecommenderService

#: Environment variable holding the admin token that enables ``POST /admin/reload``.
ENV_ADMIN_TOKEN = "ARTISTREC_ADMIN_TOKEN"

bearer = HTTPBearer(auto_error=False, description="Owner token of a profile")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
B = TypeVar("B", bound=Struct)


async def get_service(request: Request) -> RecommenderService:
    """The recommender service of this app."""
    return request.app.state.service


async def get_profiles(request: Request) -> ProfileService:
    """The profile service of this app."""
    return request.app.state.profiles


async def owner_token(creds: Credentials) -> str:
    """The bearer token sent (401 without one); the store decides whether it owns the profile."""
    if creds is None or not creds.credentials:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <owner_token>")
    return creds.credentials


def admin_token_hash(token: str | None) -> bytes | None:
    """What :func:`require_admin` compares with (``None`` disables the admin endpoints)."""
    return hashlib.sha256(token.encode()).digest() if token else None


async def require_admin(request: Request, creds: Credentials) -> None:
    """404 while admin endpoints are disabled, 401 without a token, 403 for a wrong one."""
    expected: bytes | None = request.app.state.admin_hash
    if expected is None:
        raise ApiError(404, "disabled", f"admin endpoints are disabled; set {ENV_ADMIN_TOKEN}")
    if creds is None or not creds.credentials:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <admin token>")
    given = hashlib.sha256(creds.credentials.encode("utf-8", "surrogatepass")).digest()
    if not hmac.compare_digest(given, expected):
        raise ApiError(403, "forbidden", "wrong admin token")


async def read_body(request: Request, kind: type[B]) -> B:
    """The request body as a ``kind`` struct: 415 unless it is declared JSON, 400 when it is
    not JSON, 422 naming the first problem (see :mod:`artistrec.api.bodies`)."""
    if not is_json(request.headers.get("content-type")):
        raise ApiError(
            415,
            "unsupported_media_type",
            "the request body must be JSON: send it with Content-Type: application/json",
        )
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client went away (or the body timed out): nobody to answer
        raise ApiError(400, "client_disconnected", "the client closed the connection") from None
    return decode(raw, kind)


Service = Annotated[RecommenderService, Depends(get_service)]
Profiles = Annotated[ProfileService, Depends(get_profiles)]
OwnerToken = Annotated[str, Depends(owner_token)]

#: The names ``model`` accepts (``default`` and every registered model).
MODEL_NAMES: list[str] = available_models()
ModelEnum = Enum("ModelName", {n.replace("-", "_"): n for n in MODEL_NAMES}, type=str)  # type: ignore[misc]
MeasureEnum = Enum("Measure", {m: m for m in MEASURES}, type=str)  # type: ignore[misc]

ArtistId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID, description="Original artist id")]
UserId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
ProfileId = Annotated[uuid.UUID, Path(description="Profile id (UUID)")]
K = Annotated[int, Query(ge=1, le=MAX_K, description="Number of results")]
ModelName = Annotated[ModelEnum, Query(description="Model name")]
Measure = Annotated[MeasureEnum, Query(description="Similarity measure")]
Novelty = Annotated[float, Query(ge=0.0, le=1.0, allow_inf_nan=False)]
DEFAULT_MODEL = ModelEnum("default")
DEFAULT_MEASURE = MeasureEnum("cosine")
