"""Liveness and readiness."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from artistrec.api.deps import Profiles, Service
from artistrec.api.errors import error_response
from artistrec.api.schemas import ErrorOut, Health

router = APIRouter(tags=["meta"])


@router.get("/health", response_model=Health)
def health(svc: Service) -> dict[str, Any]:
    """Liveness: served model, data fingerprint, uptime."""
    info = svc.model_info()
    return {
        "status": "ok",
        "model": info["name"],
        "model_params": json.loads(json.dumps(info["params"], default=str)),
        "data_fingerprint": svc.dataset.fingerprint,
        "uptime_seconds": round(svc.uptime, 3),
    }


@router.get("/ready", responses={503: {"model": ErrorOut}})
def ready(svc: Service, profiles: Profiles) -> Response:
    """Readiness: the default model is in memory and the profile database answers."""
    if svc.is_loaded() and profiles.ping():
        return JSONResponse({"ready": True})
    return error_response(503, "not_ready", "model not loaded or database unavailable")
