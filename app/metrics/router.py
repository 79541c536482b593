"""`GET /metrics`: Prometheus exposition. The business gauges (jobs, payments, webhooks) are
read from the database at scrape time, across organizations (counts only)."""

from __future__ import annotations

import hmac
from datetime import timedelta

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.core.db import Database
from app.core.errors import Unauthorized
from app.core.routing import APIRouter
from app.core.tenancy import system_session
from app.jobs.models import Job
from app.metrics.instruments import Instruments
from app.payments.models import Payment
from app.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

router = APIRouter(tags=["Health"])


async def refresh(database: Database, instruments: Instruments) -> None:
    now = utcnow()
    async with system_session(database, "platform metrics (counts only)") as session:
        instruments.jobs.clear()
        for queue, status, count in await session.execute(
            select(Job.queue, Job.status, func.count()).group_by(Job.queue, Job.status)
        ):
            instruments.jobs.labels(queue, status).set(count)
        instruments.job_age.clear()
        for queue, oldest in await session.execute(
            select(Job.queue, func.min(Job.run_at))
            .where(Job.status == "queued", Job.run_at <= now)
            .group_by(Job.queue)
        ):
            instruments.job_age.labels(queue).set(max(0.0, (now - oldest).total_seconds()))
        instruments.payments.clear()
        for status, kind, count in await session.execute(
            select(Payment.status, Payment.type, func.count()).group_by(
                Payment.status, Payment.type
            )
        ):
            instruments.payments.labels(status, kind).set(count)
        instruments.webhook_deliveries.clear()
        for status, count in await session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        ):
            instruments.webhook_deliveries.labels(status).set(count)
        failed = await session.execute(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(
                WebhookAttempt.created_at >= now - timedelta(hours=1),
                (WebhookAttempt.status_code.is_(None))
                | (WebhookAttempt.status_code < 200)
                | (WebhookAttempt.status_code >= 300),
            )
        )
        instruments.webhook_failed_attempts.set(failed.scalar_one())
        disabled = await session.execute(
            select(func.count()).select_from(Webhook).where(Webhook.status == "disabled")
        )
        instruments.webhooks_disabled.set(disabled.scalar_one())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Open on the internal network by default; with METRICS_TOKEN set, a bearer token."""
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise Unauthorized("A valid metrics token is required.")
    instruments: Instruments = request.app.state.instruments
    await refresh(request.app.state.database, instruments)
    limiter = request.app.state.rate_limiter
    instruments.rate_limiter_degraded.set(1 if limiter.degraded else 0)
    breaker = getattr(limiter, "breaker", None)
    instruments.rate_limiter_failures.set(breaker.total_failures if breaker else 0)
    return Response(generate_latest(instruments.registry), media_type=CONTENT_TYPE_LATEST)
