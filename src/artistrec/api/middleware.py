"""The API's one ASGI middleware, :class:`ServingMiddleware`: the in-flight request limit, the
request body size limit (enforced before any parsing; one limit for every route except the paths
given their own, e.g. ``POST /history`` uploads) and the ``X-Model-Version`` header.

One layer instead of three: every ASGI layer wraps each request's ``receive``/``send`` in
coroutines of its own, a per-request cost that a cheap endpoint (``/health``) feels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import orjson
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1 << 20  # 1 MiB
#: Requests one process handles at once before answering 503 (``serve --max-inflight``).
MAX_INFLIGHT = 128
#: The response header naming the model version that produced an answer.
VERSION_HEADER = "X-Model-Version"
_VERSION_KEY = VERSION_HEADER.lower().encode()


class _BodyTooLarge(StarletteHTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parser re-raises it as is."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> tuple:
    body = orjson.dumps({"error": code, "message": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if retry_after is not None:
        headers.append((b"retry-after", b"%d" % retry_after))
    return status, headers, body


async def _send_error(send: Send, error: tuple, version: bytes | None = None) -> None:
    status, headers, body = error
    if version is not None:
        headers = [*headers, (_VERSION_KEY, version)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header's value (None without one; ValueError when it is no number)."""
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value)
    return None


class ServingMiddleware:
    """Per request: 503 ``overloaded`` (``Retry-After: 1``) beyond ``max_inflight`` requests in
    progress, before anything is read (shedding load keeps the admitted requests fast instead of
    queueing everyone); 413 for a body over ``max_body`` bytes (a path in ``path_limits`` has
    its own limit instead), by header or while streaming;
    ``X-Model-Version`` (``version()`` when the request starts: the default model's version)
    on every answer whose handler did not name the version of the model it used."""

    def __init__(
        self,
        app: ASGIApp,
        version: Callable[[], str],
        max_body: int = MAX_BODY,
        max_inflight: int = MAX_INFLIGHT,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.version = version
        self.max_body = max_body
        self.max_inflight = max_inflight
        self.inflight = 0
        self._overloaded = _error(
            503, "overloaded", "the server is at its concurrency limit; retry shortly", 1
        )
        self._too_big = _error(413, "body_too_large", f"request body over {max_body} bytes")
        self._path_limits = {
            path: (limit, _error(413, "body_too_large", f"request body over {limit} bytes"))
            for path, limit in (path_limits or {}).items()
        }
        self._bad_length = _error(400, "bad_request", "invalid Content-Length")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.max_inflight:
            await _send_error(send, self._overloaded)
            return
        version = self.version().encode()
        try:
            length = _declared_length(scope)
        except ValueError:
            await _send_error(send, self._bad_length, version)
            return
        limit, too_big = self._path_limits.get(scope["path"], (self.max_body, self._too_big))
        if length is not None and length > limit:
            await _send_error(send, too_big, version)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def send_with_version(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.get("headers", [])
                if not any(k == _VERSION_KEY for k, _ in headers):
                    message = {**message, "headers": [*headers, (_VERSION_KEY, version)]}
            await send(message)

        self.inflight += 1
        try:
            await self.app(scope, limited_receive, send_with_version)
        except _BodyTooLarge:
            if not started:
                await _send_error(send, too_big, version)
        finally:
            self.inflight -= 1
