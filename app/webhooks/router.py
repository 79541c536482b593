from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response, status
from sqlalchemy import select

from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal
from app.journal.catalog import EVENT_TYPES
from app.webhooks import service
from app.webhooks.models import Webhook, WebhookDelivery
from app.webhooks.schemas import (
    DeliveryAttemptOut,
    DeliveryDetail,
    DeliveryOut,
    WebhookCreate,
    WebhookEventCatalogOut,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["Webhooks"])

WebhookId = Annotated[str, Path(max_length=64)]
DeliveryId = Annotated[str, Path(max_length=64)]


def _with_secret(webhook: Webhook, secret: str) -> WebhookWithSecret:
    return WebhookWithSecret(**WebhookOut.model_validate(webhook).model_dump(), secret=secret)


@router.get(
    "/events",
    response_model=WebhookEventCatalogOut,
    summary="The event types a webhook may subscribe to",
)
async def event_types(principal: AdminPrincipal) -> WebhookEventCatalogOut:
    """The event types a webhook may subscribe to (`*` for all)."""
    return WebhookEventCatalogOut(events=list(EVENT_TYPES), wildcard=["*"])


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a URL to events",
)
async def create_webhook(
    body: WebhookCreate, principal: AdminPrincipal, session: SessionDep, response: Response
) -> WebhookWithSecret:
    """The secret (`whsec_...`, given or generated) is in this response only. The URL must
    resolve to public addresses (`https` in production)."""
    webhook, secret = await service.create(
        session, principal.organization_id, principal.actor, body
    )
    return _with_secret(webhook, secret)


@router.get("", response_model=Page[WebhookOut], summary="List webhooks")
async def list_webhooks(
    principal: AdminPrincipal, session: SessionDep, page: CursorPageParamsDep
) -> Page[WebhookOut]:
    """The organization's webhooks; secrets are never shown again."""
    rows, result = await paginate(session, select(Webhook), page, id_column=Webhook.id)
    result.results = [WebhookOut.model_validate(row) for row in rows]
    return result


@router.get("/{webhook_id}", response_model=WebhookOut, summary="One webhook")
async def get_webhook(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep
) -> WebhookOut:
    """One webhook: URL, events, status, failure counter and rotation state."""
    return WebhookOut.model_validate(await service.get(session, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut, summary="Change a webhook")
async def update_webhook(
    webhook_id: WebhookId, body: WebhookUpdate, principal: AdminPrincipal, session: SessionDep
) -> WebhookOut:
    """Only the given fields change; re-enabling resets the failure counter; a new `secret`
    starts a rotation (the previous one keeps signing during the grace period)."""
    webhook = await service.get(session, webhook_id)
    return WebhookOut.model_validate(await service.update(session, webhook, principal.actor, body))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a webhook")
async def delete_webhook(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep
) -> Response:
    """Deletes a webhook and its delivery log. Audited."""
    await service.delete(session, await service.get(session, webhook_id), principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, summary="Rotate the secret"
)
async def rotate_secret(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep, response: Response
) -> WebhookWithSecret:
    """The new secret is shown once. Until `previous_secret_expires_at` both sign: the
    `webhook-signature` header carries two `v1,` entries."""
    webhook = await service.get(session, webhook_id)
    secret = await service.rotate_secret(session, webhook, principal.actor)
    return _with_secret(webhook, secret)


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a test message",
)
async def send_test(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep
) -> DeliveryOut:
    """A `webhook.test` message to this subscription; follow it in the delivery log."""
    record = await service.send_test(session, await service.get(session, webhook_id))
    return DeliveryOut.model_validate(record)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut], summary="Delivery log")
async def list_deliveries(
    webhook_id: WebhookId,
    principal: AdminPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status_: Annotated[
        Literal["pending", "succeeded", "failed"] | None, Query(alias="status")
    ] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[DeliveryOut]:
    """The delivery log, newest first: one row per event with status, attempts and the last answer;
    filter by `status` or `event_type`."""
    webhook = await service.get(session, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status_:
        stmt = stmt.where(WebhookDelivery.status == status_)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    rows, result = await paginate(session, stmt, page, id_column=WebhookDelivery.id)
    result.results = [DeliveryOut.model_validate(row) for row in rows]
    return result


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery and its attempts",
)
async def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: AdminPrincipal, session: SessionDep
) -> DeliveryDetail:
    """One delivery with every attempt (status code, error, duration, response excerpt)."""
    webhook = await service.get(session, webhook_id)
    record = await service.get_delivery(session, webhook, delivery_id)
    attempts = await service.attempts_of(session, record.id)
    return DeliveryDetail(
        **DeliveryOut.model_validate(record).model_dump(),
        attempt_log=[DeliveryAttemptOut.model_validate(a) for a in attempts],
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Deliver a message again",
)
async def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: AdminPrincipal, session: SessionDep
) -> DeliveryOut:
    """The same message, with the same `webhook-id`, so a receiver that already has it can
    tell."""
    webhook = await service.get(session, webhook_id)
    record = await service.get_delivery(session, webhook, delivery_id, lock=True)
    return DeliveryOut.model_validate(
        await service.redeliver(session, webhook, record, principal.actor)
    )
