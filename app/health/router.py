"""Liveness, readiness and the legacy health check, at the root and under the API prefix."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.ratelimit import MemoryRateLimiter
from app.core.routing import APIRouter
from app.db import Database

router = APIRouter(tags=["Health"])

CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/health", summary="Legacy health check")
async def health() -> dict[str, str]:
    """Legacy liveness check: `{"status": "ok"}` while the process runs."""
    return {"status": "ok"}


@router.get("/health/live", summary="Liveness: the process is running")
async def live() -> dict[str, str]:
    """200 while the process runs (for orchestrators' liveness probes)."""
    return {"status": "alive"}


async def _check_database(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(request: Request) -> None:
    redis = request.app.state.redis
    await redis.ping()


def rate_limit_state(limiter: Any) -> str:
    """Where the limits are counted now (see the Redis policy in docs/operations.md)."""
    if isinstance(limiter, MemoryRateLimiter):
        return "in-process (no REDIS_URL)"
    if limiter.degraded:
        return "degraded: Redis unreachable; sign-in and payment limits per process, others open"
    return "shared (Redis)"


@router.get(
    "/health/ready",
    summary="Readiness: the database (and Redis, when configured) answer",
    responses={503: {"description": "A dependency does not answer; `checks` says which."}},
)
async def ready(request: Request) -> JSONResponse:
    """200 when the database (and Redis, when configured) answer; 503 otherwise, with the failing
    check."""
    checks: dict[str, Any] = {}
    targets = {"database": _check_database(request.app.state.database)}
    if request.app.state.redis is not None:
        targets["redis"] = _check_redis(request)
    for name, check in targets.items():
        try:
            await asyncio.wait_for(check, timeout=CHECK_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {
        "status": "ready" if healthy else "unavailable",
        "checks": checks,
        "rate_limits": rate_limit_state(request.app.state.rate_limiter),
    }
    if not healthy:
        body["error"] = {
            "code": "SERVICE_UNAVAILABLE",
            "message": "A dependency does not answer.",
            "details": checks,
        }
    return JSONResponse(body, status_code=200 if healthy else 503)
