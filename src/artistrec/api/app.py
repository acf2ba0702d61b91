"""The HTTP API (FastAPI): ``create_app`` composes the routers, the error handlers and the body
limit over one :class:`RecommenderService` and one profile store.

Request handling only: every answer comes from the service or the profile service (see
:mod:`artistrec.api.routers`). Errors are JSON (:mod:`artistrec.api.errors`). Handlers are plain
``def`` functions so numpy work runs in the thread pool, not on the event loop, except the hot
``POST /recommendations`` (short CPU-bound work, run inline; see its comment).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from artistrec import __version__
from artistrec.api.deps import ENV_ADMIN_TOKEN, admin_token_hash
from artistrec.api.errors import register_error_handlers
from artistrec.api.middleware import MAX_BODY, BodyLimitMiddleware
from artistrec.api.routers import admin, artists, history, meta, profiles, recommendations
from artistrec.service import ProfileService, RecommenderService
from artistrec.store.profiles import ProfileStore

__all__ = ["ENV_ADMIN_TOKEN", "MAX_BODY", "create_app"]

_UNSET: Any = object()


def create_app(
    service: RecommenderService,
    store: ProfileStore,
    admin_token: str | None = _UNSET,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The FastAPI app over ``service`` and the profiles in ``store``.

    ``admin_token`` (default: ``$ARTISTREC_ADMIN_TOKEN``) enables ``POST /admin/reload``.
    """
    if admin_token is _UNSET:
        admin_token = os.environ.get(ENV_ADMIN_TOKEN) or None
    app = FastAPI(
        title="artistrec",
        version=__version__,
        description="Music-artist recommendations from the HetRec 2011 Last.fm data: "
        "fold-in for new listeners, similar artists, stored profiles.",
    )
    app.add_middleware(BodyLimitMiddleware, max_body=max_body, path_limits=history.BODY_LIMITS)
    app.state.service = service
    app.state.profiles = ProfileService(store, service.catalogue)
    app.state.admin_hash = admin_token_hash(admin_token)
    register_error_handlers(app)
    for area in (meta, artists, recommendations, profiles, admin, history):
        app.include_router(area.router)
    return app
