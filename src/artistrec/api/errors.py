"""Every API error as JSON ``{"error": <code>, "message": <text>, ...}``, and their handlers.

422 for invalid input (naming the fields), 404 for unknown artists/users/profiles (artist names
get "did you mean" suggestions), 401/403 for missing/wrong tokens, 409 for a failed reload,
413 for bodies over the limit, 503 when the profile database is unavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from artistrec.api.schemas import ErrorOut
from artistrec.service import InvalidRequestError, UnknownArtistError, UnknownUserError
from artistrec.store.profiles import (
    InvalidProfileError,
    NotOwnerError,
    ProfileNotFoundError,
    StoreError,
)

#: OpenAPI ``responses`` of endpoints that validate input and look things up.
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown artist, user or profile"},
    422: {"model": ErrorOut, "description": "Invalid input (the field is named)"},
}
#: ... and of endpoints that need a bearer token.
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorOut, "description": "Missing bearer token"},
    403: {"model": ErrorOut, "description": "Token does not own the profile"},
}
#: Codes of the HTTP errors Starlette raises itself (unknown route, method, body size).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """The JSON error body every failure answers with (401 adds ``WWW-Authenticate``)."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


class ApiError(Exception):
    """An HTTP error with a JSON body, raised from handlers and dependencies."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def clean_validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without echoed input or exception objects (always JSON-safe)."""
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())]
        out.append({"field": ".".join(loc[1:] or loc), "loc": loc, "message": str(e.get("msg"))})
    return out


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = clean_validation_errors(exc.errors())
    fields = sorted({e["field"] for e in errors})
    msg = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return error_response(422, "validation_error", msg, fields=fields, detail=errors)


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


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message)


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def _store(_: Request, exc: StoreError) -> JSONResponse:
    return error_response(503, "store_unavailable", str(exc))


async def _internal(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
    return error_response(500, "internal_error", f"{type(exc).__name__}")


_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
    RequestValidationError: _validation,
    InvalidRequestError: _invalid,
    InvalidProfileError: _invalid_profile,
    UnknownArtistError: _unknown_artist,
    UnknownUserError: _unknown_user,
    ProfileNotFoundError: _no_profile,
    NotOwnerError: _not_owner,
    ApiError: _api_error,
    StarletteHTTPException: _http,
    StoreError: _store,
    Exception: _internal,
}


def register_error_handlers(app: FastAPI) -> None:
    """Answer every error above (and any unexpected one, as a bare 500) with JSON."""
    for exc_type, handler in _HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
