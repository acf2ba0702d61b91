"""Operator endpoints, enabled only when an admin token is configured."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from artistrec.api.deps import require_admin
from artistrec.api.errors import AUTH, ApiError, doc, errors
from artistrec.api.payloads import json_response, version_header
from artistrec.api.schemas import Reloaded
from artistrec.store.artifacts import ArtifactError

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    response_model=Reloaded,
    responses=errors(
        AUTH,
        {404: doc("Admin endpoints are disabled"), 409: doc("The artifact did not load")},
    ),
    dependencies=[Depends(require_admin)],
)
async def admin_reload(request: Request) -> Response:
    """Re-read the model artifact now and swap it in (needs $ARTISTREC_ADMIN_TOKEN).

    Only this process reloads at once; every other process serving the same artifact (other
    workers, other instances) notices the changed file within the reload poll interval.
    """
    watcher = request.app.state.watcher
    try:
        changed = await watcher.reload(force=True)
    except (ArtifactError, OSError) as exc:
        raise ApiError(409, "reload_failed", f"kept the old model: {exc}") from exc
    served = watcher.served
    return json_response(
        {
            "reloaded": changed,
            "model": served.model.name,
            "model_version": served.version,
            "data_fingerprint": served.model.fingerprint_,
        },
        headers=version_header(served.version),
    )
