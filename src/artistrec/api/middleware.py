"""ASGI middleware of the API: the request body size limit (enforced before any parsing), the
in-flight request limit, and the model-version header."""

from __future__ import annotations

from collections.abc import Callable

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
    """Reject request bodies over ``max_body`` bytes with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = error_response(413, "body_too_large", f"request body over {self.max_body} bytes")
        try:
            length = _declared_length(scope)
        except ValueError:
            await error_response(400, "bad_request", "invalid Content-Length")(scope, receive, send)
            return
        if length is not None and length > self.max_body:
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


#: Requests one process handles at once before answering 503 (``serve --max-inflight``).
MAX_INFLIGHT = 128
_OVERLOADED_BODY = (
    b'{"error":"overloaded","message":"the server is at its concurrency limit; retry shortly"}'
)
_OVERLOADED_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_OVERLOADED_BODY)).encode()),
    (b"retry-after", b"1"),
]


class InflightLimitMiddleware:
    """At most ``limit`` requests in progress in this process; beyond it, 503 ``overloaded``
    with ``Retry-After: 1`` at once, before anything is read or computed (shedding load keeps
    the admitted requests fast instead of queueing everyone)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_INFLIGHT) -> None:
        self.app = app
        self.limit = limit
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            await send(
                {"type": "http.response.start", "status": 503, "headers": _OVERLOADED_HEADERS}
            )
            await send({"type": "http.response.body", "body": _OVERLOADED_BODY})
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1


#: The response header naming the model version that produced an answer.
VERSION_HEADER = "X-Model-Version"
_VERSION_KEY = VERSION_HEADER.lower().encode()


class ModelVersionMiddleware:
    """Adds ``X-Model-Version`` (the served default model's version, unless a handler set the
    version of the model it used) to every response."""

    def __init__(self, app: ASGIApp, version: Callable[[], str]) -> None:
        self.app = app
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        version = self.version().encode()  # when the request starts: the model it will use

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k == _VERSION_KEY for k, _ in headers):
                    headers.append((_VERSION_KEY, version))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_version)
