"""Liveness, readiness and the legacy health check, at the root and under the API prefix."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.db import Database
from app.core.ratelimit import MemoryRateLimiter
from app.core.routing import APIRouter
from app.health.schemas import (
    HealthOut,
    LivenessOut,
    ReadinessChecksOut,
    ReadinessErrorOut,
    ReadinessFailureOut,
    ReadinessOut,
)

router = APIRouter(tags=["Health"])

CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/health", response_model=HealthOut, summary="Legacy health check")
async def health() -> HealthOut:
    """Legacy liveness check: `{"status": "ok"}` while the process runs."""
    return HealthOut(status="ok")


@router.get("/health/live", response_model=LivenessOut, summary="Liveness: the process is running")
@router.get(
    "/health/liveness",
    name="liveness",
    response_model=LivenessOut,
    summary="Liveness (the seed's path)",
)
async def live() -> LivenessOut:
    """200 while the process runs (for orchestrators' liveness probes)."""
    return LivenessOut(status="alive")


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


_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ReadinessFailureOut,
        "description": "A dependency does not answer; `checks` says which.",
    }
}


@router.get(
    "/health/ready",
    response_model=ReadinessOut,
    summary="Readiness: the database (and Redis, when configured) answer",
    responses=_NOT_READY,
)
@router.get(
    "/health/readiness",
    name="readiness",
    response_model=ReadinessOut,
    summary="Readiness (the seed's path)",
    responses=_NOT_READY,
)
async def ready(request: Request) -> ReadinessOut | JSONResponse:
    """200 when the database (and Redis, when configured) answer; 503 otherwise, with the failing
    check."""
    results: dict[str, str] = {}
    targets = {"database": _check_database(request.app.state.database)}
    if request.app.state.redis is not None:
        targets["redis"] = _check_redis(request)
    for name, check in targets.items():
        try:
            await asyncio.wait_for(check, timeout=CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"unavailable: {type(exc).__name__}"
    checks = ReadinessChecksOut.model_validate(results)
    rate_limits = rate_limit_state(request.app.state.rate_limiter)
    if all(value == "ok" for value in results.values()):
        return ReadinessOut(status="ready", checks=checks, rate_limits=rate_limits)
    failure = ReadinessFailureOut(
        status="unavailable",
        checks=checks,
        rate_limits=rate_limits,
        error=ReadinessErrorOut(
            code="SERVICE_UNAVAILABLE", message="A dependency does not answer.", details=checks
        ),
    )
    return JSONResponse(failure.model_dump(mode="json"), status_code=503)
