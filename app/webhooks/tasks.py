"""Delivering one webhook message: at least once, in order per subscription as far as
retries allow, never to an address that fails the SSRF check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import database_of, settings_of
from app.core.locks import advisory_lock
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.jobs.service import RetryLater
from app.journal import journal
from app.journal.entries import Change
from app.journal.models import DomainEvent
from app.webhooks import delivery, secrets, ssrf
from app.webhooks.fanout import DELIVER
from app.webhooks.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookStatus,
)

SYSTEM = Actor("system", "webhooks")
# With exponential backoff capped at an hour, 30 attempts span about a day.
MAX_ATTEMPTS = 30


async def _load(session: AsyncSession, model: Any, row_id: str) -> Any:
    return (
        await session.execute(
            select(model).where(model.id == row_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


@job_handler(DELIVER, queue="webhooks", max_attempts=MAX_ATTEMPTS)
async def deliver(session: AsyncSession, job: Job) -> dict[str, Any]:
    delivery_id = job.payload["delivery_id"]
    found: WebhookDelivery | None = await _load(session, WebhookDelivery, delivery_id)
    if found is None or found.status != DeliveryStatus.pending:
        return {"status": found.status if found else "missing"}
    # One attempt at a time per subscription, in the order the jobs were claimed.
    async with advisory_lock(database_of(session), f"webhook:{found.webhook_id}"):
        outcome = await _attempt(session, delivery_id, job)
        # Committed while the lock is held: a duplicate job waiting on it then sees the
        # delivery finished instead of sending it again.
        await session.commit()
        return outcome


async def _attempt(session: AsyncSession, delivery_id: str, job: Job) -> dict[str, Any]:
    settings = settings_of(session)
    record: WebhookDelivery | None = await _load(session, WebhookDelivery, delivery_id)
    if record is None or record.status != DeliveryStatus.pending:
        return {"status": record.status if record else "missing"}
    webhook: Webhook = await _load(session, Webhook, record.webhook_id)
    if webhook.status != WebhookStatus.active:
        _give_up(record, "the subscription is disabled")
        return {"status": record.status}
    event: DomainEvent = await _load(session, DomainEvent, record.event_id)
    try:
        target = await ssrf.resolve(
            webhook.url,
            https_only=settings.is_production,
            allow_private=settings.webhook_allow_private_targets,
        )
    except ssrf.TargetRefused as exc:
        answer = delivery.Answer(None, f"target refused: {exc}", None, 0)
    else:
        answer = await delivery.send(
            target,
            event.id,
            delivery.payload(event),
            secrets.in_force(settings, webhook),
            wait_seconds=settings.webhook_timeout_seconds,
            correlation_id=event.correlation_id,
        )
    record.attempts += 1
    session.add(
        WebhookAttempt(
            organization_id=record.organization_id,
            delivery_id=record.id,
            number=record.attempts,
            status_code=answer.status_code,
            error=answer.error,
            response_excerpt=answer.excerpt,
            duration_ms=answer.duration_ms,
            created_at=utcnow(),
        )
    )
    record.last_status_code, record.last_error = answer.status_code, answer.error
    return await _conclude(session, webhook, record, answer, job)


async def _conclude(
    session: AsyncSession,
    webhook: Webhook,
    record: WebhookDelivery,
    answer: delivery.Answer,
    job: Job,
) -> dict[str, Any]:
    if answer.succeeded:
        record.status, record.delivered_at = DeliveryStatus.succeeded, utcnow()
        webhook.consecutive_failures = 0
        return {"status": record.status, "attempts": record.attempts}
    webhook.consecutive_failures += 1
    limit = settings_of(session).webhook_max_consecutive_failures
    if answer.gone:
        await _disable(session, webhook, "the receiver answered 410 Gone")
    elif webhook.consecutive_failures >= limit:
        await _disable(session, webhook, f"{limit} delivery attempts failed in a row")
    if webhook.status != WebhookStatus.active:
        _give_up(record, answer.error or "failed")
        return {"status": record.status}
    if job.attempts >= job.max_attempts:
        _give_up(record, f"{answer.error}; no attempts left")
        return {"status": record.status}
    await session.commit()  # the attempt is recorded; the job retries with backoff
    raise RetryLater(answer.error or "failed", answer.retry_after)


def _give_up(record: WebhookDelivery, reason: str) -> None:
    record.status = DeliveryStatus.failed
    record.last_error = reason[:500]


async def _disable(session: AsyncSession, webhook: Webhook, reason: str) -> None:
    webhook.status = WebhookStatus.disabled
    webhook.disabled_reason = reason
    journal.record(
        session,
        Change(
            organization_id=webhook.organization_id,
            actor=SYSTEM,
            kind="webhook.disabled",
            entity_type="webhook",
            entity_id=webhook.id,
            data={"reason": reason, "consecutive_failures": webhook.consecutive_failures},
        ),
    )
