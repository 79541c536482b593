"""Webhooks and wallets, by the NOC frontend's names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response, status
from pydantic import AliasChoices, Field
from sqlalchemy import select

from app.compat.noc import shapes
from app.compat.noc.pages import CompatPage
from app.compat.noc.routing import compat_router
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.schemas import InputModel
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal
from app.wallets import router as wallets
from app.wallets.models import Wallet
from app.wallets.schemas import WalletRegister
from app.webhooks import router as webhooks
from app.webhooks.schemas import WebhookCreate, WebhookUpdate

router = compat_router()

WebhookId = Annotated[str, Path(max_length=64)]
DeliveryId = Annotated[str, Path(max_length=64)]
LISTED = CompatPage(1, 200)  # the frontend lists without paging: the first 200


Events = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=50)]


class CompatWebhookCreate(InputModel):
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    events: Events
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class CompatWebhookUpdate(InputModel):
    active: bool | None = None
    url: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    events: Events | None = None


@router.get("/webhooks")
async def list_webhooks(principal: AdminPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    listed = await webhooks.list_webhooks(principal, session, LISTED.params)
    return [shapes.webhook(w.model_dump(mode="json")) for w in listed.results]


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: CompatWebhookCreate, principal: AdminPrincipal, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Named after the URL's host unless named; the frontend's event names are taken. The
    signing secret is in this answer only, as on /api/v1."""
    created = WebhookCreate.model_validate(
        {
            "name": body.name or shapes.name_from(body.url),
            "url": body.url,
            "events": shapes.our_events(body.events),
        }
    )
    answer = await webhooks.create_webhook(created, principal, session, response)
    return shapes.webhook(answer.model_dump(mode="json"))


@router.patch("/webhooks/{webhook_id}")
async def update_webhook(
    webhook_id: WebhookId, body: CompatWebhookUpdate, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    change: dict[str, Any] = {}
    if body.active is not None:
        change["status"] = "active" if body.active else "disabled"
    if body.url is not None:
        change["url"] = body.url
    if body.events is not None:
        change["events"] = shapes.our_events(body.events)
    updated = await webhooks.update_webhook(
        webhook_id, WebhookUpdate.model_validate(change), principal, session
    )
    return shapes.webhook(updated.model_dump(mode="json"))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep
) -> Response:
    return await webhooks.delete_webhook(webhook_id, principal, session)


@router.get("/webhooks/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: WebhookId, principal: AdminPrincipal, session: SessionDep
) -> list[dict[str, Any]]:
    """The latest 200, newest first."""
    listed = await webhooks.list_deliveries(webhook_id, principal, session, LISTED.params)
    return [shapes.delivery(d.model_dump(mode="json")) for d in listed.results]


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    again = await webhooks.redeliver(webhook_id, delivery_id, principal, session)
    return shapes.delivery(again.model_dump(mode="json"))


class WalletLink(InputModel):
    user_id: str = Field(validation_alias=AliasChoices("user_id", "entity_id"), max_length=64)
    address: str = Field(validation_alias=AliasChoices("address", "public_key"), max_length=128)


@router.post("/wallets/link", status_code=status.HTTP_201_CREATED)
async def link_wallet(
    body: WalletLink, principal: AdminPrincipal, session: SessionDep, response: Response
) -> dict[str, Any]:
    register = WalletRegister(entity_id=body.user_id, address=body.address)
    linked = await wallets.register_wallet(register, principal, session, response)
    return linked.model_dump(mode="json")


@router.get("/wallets/friendbot")
async def friendbot(
    principal: AdminPrincipal,
    session: SessionDep,
    address: Annotated[str, Query(max_length=128)],
) -> dict[str, Any]:
    """Funds the registered wallet with this address (the local ledger only, as on /api/v1)."""
    wallet = await session.scalar(select(Wallet).where(Wallet.address == address))
    if wallet is None:
        raise NotFound("No wallet of the organization has this address.")
    funded = await wallets.fund_wallet(wallet.entity_id, principal, session, None)
    return funded.model_dump(mode="json")


@router.get("/wallets/{user_id}/status")
async def wallet_status(
    user_id: Annotated[str, Path(max_length=64)], principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    return (await wallets.get_wallet(user_id, principal, session, False)).model_dump(mode="json")


@router.get("/wallets/{address}/balance")
async def wallet_balance(
    address: Annotated[str, Path(max_length=128)], principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    answer = await wallets.balance(address, principal, session, False)
    return answer.model_dump(mode="json", exclude_none=True)
