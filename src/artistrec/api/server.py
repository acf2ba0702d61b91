"""Running the HTTP API under uvicorn: one process, or ``workers`` processes sharing the port.

Each request is ~2 ms of GIL-bound CPU, so one process uses one core; ``workers=2`` uses both
cores of a 2-core machine. Every process limits native (BLAS/OpenMP) thread pools to one
thread: concurrent requests already keep the cores busy, and a threaded BLAS call inside a
request then waits for busy cores (measured on 2 cores: ~10 req/s with the default pools
against ~170 req/s with one thread, 32 connections, one process). The event loop is asyncio's,
not uvloop even when installed: with CPU-bound handlers uvloop served some connections
seconds late at 128 connections (p99 ~4 s against ~0.75 s) and was no faster at 32. Every
connection gets TCP_NODELAY: asyncio skips it on the listening socket uvicorn hands to worker
processes, and Nagle's algorithm then held each keep-alive answer for a 40 ms delayed ACK.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from pathlib import Path

from fastapi import FastAPI
from threadpoolctl import threadpool_limits
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from artistrec.api.app import create_app
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore

#: How :func:`run` passes its configuration to worker processes (they import :func:`app_from_env`).
ENV_DATA_DIR = "ARTISTREC_SERVE_DATA_DIR"
ENV_MODEL = "ARTISTREC_SERVE_MODEL"
ENV_DB = "ARTISTREC_SERVE_DB"
FACTORY = "artistrec.api.server:app_from_env"
LOOP = "asyncio"
HTTP = "artistrec.api.server:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol (httptools if installed, else h11) with TCP_NODELAY set."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass  # no Nagle control on this socket: only latency suffers
        super().connection_made(transport)


def limit_native_threads() -> None:
    """One BLAS/OpenMP thread in this process (see the module docstring for why)."""
    threadpool_limits(limits=1)


def app_from_env() -> FastAPI:
    """App factory of a worker process: data, model and database from the ``ENV_*`` variables."""
    limit_native_threads()
    model = os.environ.get(ENV_MODEL)
    db = os.environ.get(ENV_DB)
    svc = RecommenderService.load(
        os.environ.get(ENV_DATA_DIR) or None, model_path=Path(model) if model else None
    )
    store = ProfileStore(db) if db else ProfileStore.default()
    app = create_app(svc, store)
    gc.freeze()  # the loaded data and model are long-lived: keep them out of GC passes
    return app


def run(
    service: RecommenderService,
    store: ProfileStore,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``service`` and ``store``; with ``workers`` > 1, each worker loads its own copy.

    The caller has loaded ``service`` already, so the model artifact is in the cache (or at
    ``model_path``) and the workers only read it.
    """
    import uvicorn

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    limit_native_threads()
    if workers == 1:
        app = create_app(service, store)
        gc.freeze()  # the loaded data and model are long-lived: keep them out of GC passes
        uvicorn.run(app, host=host, port=port, loop=LOOP, http=HTTP, log_level=log_level)
        return
    os.environ[ENV_DB] = str(store.path)
    if data_dir is not None:
        os.environ[ENV_DATA_DIR] = str(data_dir)
    if model_path is not None:
        os.environ[ENV_MODEL] = str(model_path)
    # spawned workers read these when they import numpy: no thread pools to shrink afterwards
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=LOOP,
        http=HTTP,
        log_level=log_level,
    )
