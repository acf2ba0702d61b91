"""Operator endpoints, enabled only when an admin token is configured."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from artistrec.api.deps import Service, require_admin
from artistrec.api.errors import AUTH_ERRORS, ApiError
from artistrec.api.schemas import ErrorOut
from artistrec.store.artifacts import ArtifactError

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    responses={**AUTH_ERRORS, 409: {"model": ErrorOut}},
    dependencies=[Depends(require_admin)],
)
def admin_reload(svc: Service) -> dict[str, Any]:
    """Re-read the model artifact and swap it in atomically (needs $ARTISTREC_ADMIN_TOKEN)."""
    try:
        model = svc.reload()
    except (ArtifactError, OSError) as exc:
        raise ApiError(409, "reload_failed", f"kept the old model: {exc}") from exc
    return {"reloaded": True, "model": model.name, "data_fingerprint": model.fingerprint_}
