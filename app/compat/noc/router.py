"""The whole NOC surface, mounted under COMPAT_NOC_PREFIX when COMPAT_NOC_ENABLED."""

from __future__ import annotations

from fastapi import APIRouter

from app.compat.noc import auth, outages, sla, webhooks


def noc_router() -> APIRouter:
    router = APIRouter()
    for part in (auth.router, outages.router, sla.router, webhooks.router):
        router.include_router(part)
    return router
