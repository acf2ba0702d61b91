"""ASGI middleware of the API: a request body size limit enforced before any parsing (one limit
for every route, except the paths given their own, e.g. ``POST /history`` uploads)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from artistrec.api.errors import error_response

MAX_BODY = 1 << 20  # 1 MiB


class _BodyTooLarge(StarletteHTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parser re-raises it as is."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header's value (None without one; ValueError when it is no number)."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            return int(value)
    return None


class BodyLimitMiddleware:
    """Reject request bodies over ``max_body`` bytes with 413, by header or while streaming;
    a path in ``path_limits`` has its own limit instead."""

    def __init__(
        self, app: ASGIApp, max_body: int = MAX_BODY, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self.path_limits.get(scope["path"], self.max_body)
        too_big = error_response(413, "body_too_large", f"request body over {max_body} bytes")
        try:
            length = _declared_length(scope)
        except ValueError:
            await error_response(400, "bad_request", "invalid Content-Length")(scope, receive, send)
            return
        if length is not None and length > max_body:
            await too_big(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
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
