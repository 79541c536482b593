"""Swagger UI and ReDoc served with assets from the app itself, so /docs works offline.

Each page carries a Content-Security-Policy: scripts from this origin, plus the page's one
inline script by its nonce; no framing (`frame-ancestors 'none'`). Styles may be inline:
both UIs set them at run time.
"""

from __future__ import annotations

import secrets
from html import escape

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.core.errors import NotFound
from app.core.routing import APIRouter
from app.faults.gateway_errors import CATALOG, DOC_PATH

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

    @router.get(DOC_PATH)
    async def error_index() -> HTMLResponse:
        return _error_page("Errors of the fault gateway", list(CATALOG))

    @router.get(DOC_PATH + "/{code}")
    async def error_page(code: str) -> HTMLResponse:
        if code not in CATALOG:
            raise NotFound("No such error code.")
        return _error_page(code, [code])

    return router


def _error_page(title: str, codes: list[str]) -> HTMLResponse:
    """The page each gateway error's `doc_url` points at (`/fault` answers these codes)."""
    sections = "".join(
        f'<section id="{code}"><h2><a href="{DOC_PATH}/{code}">{code}</a></h2>'
        f"<p>HTTP {CATALOG[code].status} &middot; <code>{CATALOG[code].type}</code></p>"
        f"<p>{escape(CATALOG[code].summary)}</p><p>What to do: {escape(CATALOG[code].remedy)}</p>"
        "</section>"
        for code in codes
    )
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"</head><body><h1>{escape(title)}</h1><p>Errors of <code>/api/v1/fault</code> are "
        "<code>{type, code, message, doc_url}</code>; the rest of the API answers its "
        f'<code>{{"error": {{...}}}}</code> envelope.</p>{sections}</body></html>'
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'"})
