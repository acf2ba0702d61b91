"""The HTTP API (FastAPI): ``create_app`` composes the routers, the error handlers, the limits,
the model watcher and the offline docs over one :class:`RecommenderService` and one profile store.

Request handling only: every answer comes from the service or the profile service (see
:mod:`artistrec.api.routers`). Errors are JSON (:mod:`artistrec.api.errors`). No handler blocks
the event loop: handlers that touch the profile store or run long numpy work are plain ``def``
functions (Starlette runs them in its thread pool); the ``async`` ones only do bounded work of
about a millisecond inline and hand anything larger to one compute thread (see
:mod:`artistrec.api.offload` and :mod:`artistrec.api.routers.recommendations`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from artistrec import __version__
from artistrec.api.deps import ENV_ADMIN_TOKEN, MODEL_NAMES, admin_token_hash
from artistrec.api.docs import add_offline_docs
from artistrec.api.errors import register_error_handlers
from artistrec.api.middleware import (
    MAX_BODY,
    MAX_INFLIGHT,
    VERSION_HEADER,
    ServingMiddleware,
)
from artistrec.api.openapi import build_openapi
from artistrec.api.reload import DEFAULT_POLL, ModelWatcher
from artistrec.api.routers import admin, artists, history, meta, profiles, recommendations
from artistrec.api.store_health import StoreHealth
from artistrec.service import ProfileService, RecommenderService
from artistrec.store.profiles import ProfileStore

__all__ = ["ENV_ADMIN_TOKEN", "MAX_BODY", "MAX_INFLIGHT", "VERSION_HEADER", "create_app"]

TITLE = "artistrec"
DESCRIPTION = """Music-artist recommendations from the HetRec 2011 Last.fm data: fold-in for new
listeners, similar artists, stored profiles.

Every response carries `X-Model-Version`, the content hash of the model artifact that produced it.
Request bodies are strict JSON (`Content-Type: application/json`; no unknown keys, no strings
or booleans for numbers). Profiles are versioned: `ETag` is the version; `PUT`, `PATCH` and
`DELETE` honour `If-Match` and `If-Unmodified-Since` (412 when the profile changed since it was
read); `GET` honours `If-None-Match` (304). Errors are JSON `{"error", "message", ...}`; 503
answers carry `Retry-After`."""

_UNSET: Any = object()


def create_app(
    service: RecommenderService,
    store: ProfileStore,
    admin_token: str | None = _UNSET,
    max_body: int = MAX_BODY,
    max_inflight: int = MAX_INFLIGHT,
    reload_poll: float = DEFAULT_POLL,
) -> FastAPI:
    """The FastAPI app over ``service`` and the profiles in ``store``.

    ``admin_token`` (default: ``$ARTISTREC_ADMIN_TOKEN``) enables ``POST /admin/reload``;
    ``max_inflight`` requests at once get served, more get 503; ``reload_poll`` seconds between
    checks of the model artifact (0: only ``POST /admin/reload`` reloads).
    """
    if admin_token is _UNSET:
        admin_token = os.environ.get(ENV_ADMIN_TOKEN) or None
    watcher = ModelWatcher(service, reload_poll)
    # a server lives long: reasons among the most listened artists become lookups (16 MB)
    service.explainer.cache_popular()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watcher.start()
        try:
            yield
        finally:
            await watcher.stop()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # served offline by add_offline_docs
        redoc_url=None,  # ReDoc only loads from a CDN
        lifespan=lifespan,
    )
    app.add_middleware(
        ServingMiddleware,
        version=lambda: watcher.version,
        max_body=max_body,
        max_inflight=max_inflight,
        path_limits=history.BODY_LIMITS,
    )
    app.state.service = service
    app.state.profiles = ProfileService(store, service.catalogue)
    app.state.admin_hash = admin_token_hash(admin_token)
    app.state.watcher = watcher
    app.state.store_health = StoreHealth()
    register_error_handlers(app)
    for area in (meta, artists, recommendations, profiles, admin, history):
        app.include_router(area.router)
    add_offline_docs(app, TITLE)
    app.openapi = lambda: build_openapi(app, MODEL_NAMES)  # type: ignore[method-assign]
    return app
