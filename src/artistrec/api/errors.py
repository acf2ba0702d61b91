"""Every API error as JSON ``{"error": <code>, "message": <text>, ...}``, and their handlers.

400 for a body that is not JSON (saying where), 415 for a body that is not declared as JSON,
422 for invalid input (naming the first field at fault; at most :data:`MAX_LISTED` problems),
404 for unknown artists/users/profiles (artist names get "did you mean" suggestions), 401/403 for
missing/wrong tokens, 405 with ``Allow``, 412 when a precondition (``If-Match``,
``If-Unmodified-Since``) fails, 413 for bodies over the limit, 409 for a failed reload, and 503
with ``Retry-After`` when the profile store or a model is unavailable or the server is at its
concurrency limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from artistrec.api.bodies import BodyError, InvalidJSONError
from artistrec.api.schemas import ErrorOut
from artistrec.service import InvalidRequestError, UnknownArtistError, UnknownUserError
from artistrec.store.artifacts import ArtifactError
from artistrec.store.profiles import (
    InvalidProfileError,
    NotOwnerError,
    ProfileNotFoundError,
    StoreError,
    StoreUnavailableError,
    VersionConflictError,
)

#: Problems listed in one 422 answer (the message names the first few): an error stays small
#: however many problems a request has.
MAX_LISTED = 20
#: Problems named in a 422's ``message``.
MAX_IN_MESSAGE = 5
#: Seconds a client should wait after a 503 of a model that could not be loaded.
MODEL_RETRY_AFTER = 30


def doc(description: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": ErrorOut, "description": description}
    if headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return out


_RETRY = {"Retry-After": "Seconds after which a retry is worth it"}
#: Responses any endpoint may give (documented on every route by :func:`errors`).
COMMON: dict[int | str, dict[str, Any]] = {
    422: doc("Invalid input: `fields` names the first problem(s), at most 20 are listed"),
    503: doc(
        "The server is at its concurrency limit (`overloaded`), or the profile store "
        "(`store_unavailable`) or a model (`model_unavailable`) cannot serve now",
        _RETRY,
    ),
}
NOT_FOUND = {404: doc("Unknown artist, user or profile")}
BODY = {
    400: doc("The body is not valid JSON (the message says where)"),
    413: doc("The body is larger than the server accepts"),
    415: doc("The body is not declared as JSON: send `Content-Type: application/json`"),
}
AUTH = {
    401: doc("Missing bearer token", {"WWW-Authenticate": "Bearer"}),
    403: doc("The token does not own the profile"),
}
PRECONDITION = {
    412: doc(
        "`If-Match` or `If-Unmodified-Since` does not hold: the profile changed since it was "
        "read (`current_version` and the `ETag` say what it is now)",
        {"ETag": "The profile's current entity tag"},
    ),
}


def errors(*groups: Mapping[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route: :data:`COMMON` plus ``groups``."""
    out: dict[int | str, dict[str, Any]] = dict(COMMON)
    for g in groups:
        out.update(g)
    return out


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The JSON error body every failure answers with (401 adds ``WWW-Authenticate``)."""
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=hdrs or None)


class ApiError(Exception):
    """An HTTP error with a JSON body, raised from handlers and dependencies."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.extra = extra


def clean_validation_errors(errors: Any, limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    """The first ``limit`` pydantic errors without echoed input or exception objects."""
    out = []
    for e in errors[:limit]:
        loc = [str(x) for x in e.get("loc", ())]
        out.append({"field": ".".join(loc[1:] or loc), "loc": loc, "message": str(e.get("msg"))})
    return out


def validation_response(problems: list[dict[str, Any]], total: int) -> JSONResponse:
    """The 422 of :data:`MAX_LISTED` problems at most (``total``: how many there were)."""
    fields = sorted({p["field"] for p in problems})
    msg = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:MAX_IN_MESSAGE])
    if total > len(problems):
        msg += f" (and {total - len(problems)} more problems)"
    return error_response(422, "validation_error", msg, fields=fields, detail=problems)


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    all_errors = exc.errors()
    return validation_response(clean_validation_errors(all_errors), len(all_errors))


async def _body(_: Request, exc: BodyError) -> JSONResponse:
    loc = ["body", *exc.field.split(".")] if exc.field else ["body"]
    text = str(exc)
    message = text.split(": ", 1)[1] if exc.field and text.startswith(exc.field + ": ") else text
    return validation_response([{"field": exc.field or "body", "loc": loc, "message": message}], 1)


async def _invalid_json(_: Request, exc: InvalidJSONError) -> JSONResponse:
    return error_response(400, "invalid_json", str(exc))


async def _invalid(_: Request, exc: InvalidRequestError) -> JSONResponse:
    fields = [exc.field] if exc.field else []
    return error_response(422, "invalid_request", str(exc), fields=fields)


async def _invalid_profile(_: Request, exc: InvalidProfileError) -> JSONResponse:
    return error_response(422, "invalid_profile", str(exc), fields=["ratings"])


async def _unknown_artist(_: Request, exc: UnknownArtistError) -> JSONResponse:
    query = exc.query if isinstance(exc.query, (int, str)) else str(exc.query)
    return error_response(
        404, "unknown_artist", str(exc), query=query, suggestions=list(exc.suggestions)
    )


async def _unknown_user(_: Request, exc: UnknownUserError) -> JSONResponse:
    return error_response(404, "unknown_user", str(exc))


async def _no_profile(_: Request, exc: ProfileNotFoundError) -> JSONResponse:
    return error_response(404, "unknown_profile", str(exc))


async def _not_owner(_: Request, exc: NotOwnerError) -> JSONResponse:
    return error_response(403, "forbidden", str(exc))


async def _conflict(_: Request, exc: VersionConflictError) -> JSONResponse:
    return error_response(
        412,
        "precondition_failed",
        str(exc),
        headers={"ETag": f'"{exc.current_version}"'},
        current_version=exc.current_version,
    )


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (a path may have one route per
    method: Starlette's own 405 names only the first route's)."""
    routes = request.app.router.routes
    return [
        m
        for m in _METHODS
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    ]


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # RFC 9110: a 405 lists the methods the resource supports
        headers["Allow"] = ", ".join(allowed_methods(request))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _store_unavailable(request: Request, exc: StoreUnavailableError) -> JSONResponse:
    health = getattr(request.app.state, "store_health", None)
    if health is not None:
        health.failed(exc)  # /ready reports it (see artistrec.api.store_health)
    return error_response(
        503,
        "store_unavailable",
        str(exc),
        {"Retry-After": str(exc.retry_after)},
        reason=exc.reason,
    )


async def _store(_: Request, exc: StoreError) -> JSONResponse:
    # cannot be opened, newer schema, damaged file: an operator has to act
    return error_response(503, "store_error", str(exc), {"Retry-After": "60"})


async def _model(_: Request, exc: ArtifactError) -> JSONResponse:
    return error_response(
        503, "model_unavailable", str(exc), {"Retry-After": str(MODEL_RETRY_AFTER)}
    )


async def _internal(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
    return error_response(500, "internal_error", f"{type(exc).__name__}")


_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
    RequestValidationError: _validation,
    BodyError: _body,
    InvalidJSONError: _invalid_json,
    InvalidRequestError: _invalid,
    InvalidProfileError: _invalid_profile,
    UnknownArtistError: _unknown_artist,
    UnknownUserError: _unknown_user,
    ProfileNotFoundError: _no_profile,
    NotOwnerError: _not_owner,
    VersionConflictError: _conflict,
    ApiError: _api_error,
    StarletteHTTPException: _http,
    StoreUnavailableError: _store_unavailable,
    StoreError: _store,
    ArtifactError: _model,
    Exception: _internal,
}


def register_error_handlers(app: FastAPI) -> None:
    """Answer every error above (and any unexpected one, as a bare 500) with JSON."""
    for exc_type, handler in _HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
