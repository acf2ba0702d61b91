"""The HTTP API (FastAPI): request handling only; every answer comes from the service or store.

Every error is JSON ``{"error": <code>, "message": <text>, ...}``: 422 for invalid input (naming
the field), 404 for unknown artists/users/profiles (with close-match suggestions for artists),
401/403 for missing/wrong owner tokens, 413 for bodies over 1 MiB. Handlers are plain ``def``
functions so numpy work runs in the thread pool, not on the event loop, except the hot
``POST /recommendations`` (short CPU-bound work, run inline; see its comment).
"""

# No ``from __future__ import annotations``: FastAPI must see the real annotation objects of
# handlers defined inside create_app (they refer to local aliases and dependencies).
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from artistrec import __version__
from artistrec.api.schemas import (
    MAX_ID,
    ArtistDetail,
    ArtistOut,
    ErrorOut,
    Health,
    ProfileCreated,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
    RatingIn,
    RecommendationsOut,
    RecommendRequest,
)
from artistrec.models.base import MEASURES
from artistrec.service import (
    MAX_K,
    InvalidRequestError,
    Recommendation,
    RecommenderService,
    UnknownArtistError,
    UnknownUserError,
)
from artistrec.store.artifacts import ArtifactError
from artistrec.store.profiles import (
    InvalidProfileError,
    NotOwnerError,
    Profile,
    ProfileNotFoundError,
    ProfileStore,
    StoreError,
)

MAX_BODY = 1 << 20  # 1 MiB
#: ``POST /recommendations`` with more ratings + exclusions than this runs in the thread pool
INLINE_RATINGS = 64
ENV_ADMIN_TOKEN = "ARTISTREC_ADMIN_TOKEN"
_UNSET: Any = object()

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown artist, user or profile"},
    422: {"model": ErrorOut, "description": "Invalid input (the field is named)"},
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorOut, "description": "Missing bearer token"},
    403: {"model": ErrorOut, "description": "Token does not own the profile"},
}


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


class ApiError(Exception):
    """An HTTP error with a JSON body, raised from handlers."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class BodyLimitMiddleware:
    """Reject request bodies over ``max_body`` bytes with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = _error(413, "body_too_large", f"request body over {self.max_body} bytes")
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _error(400, "bad_request", "invalid Content-Length")(scope, receive, send)
                    return
                if length > self.max_body:
                    await too_big(scope, receive, send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await too_big(scope, receive, send)


class _BodyTooLarge(StarletteHTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parser re-raises it as is."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def _clean_validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without echoed input or exception objects (always JSON-safe)."""
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())]
        out.append({"field": ".".join(loc[1:] or loc), "loc": loc, "message": str(e.get("msg"))})
    return out


def create_app(
    service: RecommenderService,
    store: ProfileStore,
    admin_token: str | None = _UNSET,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The FastAPI app over ``service`` and ``store``.

    ``admin_token`` (default: ``$ARTISTREC_ADMIN_TOKEN``) enables ``POST /admin/reload``.
    """
    if admin_token is _UNSET:
        admin_token = os.environ.get(ENV_ADMIN_TOKEN) or None
    admin_hash = hashlib.sha256(admin_token.encode()).digest() if admin_token else None

    app = FastAPI(
        title="artistrec",
        version=__version__,
        description="Music-artist recommendations from the HetRec 2011 Last.fm data: "
        "fold-in for new listeners, similar artists, stored profiles.",
    )
    app.add_middleware(BodyLimitMiddleware, max_body=max_body)
    app.state.service = service
    app.state.store = store
    bearer = HTTPBearer(auto_error=False, description="Owner token of a profile")

    # ------------------------------------------------------------------ errors
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_validation_errors(exc.errors())
        fields = sorted({e["field"] for e in errors})
        msg = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _error(422, "validation_error", msg, fields=fields, detail=errors)

    @app.exception_handler(InvalidRequestError)
    async def _invalid(_: Request, exc: InvalidRequestError) -> JSONResponse:
        fields = [exc.field] if exc.field else []
        return _error(422, "invalid_request", str(exc), fields=fields)

    @app.exception_handler(InvalidProfileError)
    async def _invalid_profile(_: Request, exc: InvalidProfileError) -> JSONResponse:
        return _error(422, "invalid_profile", str(exc), fields=["ratings"])

    @app.exception_handler(UnknownArtistError)
    async def _unknown_artist(_: Request, exc: UnknownArtistError) -> JSONResponse:
        query = exc.query if isinstance(exc.query, (int, str)) else str(exc.query)
        return _error(
            404, "unknown_artist", str(exc), query=query, suggestions=list(exc.suggestions)
        )

    @app.exception_handler(UnknownUserError)
    async def _unknown_user(_: Request, exc: UnknownUserError) -> JSONResponse:
        return _error(404, "unknown_user", str(exc))

    @app.exception_handler(ProfileNotFoundError)
    async def _no_profile(_: Request, exc: ProfileNotFoundError) -> JSONResponse:
        return _error(404, "unknown_profile", str(exc))

    @app.exception_handler(NotOwnerError)
    async def _not_owner(_: Request, exc: NotOwnerError) -> JSONResponse:
        return _error(403, "forbidden", str(exc))

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return _error(503, "store_unavailable", str(exc))

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        return _error(500, "internal_error", f"{type(exc).__name__}")

    # ------------------------------------------------------------------ helpers
    def svc() -> RecommenderService:
        return app.state.service

    def resolve(ratings: list[RatingIn]) -> dict[int, int]:
        out: dict[int, int] = {}
        for r in ratings:
            aid = r.artist_id if r.artist_id is not None else svc().resolve_artist(r.name or "")
            if aid in out:
                label = r.name if r.name is not None else aid
                raise InvalidRequestError(
                    f"artist {label!r} (id {aid}) appears more than once", "ratings"
                )
            out[int(aid)] = int(r.level)
        return svc().validate_ratings(out)

    def recs_out(recs: list[Recommendation], model: str) -> dict[str, Any]:
        return {
            "model": svc().model(model).name,
            "recommendations": [
                {k: v for k, v in r.to_dict().items() if k != "index"} for r in recs
            ],
        }

    def profile_out(p: Profile) -> dict[str, Any]:
        names = svc().names_of(p.ratings.keys())
        return {
            "id": p.id,
            "display_name": p.display_name,
            "ratings": [
                {"artist_id": a, "name": n, "level": lv}
                for (a, lv), n in zip(p.ratings.items(), names, strict=True)
            ],
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }

    def owner_token(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if creds is None or not creds.credentials:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <owner_token>")
        return creds.credentials

    ArtistId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID, description="Original artist id")]
    ProfileId = Annotated[uuid.UUID, Path(description="Profile id (UUID)")]
    K = Annotated[int, Query(ge=1, le=MAX_K, description="Number of results")]
    ModelName = Annotated[str, Query(max_length=64, description="Model name")]

    # ------------------------------------------------------------------ meta
    @app.get("/health", response_model=Health, tags=["meta"])
    def health() -> dict[str, Any]:
        """Liveness: served model, data fingerprint, uptime."""
        info = svc().model_info()
        return {
            "status": "ok",
            "model": info["name"],
            "model_params": json.loads(json.dumps(info["params"], default=str)),
            "data_fingerprint": svc().dataset.fingerprint,
            "uptime_seconds": round(svc().uptime, 3),
        }

    @app.get("/ready", tags=["meta"], responses={503: {"model": ErrorOut}})
    def ready() -> Response:
        """Readiness: the default model is in memory and the profile database answers."""
        if svc().is_loaded() and store.ping():
            return JSONResponse({"ready": True})
        return _error(503, "not_ready", "model not loaded or database unavailable")

    # ------------------------------------------------------------------ artists
    @app.get("/artists", response_model=list[ArtistOut], tags=["artists"], responses=ERRORS)
    def search_artists(
        q: Annotated[str, Query(max_length=200, description="Name substring")] = "",
        limit: Annotated[int, Query(ge=1, le=500)] = 20,
    ) -> list[dict[str, Any]]:
        """Artists whose name contains ``q`` (case and accents ignored), most listened first."""
        return [
            {"id": h.id, "name": h.name, "listeners": h.listeners, "url": h.url}
            for h in svc().search_artists(q, limit)
        ]

    @app.get(
        "/artists/{artist_id}", response_model=ArtistDetail, tags=["artists"], responses=ERRORS
    )
    def artist(artist_id: ArtistId) -> dict[str, Any]:
        """One artist: name, links, listener count, top tags."""
        info = svc().artist_info(artist_id)
        info.pop("index", None)
        return info

    @app.get(
        "/artists/{artist_id}/similar",
        response_model=RecommendationsOut,
        tags=["artists"],
        responses=ERRORS,
    )
    def similar(
        artist_id: ArtistId,
        k: K = 10,
        measure: Annotated[str, Query(description=f"one of {', '.join(MEASURES)}")] = "cosine",
        model: ModelName = "default",
    ) -> dict[str, Any]:
        """The ``k`` artists most similar to one artist."""
        return recs_out(svc().similar(artist_id, k=k, measure=measure, model=model), model)

    # ------------------------------------------------------------------ recommendations
    @app.post(
        "/recommendations",
        response_model=RecommendationsOut,
        tags=["recommendations"],
        responses={**ERRORS, 413: {"model": ErrorOut}},
    )
    async def recommend(body: RecommendRequest) -> Response:
        """Ranked artists for a new listener from ratings (by id or name), with reasons."""
        # The hot path: ~2 ms of GIL-bound CPU, run inline on the event loop (a thread-pool hop
        # adds overhead and GIL hand-offs, not parallelism; scale with `serve --workers`), and
        # answered as ready JSON (the dict already has the RecommendationsOut shape, so
        # re-validating it through the response model would only cost time).
        if len(body.ratings) + len(body.exclude) > INLINE_RATINGS:
            # a long rating list costs tens of ms: off the event loop, so the small requests
            # queued behind it are not held up
            return await run_in_threadpool(_recommend_for, body)
        return _recommend_for(body)

    def _recommend_for(body: RecommendRequest) -> Response:
        ratings = resolve(body.ratings)
        recs = svc().recommend_for_ratings(
            ratings, k=body.k, exclude=body.exclude, model=body.model, novelty=body.novelty
        )
        return JSONResponse(recs_out(recs, body.model))

    @app.get(
        "/users/{user_id}/recommendations",
        response_model=RecommendationsOut,
        tags=["recommendations"],
        responses=ERRORS,
    )
    def user_recommendations(
        user_id: Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)],
        k: K = 10,
        model: ModelName = "default",
    ) -> dict[str, Any]:
        """Artists a user of the data set has neither listened to nor tagged."""
        return recs_out(svc().recommend_for_user(user_id, k=k, model=model), model)

    # ------------------------------------------------------------------ profiles
    @app.post(
        "/profiles",
        response_model=ProfileCreated,
        status_code=201,
        tags=["profiles"],
        responses=ERRORS,
    )
    def create_profile(body: ProfileIn) -> dict[str, Any]:
        """Store a profile; the answer holds its id and the owner token (shown once)."""
        profile, token = store.create(resolve(body.ratings), body.display_name)
        return {"id": profile.id, "owner_token": token, "profile": profile_out(profile)}

    @app.get(
        "/profiles/{profile_id}", response_model=ProfileOut, tags=["profiles"], responses=ERRORS
    )
    def get_profile(profile_id: ProfileId) -> dict[str, Any]:
        """A stored profile (anyone holding the id may read it)."""
        return profile_out(store.get(str(profile_id)))

    @app.put(
        "/profiles/{profile_id}",
        response_model=ProfileOut,
        tags=["profiles"],
        responses=AUTH_ERRORS,
    )
    def put_profile(
        profile_id: ProfileId,
        body: ProfileIn,
        token: Annotated[str, Depends(owner_token)],
    ) -> dict[str, Any]:
        """Replace a profile's ratings and display name (owner only)."""
        pid = str(profile_id)
        store.get(pid)  # 404 before validating artists against a profile that is not there
        ratings = resolve(body.ratings)
        return profile_out(store.replace(pid, token, ratings, body.display_name))

    @app.patch(
        "/profiles/{profile_id}",
        response_model=ProfileOut,
        tags=["profiles"],
        responses=AUTH_ERRORS,
    )
    def patch_profile(
        profile_id: ProfileId,
        body: ProfilePatch,
        token: Annotated[str, Depends(owner_token)],
    ) -> dict[str, Any]:
        """Upsert ``ratings``, delete ``remove``, and/or rename (owner only)."""
        pid = str(profile_id)
        store.get(pid)
        ratings = resolve(body.ratings)
        return profile_out(
            store.update(
                pid,
                token,
                set_ratings=ratings,
                remove=body.remove,
                display_name=body.display_name,
                set_display_name="display_name" in body.model_fields_set,
            )
        )

    @app.delete("/profiles/{profile_id}", status_code=204, tags=["profiles"], responses=AUTH_ERRORS)
    def delete_profile(
        profile_id: ProfileId, token: Annotated[str, Depends(owner_token)]
    ) -> Response:
        """Delete a profile (owner only)."""
        store.delete(str(profile_id), token)
        return Response(status_code=204)

    @app.get(
        "/profiles/{profile_id}/recommendations",
        response_model=RecommendationsOut,
        tags=["profiles"],
        responses=ERRORS,
    )
    def profile_recommendations(
        profile_id: ProfileId,
        k: K = 10,
        model: ModelName = "default",
        novelty: Annotated[float, Query(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0,
    ) -> dict[str, Any]:
        """Recommendations from a stored profile's ratings."""
        ratings: Mapping[int, int] = svc().known_ratings(store.get(str(profile_id)).ratings)
        recs = svc().recommend_for_ratings(ratings, k=k, model=model, novelty=novelty)
        return recs_out(recs, model)

    # ------------------------------------------------------------------ admin
    @app.post("/admin/reload", tags=["admin"], responses={**AUTH_ERRORS, 409: {"model": ErrorOut}})
    def admin_reload(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> dict[str, Any]:
        """Re-read the model artifact and swap it in atomically (needs $ARTISTREC_ADMIN_TOKEN)."""
        if admin_hash is None:
            raise ApiError(404, "disabled", f"admin endpoints are disabled; set {ENV_ADMIN_TOKEN}")
        if creds is None or not creds.credentials:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <admin token>")
        given = hashlib.sha256(creds.credentials.encode("utf-8", "surrogatepass")).digest()
        if not hmac.compare_digest(given, admin_hash):
            raise ApiError(403, "forbidden", "wrong admin token")
        try:
            model = svc().reload()
        except (ArtifactError, OSError) as exc:
            raise ApiError(409, "reload_failed", f"kept the old model: {exc}") from exc
        return {"reloaded": True, "model": model.name, "data_fingerprint": model.fingerprint_}

    return app
