"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware

from app.api import FEATURE_ROUTERS
from app.background import open_database, register_background_work
from app.compat.noc.router import NOC_ROUTERS
from app.config import JobsExecutor, Settings, get_settings
from app.core import heap
from app.core.breaker import CircuitBreaker
from app.core.db import Database, refuse_rls_bypass
from app.core.errors import install_error_handlers
from app.core.json_shape import json_shape_limits
from app.core.locks import advisory_lock
from app.core.middleware import CorrelationMiddleware, RequestLimitsMiddleware
from app.core.ratelimit import MemoryRateLimiter, RateLimiter, RateLimitMiddleware, RedisRateLimiter
from app.core.route_table import add_routes
from app.demo import announce, seed_demo, seed_demo_approver, seed_demo_month
from app.docs_router import STATIC, docs_router
from app.faults.gateway import PATH as FAULT_GATEWAY_PATH
from app.faults.gateway_errors import FaultGatewayErrors
from app.health.router import router as health_router
from app.identity.identity import RateLimitIdentity
from app.jobs.dispatch import after_commit_dispatcher, celery_client
from app.jobs.executor import InlineExecutor, install_after_commit_hook
from app.logging import configure_logging
from app.metrics.instruments import Instruments, MetricsMiddleware
from app.metrics.router import router as metrics_router
from app.openapi import install as install_openapi
from app.stellar.genesis import ensure_local_pool
from app.stellar.runtime import stellar_for

DESCRIPTION = """
Run outages from detection to settlement: faults and incidents come in, outages are tracked
against a per-severity SLA, and each resolved outage's penalty or reward is paid in USDC on
Stellar. Authenticate with `POST /api/v1/auth/login`, then **Authorize** with the access token.
"""


def _rate_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    if redis is not None:
        breaker = CircuitBreaker(
            settings.redis_breaker_failures, settings.redis_breaker_open_seconds
        )
        return RedisRateLimiter(redis, settings.rate_limit_key_prefix, breaker)
    return MemoryRateLimiter()


async def initialise(database: Database, settings: Settings) -> None:
    """What every instance makes sure of at start. Instances starting together (workers,
    replicas) take turns under one lock, and each step finds the work of the one before."""
    await refuse_rls_bypass(database)
    async with advisory_lock(database, "apexchainx:startup"):
        stellar = stellar_for(database)
        if stellar.local is not None:
            await ensure_local_pool(stellar.local)
        if settings.demo_seed and not settings.is_production:
            credentials = await seed_demo(database)
            approver = await seed_demo_approver(database)
            # A living system on first start: a month of outages, faults, SLA results, payments.
            await seed_demo_month(database)
            announce(credentials, database, approver)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await initialise(app.state.database, app.state.settings)
    heap.settle()
    executor: InlineExecutor | None = app.state.executor
    if executor is not None and app.state.start_inline_executor:
        executor.start()
    try:
        yield
    finally:
        if executor is not None:
            await executor.stop()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        await app.state.database.dispose()


def create_app(settings: Settings | None = None, *, run_inline_executor: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    register_background_work()
    app = FastAPI(
        title="ApexChainX API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    database = open_database(settings)
    redis = (
        Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_seconds,
            socket_connect_timeout=settings.redis_timeout_seconds,
        )
        if settings.redis_url
        else None
    )
    app.state.settings = settings
    app.state.database = database
    app.state.redis = redis
    app.state.rate_limiter = _rate_limiter(settings, redis)
    app.state.instruments = Instruments()
    app.state.executor = None
    app.state.start_inline_executor = run_inline_executor
    if settings.jobs_executor is JobsExecutor.inline:
        executor = InlineExecutor(
            database,
            poll_interval=settings.jobs_poll_interval_seconds,
            lease_seconds=settings.jobs_lease_seconds,
        )
        app.state.executor = executor
        install_after_commit_hook(database, lambda _jobs: executor.wake())
    else:
        install_after_commit_hook(database, after_commit_dispatcher(celery_client(settings)))

    install_error_handlers(app)

    # One flat table, not a tree of included routers (app/core/route_table.py says why).
    add_routes(app, (health_router, metrics_router))
    add_routes(app, FEATURE_ROUTERS, prefix=settings.api_v1_prefix)
    if settings.compat_noc_enabled:  # kept apart, and out of the API document
        add_routes(app, NOC_ROUTERS, prefix=settings.compat_noc_prefix)
    add_routes(app, (docs_router(app),))
    install_openapi(app)
    app.mount(STATIC, StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    # Added innermost first: correlation wraps everything, so even a 413 or 429 carries an id.
    app.add_middleware(
        RateLimitMiddleware,
        limiter_getter=lambda: app.state.rate_limiter,
        settings=settings,
        identify=RateLimitIdentity(settings, lambda: app.state.database),
    )
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.max_request_body_size_bytes,
        max_upload_bytes=settings.max_upload_size_bytes,
        json_shape=json_shape_limits(settings),
    )
    app.add_middleware(CorrelationMiddleware, hsts=settings.is_production)
    # Outside every renderer of errors (even the 500 of CorrelationMiddleware).
    app.add_middleware(FaultGatewayErrors, paths=(settings.api_v1_prefix + FAULT_GATEWAY_PATH,))
    app.add_middleware(MetricsMiddleware, instruments=app.state.instruments)
    if settings.cors_origins:  # off by default: a same-origin frontend needs none
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    return app


# What a browser page may send and read across origins (the API's own headers).
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Idempotency-Key",
    "X-Correlation-ID",
    "X-CSRF-Token",
    "X-API-Key",
]
CORS_EXPOSED_HEADERS = [
    "X-Correlation-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "ETag",
    "Content-Disposition",
]
