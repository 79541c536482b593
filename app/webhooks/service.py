"""Webhook subscriptions: create, change, rotate, test, redeliver."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.db import settings_of
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.loading import get_or_404
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change
from app.journal.models import DomainEvent
from app.webhooks import secrets, signing, ssrf
from app.webhooks.fanout import DELIVER
from app.webhooks.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookStatus,
)
from app.webhooks.schemas import WebhookCreate, WebhookUpdate

TEST_EVENT = "webhook.test"


async def check_url(session: AsyncSession, url: str) -> None:
    """The URL's shape, and the addresses its host has now: a private one is refused. A
    name that does not resolve (yet) is accepted: the address is checked again at every
    delivery, where such a name shows as a failed attempt."""
    settings = settings_of(session)
    try:
        await ssrf.resolve(
            url,
            https_only=settings.is_production,
            allow_private=settings.webhook_allow_private_targets,
        )
    except ssrf.Unresolved:
        return
    except ssrf.TargetRefused as exc:
        raise ValidationFailed(
            f"The webhook URL is refused: {exc}.",
            details={"errors": [{"loc": ["body", "url"], "msg": str(exc), "type": "value_error"}]},
        ) from None


async def get(session: AsyncSession, webhook_id: str) -> Webhook:
    return await get_or_404(session, Webhook, webhook_id, "Webhook not found.")


def _host_of(url: str) -> str:
    """Audit rows are forever: a receiver URL may carry a credential in its path, so only
    the scheme and host are recorded."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


async def _audit(session: AsyncSession, webhook: Webhook, actor: Actor, event: str) -> None:
    journal.record(
        session,
        Change(
            organization_id=webhook.organization_id,
            actor=actor,
            kind=event,
            entity_type="webhook",
            entity_id=webhook.id,
            data={
                "name": webhook.name,
                "url_host": _host_of(webhook.url),
                "events": webhook.events,
                "status": webhook.status,
            },
        ),
    )


async def create(
    session: AsyncSession, organization_id: str, actor: Actor, data: WebhookCreate
) -> tuple[Webhook, str]:
    await check_url(session, data.url)
    secret = data.secret or signing.new_secret()
    webhook = Webhook(
        organization_id=organization_id,
        name=data.name,
        url=data.url,
        events=data.events,
        status=WebhookStatus.active,
        secret_encrypted=secrets.seal(settings_of(session), secret),
        created_by=actor.id,
    )
    session.add(webhook)
    await session.flush()
    await _audit(session, webhook, actor, "webhook.created")
    return webhook, secret


async def update(
    session: AsyncSession, webhook: Webhook, actor: Actor, data: WebhookUpdate
) -> Webhook:
    """Only the given fields change. Re-enabling resets the failure counter."""
    if data.url is not None and data.url != webhook.url:
        await check_url(session, data.url)
        webhook.url = data.url
    if data.name is not None:
        webhook.name = data.name
    if data.events is not None:
        webhook.events = data.events
    if data.secret is not None:
        secrets.rotate(settings_of(session), webhook, data.secret)
    if data.status is not None and data.status != webhook.status:
        webhook.status = data.status
        if data.status == WebhookStatus.active:
            webhook.consecutive_failures = 0
            webhook.disabled_reason = None
        else:
            webhook.disabled_reason = "disabled by a user"
    webhook.updated_at = utcnow()
    await _audit(session, webhook, actor, "webhook.updated")
    return webhook


async def delete(session: AsyncSession, webhook: Webhook, actor: Actor) -> None:
    await _audit(session, webhook, actor, "webhook.deleted")
    await session.delete(webhook)


async def rotate_secret(session: AsyncSession, webhook: Webhook, actor: Actor) -> str:
    secret = signing.new_secret()
    secrets.rotate(settings_of(session), webhook, secret)
    webhook.updated_at = utcnow()
    await _audit(session, webhook, actor, "webhook.secret_rotated")
    return secret


def _enqueue(session: AsyncSession, record: WebhookDelivery) -> None:
    jobs.enqueue(
        session, DELIVER, {"delivery_id": record.id}, organization_id=record.organization_id
    )


async def send_test(session: AsyncSession, webhook: Webhook) -> WebhookDelivery:
    """A `webhook.test` message for this subscription only."""
    if webhook.status != WebhookStatus.active:
        raise Conflict("The webhook is disabled; enable it first.")
    event = DomainEvent(
        id=new_id("evt"),
        organization_id=webhook.organization_id,
        event_type=TEST_EVENT,
        entity_type="webhook",
        entity_id=webhook.id,
        occurred_at=utcnow(),
        schema_version=1,
        correlation_id=get_correlation_id(),
        data={"webhook_id": webhook.id, "message": "A test message from ApexChainX."},
    )
    session.add(event)
    await session.flush()
    record = WebhookDelivery(
        organization_id=webhook.organization_id,
        webhook_id=webhook.id,
        event_id=event.id,
        event_type=TEST_EVENT,
        created_at=utcnow(),
    )
    session.add(record)
    await session.flush()
    _enqueue(session, record)
    return record


async def get_delivery(
    session: AsyncSession, webhook: Webhook, delivery_id: str, *, lock: bool = False
) -> WebhookDelivery:
    record = await get_or_404(
        session, WebhookDelivery, delivery_id, "Delivery not found.", for_update=lock
    )
    if record.webhook_id != webhook.id:
        raise NotFound("Delivery not found.")
    return record


async def attempts_of(session: AsyncSession, delivery_id: str) -> list[WebhookAttempt]:
    return list(
        (
            await session.execute(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.number)
            )
        ).scalars()
    )


async def redeliver(
    session: AsyncSession, webhook: Webhook, record: WebhookDelivery, actor: Actor
) -> WebhookDelivery:
    """The same message (same `webhook-id`) again; a pending one is left to its job."""
    if webhook.status != WebhookStatus.active:
        raise Conflict("The webhook is disabled; enable it first.")
    if record.status != DeliveryStatus.pending:
        record.status = DeliveryStatus.pending
        _enqueue(session, record)
        journal.record(
            session,
            Change(
                organization_id=webhook.organization_id,
                actor=actor,
                kind="webhook.redelivered",
                entity_type="webhook_delivery",
                entity_id=record.id,
                data={"webhook_id": webhook.id, "event_id": record.event_id},
            ),
        )
    return record
