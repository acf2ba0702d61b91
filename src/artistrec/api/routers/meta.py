"""Liveness and readiness."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import Response

from artistrec.api.deps import Profiles, Service
from artistrec.api.errors import errors
from artistrec.api.payloads import json_response
from artistrec.api.schemas import Health, Ready

router = APIRouter(tags=["meta"])


@router.get("/health", response_model=Health, responses=errors())
async def health(request: Request, svc: Service) -> Response:
    """Liveness: served model and its version, data fingerprint, uptime, the answering
    process (``--workers``: which one); no I/O, always fast."""
    served = request.app.state.watcher.served
    return json_response(
        {
            "status": "ok",
            "model": served.model.name,
            "model_version": served.version,
            "model_params": served.params,
            "data_fingerprint": svc.dataset.fingerprint,
            "uptime_seconds": round(svc.uptime, 3),
            "pid": os.getpid(),
        }
    )


@router.get("/ready", response_model=Ready, responses=errors())
def ready(request: Request, svc: Service, profiles: Profiles) -> Response:
    """Readiness: the default model is in memory, the profile store commits a write, and the
    store's last failure (if any) is older than its Retry-After (503 ``store_unavailable``
    with ``Retry-After`` otherwise)."""
    profiles.store.check_writable()  # raises StoreUnavailableError -> 503
    failure = request.app.state.store_health.current()
    if failure is not None:
        return json_response(
            {
                "error": "store_unavailable",
                "message": f"recent profile writes failed: {failure.message}",
                "reason": failure.reason,
            },
            503,
            {"Retry-After": str(failure.retry_after)},
        )
    if not svc.is_loaded():
        return json_response(
            {"error": "not_ready", "message": "the model is not loaded yet"},
            503,
            {"Retry-After": "5"},
        )
    return json_response({"ready": True, "model_version": request.app.state.watcher.version})
