"""Running the HTTP API under uvicorn: one process, or ``workers`` processes sharing the port.

Each request is GIL-bound CPU, so one process uses one core; ``workers=2`` uses both cores of a
2-core machine. With several workers the supervising process loads neither data nor model (it
only makes sure the artifact exists, in a child process that exits): each worker loads its own
copy, and the supervisor stays small. Every process limits native (BLAS/OpenMP) thread pools to
one thread: concurrent requests already keep the cores busy, and a threaded BLAS call inside a
request then waits for busy cores (measured on 2 cores: ~10 req/s with the default pools against
~170 req/s with one thread, 32 connections, one process). The event loop is asyncio's, not
uvloop even when installed: with CPU-bound handlers uvloop served some connections seconds late
at 128 connections and was no faster at 32.

:class:`GuardedHTTPProtocol` is uvicorn's httptools protocol with what uvicorn lacks for a server
exposed to slow or hostile clients: a deadline for the request head (line + headers) and one for
the body (408 and the connection closed when missed; uvicorn itself waits forever for a request
that was started), a cap on the head's size (431), a cap on open connections per process (503),
and TCP_NODELAY on every connection (asyncio skips it on the listening socket uvicorn hands to
worker processes, and Nagle's algorithm then held each keep-alive answer for a 40 ms delayed ACK).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import multiprocessing
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fastapi import FastAPI
from threadpoolctl import threadpool_limits
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from artistrec.api.app import create_app
from artistrec.api.middleware import MAX_INFLIGHT
from artistrec.api.offload import tune_interpreter
from artistrec.api.reload import DEFAULT_POLL
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore, open_profile_store

log = logging.getLogger("artistrec.api")

#: How :func:`run` passes its configuration to worker processes (they import :func:`app_from_env`).
ENV_DATA_DIR = "ARTISTREC_SERVE_DATA_DIR"
ENV_MODEL = "ARTISTREC_SERVE_MODEL"
ENV_DB = "ARTISTREC_SERVE_DB"
ENV_LIMITS = "ARTISTREC_SERVE_LIMITS"
FACTORY = "artistrec.api.server:app_from_env"
LOOP = "asyncio"
HTTP = "artistrec.api.server:GuardedHTTPProtocol"
#: Seconds the supervisor waits for a worker's health answer before it replaces the worker.
WORKER_HEALTHCHECK_S = 60


@dataclass(frozen=True)
class ServerLimits:
    """What one server process tolerates (``artistrec serve`` options of the same names)."""

    #: Seconds a client has to send the request line and headers, from its first byte (or from
    #: connecting) to the blank line.
    header_timeout: float = 10.0
    #: Seconds a client has to send the body, after the headers.
    body_timeout: float = 30.0
    #: Seconds an idle keep-alive connection stays open.
    keep_alive: float = 5.0
    #: Open connections per process; the next one gets 503 and is closed.
    max_connections: int = 1000
    #: Requests in progress per process; the next one gets 503 (see ServingMiddleware).
    max_inflight: int = MAX_INFLIGHT
    #: Bytes of request line + headers; more gets 431.
    max_head: int = 64 * 1024
    #: Seconds between checks of the model artifact (0: only POST /admin/reload reloads).
    reload_poll: float = DEFAULT_POLL

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "reload_poll":
                if value < 0:
                    raise ValueError("reload_poll must be >= 0 seconds")
            elif not value > 0:
                raise ValueError(f"{f.name} must be > 0, got {value!r}")

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> ServerLimits:
        raw = os.environ.get(ENV_LIMITS)
        return cls(**json.loads(raw)) if raw else cls()


def _raw_response(status: int, reason: str, code: str, message: str, retry: bool = False) -> bytes:
    body = json.dumps({"error": code, "message": message}).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if retry:
        head.append("retry-after: 1")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedHTTPProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head/body deadlines, size and connection caps and
    TCP_NODELAY (see the module docstring). Limits come from :meth:`configure`."""

    limits: ClassVar[ServerLimits] = ServerLimits()

    @classmethod
    def configure(cls, limits: ServerLimits) -> None:
        """Use ``limits`` for the connections this process accepts from now on."""
        cls.limits = limits

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass  # no Nagle control on this socket: only latency suffers
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                _raw_response(
                    503, "Service Unavailable", "overloaded", "too many open connections", True
                )
            )
            return
        self._arm(self.limits.header_timeout, "head")

    # ------------------------------------------------------------------ deadlines
    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
            self._deadline = None

    def _expired(self, phase: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self.transport.close()  # an answer is on its way: nothing else can be said
            return
        what = "request line and headers" if phase == "head" else "request body"
        seconds = self.limits.header_timeout if phase == "head" else self.limits.body_timeout
        self._refuse(
            _raw_response(
                408,
                "Request Timeout",
                "request_timeout",
                f"the {what} did not arrive within {seconds:g} seconds",
            )
        )

    def _refuse(self, response: bytes) -> None:
        # a request task waiting for its body sees the disconnect; its own answer is dropped
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.write(response)
        self.transport.close()

    # ------------------------------------------------------------------ parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm(self.limits.header_timeout, "head")

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_head(self, n: int) -> None:
        self._head_bytes += n
        if self._head_bytes > self.limits.max_head and not self.transport.is_closing():
            self._disarm()
            self._refuse(
                _raw_response(
                    431,
                    "Request Header Fields Too Large",
                    "headers_too_large",
                    f"request line and headers over {self.limits.max_head} bytes",
                )
            )

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():
            return
        self._arm(self.limits.body_timeout, "body")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.transport.is_closing():
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def limit_native_threads() -> None:
    """One BLAS/OpenMP thread in this process (see the module docstring for why)."""
    threadpool_limits(limits=1)


def app_from_env() -> FastAPI:
    """App factory of a worker process: data, model, database and limits from ``ENV_*``."""
    limit_native_threads()
    tune_interpreter()
    limits = ServerLimits.from_env()
    GuardedHTTPProtocol.configure(limits)
    model = os.environ.get(ENV_MODEL)
    db = os.environ.get(ENV_DB)
    svc = RecommenderService.load(
        os.environ.get(ENV_DATA_DIR) or None,
        model_path=Path(model) if model else None,
        train_if_missing=False,  # the supervisor made sure the artifact exists
    )
    store = open_profile_store(db) if db else ProfileStore.default()
    app = create_app(svc, store, max_inflight=limits.max_inflight, reload_poll=limits.reload_poll)
    gc.freeze()  # the loaded data and model are long-lived: keep them out of GC passes
    return app


def _prepare(data_dir: str | None, model_path: str | None) -> tuple[str, str]:
    """Child-process body of :func:`prepare_artifact`."""
    limit_native_threads()
    svc = RecommenderService.load(data_dir, model_path=Path(model_path) if model_path else None)
    model = svc.model()
    return model.name, str(svc.model_cache.artifact_path("default"))


def prepare_artifact(
    data_dir: str | os.PathLike[str] | None, model_path: str | os.PathLike[str] | None
) -> tuple[str, str]:
    """Make sure the default model's artifact exists (trained and saved if missing) without
    loading anything into this process: a child process does it and exits. Returns the model
    name and the artifact path; raises what loading raised."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(
            _prepare,
            (
                str(data_dir) if data_dir is not None else None,
                str(model_path) if model_path is not None else None,
            ),
        )


def run(
    service: RecommenderService | None,
    store: ProfileStore,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    log_level: str = "info",
    limits: ServerLimits | None = None,
    access_log: bool = True,
) -> None:
    """Serve the profiles in ``store`` and, with one worker, ``service``.

    With ``workers`` > 1, ``service`` is not used (pass ``None``): each worker loads the data and
    the artifact itself (see :func:`prepare_artifact`), and ``store`` is only reopened by URL.
    """
    import uvicorn

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    limits = limits or ServerLimits()
    limit_native_threads()
    tune_interpreter()
    GuardedHTTPProtocol.configure(limits)
    common = {
        "host": host,
        "port": port,
        "loop": LOOP,
        "http": HTTP,
        "log_level": log_level,
        "timeout_keep_alive": limits.keep_alive,
        "access_log": access_log,
    }
    if workers == 1:
        if service is None:
            raise ValueError("one worker serves the service it is given: pass it")
        app = create_app(
            service, store, max_inflight=limits.max_inflight, reload_poll=limits.reload_poll
        )
        gc.freeze()  # the loaded data and model are long-lived: keep them out of GC passes
        uvicorn.run(app, **common)
        return
    os.environ[ENV_DB] = store.url
    os.environ[ENV_LIMITS] = limits.to_env()
    if data_dir is not None:
        os.environ[ENV_DATA_DIR] = str(data_dir)
    if model_path is not None:
        os.environ[ENV_MODEL] = str(model_path)
    # spawned workers read these when they import numpy: no thread pools to shrink afterwards
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    store.close()  # the workers open their own connections
    # A worker answers the supervisor's health pings only once its interpreter has imported
    # the package (numpy, pandas, scipy, ...: several seconds on a loaded 2-core machine);
    # uvicorn's 5 s default then kills healthy workers while they start, again and again.
    uvicorn.run(
        FACTORY,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **common,
    )
