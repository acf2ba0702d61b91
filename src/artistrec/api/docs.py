"""``/docs`` without the internet: Swagger UI's files served from the installed package.

FastAPI's default page loads Swagger UI from a CDN, so it stays blank on a machine without
internet access (or behind a strict proxy). The ``swagger-ui-bundle-v2`` package ships Swagger
UI's built files (Apache-2.0, license in its dist-info); this module serves the three the page
needs from ``/docs/assets/`` and writes the page pointing at them. ReDoc (CDN-only) is off.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from artistrec.api.errors import error_response

ASSETS_PREFIX = "/docs/assets"
#: The files the page loads (nothing else of the package is reachable).
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def assets_dir() -> Path:
    """Where the installed Swagger UI files are."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def add_offline_docs(app: FastAPI, title: str) -> None:
    """``GET /docs`` (the page), ``/docs/oauth2-redirect`` and ``/docs/assets/{name}``."""
    root = assets_dir()
    missing = [name for name in ASSETS if not (root / name).is_file()]
    if missing:
        raise RuntimeError(f"Swagger UI files missing from {root}: {missing}")
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs_page(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - API docs",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return error_response(404, "not_found", f"no documentation asset {name!r}")
        return FileResponse(
            root / name,
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.add_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_route(
        "/docs/oauth2-redirect", oauth2_redirect, methods=["GET"], include_in_schema=False
    )
    app.add_route(f"{ASSETS_PREFIX}/{{name}}", asset, methods=["GET"], include_in_schema=False)
