"""Every feature router, under the API prefix."""

from __future__ import annotations

from fastapi import APIRouter

from app.api_keys.router import router as api_keys_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.health.router import router as health_router
from app.jobs.router import router as jobs_router
from app.users.router import router as users_router


def api_router() -> APIRouter:
    router = APIRouter()
    for feature in (
        health_router,
        auth_router,
        users_router,
        api_keys_router,
        audit_router,
        jobs_router,
    ):
        router.include_router(feature)
    return router
