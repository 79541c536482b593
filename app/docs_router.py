"""Swagger UI and ReDoc served with assets from the app itself, so /docs works offline.

Each page carries a Content-Security-Policy: scripts from this origin, plus the page's one
inline script by its nonce; no framing (`frame-ancestors 'none'`). Styles may be inline:
both UIs set them at run time.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.core.routing import APIRouter

STATIC = "/static"
CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP.format(nonce=nonce)})


def docs_router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API",
                swagger_js_url=f"{STATIC}/swagger/swagger-ui-bundle.js",
                swagger_css_url=f"{STATIC}/swagger/swagger-ui.css",
                swagger_favicon_url=f"{STATIC}/swagger/favicon-32x32.png",
                swagger_ui_parameters={
                    "persistAuthorization": True,
                    "displayRequestDuration": True,
                    "tryItOutEnabled": False,
                },
            )
        )

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return _with_policy(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{STATIC}/redoc/redoc.standalone.js",
                redoc_favicon_url=f"{STATIC}/swagger/favicon-32x32.png",
                with_google_fonts=False,
            )
        )

    return router
