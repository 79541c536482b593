from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from fastapi import Body, Path, Query, Response, status

from app.core.db import SessionDep, settings_of
from app.core.errors import NotFound, ValidationFailed
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal, EngineerPrincipal
from app.stellar.errors import StellarTimeout
from app.stellar.network import is_public_key
from app.stellar.runtime import stellar_of
from app.wallets import service
from app.wallets.models import Wallet
from app.wallets.schemas import (
    ENTITY_PATTERN,
    PUBLIC_KEY_SCHEMA,
    AssetBalance,
    BalanceOut,
    WalletCreate,
    WalletCreated,
    WalletFund,
    WalletOut,
    WalletRegister,
)

router = APIRouter(prefix="/wallets", tags=["Wallets"])

EntityId = Annotated[str, Path(pattern=ENTITY_PATTERN)]
Refresh = Annotated[bool, Query(description="Force a live read instead of the cache")]


async def _wallet_out(session: SessionDep, wallet: Wallet, refresh: bool) -> WalletOut:
    identity = {
        "entity_id": wallet.entity_id,
        "user_id": wallet.entity_id,
        "address": wallet.address,
        "public_key": wallet.address,
        "created_at": wallet.created_at,
        "last_updated": wallet.updated_at,
    }
    try:
        view = await service.ledger_view(session, wallet.address, refresh=refresh)
    except StellarTimeout:  # the registration stands; its ledger state is unknown for now
        return WalletOut(
            **identity,
            funded=None,
            active=None,
            trustline_ready=None,
            cached_at=None,
            cache_status="unavailable",
            cache_ttl_seconds=0,
        )
    usdc = view.usdc(stellar_of(session).network.usdc.issuer or "")
    return WalletOut(
        **identity,
        funded=view.funded,
        active=view.funded,
        trustline_ready=usdc is not None,
        cached_at=view.fetched_at,
        cache_status=view.cache_status,
        cache_ttl_seconds=view.ttl_remaining,
    )


@router.post(
    "",
    response_model=WalletOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register an entity's wallet (public key only)",
    responses={200: {"description": "The entity's wallet was replaced", "model": WalletOut}},
)
async def register_wallet(
    body: WalletRegister, principal: AdminPrincipal, session: SessionDep, response: Response
) -> WalletOut:
    """`operator` pays penalties, `ops_team` receives rewards; any other entity id (a user's)
    may hold a wallet too. A secret seed is refused and never echoed."""
    wallet, created = await service.register(
        session, principal.organization_id, body.entity_id, body.address, principal.actor
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return await _wallet_out(session, wallet, refresh=False)


@router.post(
    "/create",
    response_model=WalletCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a keypair for a user",
)
async def create_wallet(
    body: WalletCreate, principal: EngineerPrincipal, session: SessionDep, response: Response
) -> WalletCreated:
    """The secret seed is in this response only: it is never stored, logged or replayed (an
    idempotent retry of this request answers 409 instead)."""
    wallet, keypair = await service.create_for_user(
        session, principal.organization_id, body.user_id, principal.actor
    )
    return WalletCreated(
        user_id=body.user_id,
        entity_id=wallet.entity_id,
        public_key=wallet.address,
        secret_seed=keypair.secret,
        created_at=wallet.created_at,
        funded=False,
        message="Wallet created. Please fund with at least 1 XLM to activate.",
    )


@router.get(
    "/address/{address}/balance",
    response_model=BalanceOut,
    response_model_exclude_none=True,
    summary="Ledger balances",
)
@router.get(
    "/{address}/balance",
    name="address_balance",
    response_model=BalanceOut,
    response_model_exclude_none=True,
    summary="Ledger balances (the seed's path)",
)
async def balance(
    address: Annotated[str, Path(max_length=128, json_schema_extra=PUBLIC_KEY_SCHEMA)],
    principal: CurrentPrincipal,
    session: SessionDep,
    refresh: Refresh = False,
) -> BalanceOut:
    """Balances of any Stellar account from the ledger, with cache metadata: `fresh` within
    WALLET_CACHE_TTL_SECONDS, `live` after a read (`refresh=true` forces one), `stale` when the
    ledger does not answer."""
    if not re.fullmatch(PUBLIC_KEY_SCHEMA["pattern"], address):
        raise ValidationFailed(
            "Not a valid Stellar public key.",
            details={
                "errors": [
                    {"loc": ["path", "address"], "msg": "not a G... StrKey", "type": "value_error"}
                ]
            },
        )
    if not is_public_key(address):
        # Shaped like a key but with a wrong checksum: no such account can exist.
        raise NotFound("No Stellar account has this address (its checksum is wrong).")
    view = await service.ledger_view(session, address, refresh=refresh)
    network = stellar_of(session).network
    balances: dict[str, AssetBalance] = {}
    for line in view.balances:
        if line["asset_type"] == "native":
            name = "XLM"
        elif (
            line["asset_code"] == network.usdc.code and line["asset_issuer"] == network.usdc.issuer
        ):
            name = "USDC"
        else:
            name = f"{line['asset_code']}:{line['asset_issuer']}"
        balances[name] = AssetBalance(**{k: v for k, v in line.items() if v is not None})
    zero = "0.0000000"
    return BalanceOut(
        address=address,
        network=settings_of(session).stellar_network.value,
        funded=view.funded,
        balances=balances,
        usdc_balance=balances["USDC"].balance if "USDC" in balances else zero,
        xlm_balance=balances["XLM"].balance if "XLM" in balances else zero,
        last_updated=view.fetched_at,
        cached_at=view.fetched_at,
        cache_status=view.cache_status,
        cache_ttl_seconds=view.ttl_remaining,
    )


@router.post(
    "/{entity_id}/fund", response_model=WalletOut, summary="Fund a wallet (local ledger only)"
)
async def fund_wallet(
    entity_id: EntityId,
    principal: AdminPrincipal,
    session: SessionDep,
    body: Annotated[WalletFund | None, Body()] = None,
) -> WalletOut:
    """Friendbot for the local ledger (the embedded default): the entity's account is created
    (or topped up) with `xlm`, given the USDC trustline, and credited `usdc` (defaults: 10 000
    XLM, 100 000 USDC, as the demo's wallets). 409 `LOCAL_LEDGER_ONLY` on testnet or mainnet
    and in production."""
    terms = body or WalletFund()
    wallet = await service.fund_on_local_ledger(
        session, entity_id, Decimal(terms.xlm), Decimal(terms.usdc), principal.actor
    )
    return await _wallet_out(session, wallet, refresh=True)


@router.get("/{entity_id}", response_model=WalletOut, summary="An entity's wallet")
async def get_wallet(
    entity_id: EntityId, principal: CurrentPrincipal, session: SessionDep, refresh: Refresh = False
) -> WalletOut:
    """An entity's registered public key with its ledger state (funded, trustline) and cache
    metadata."""
    return await _wallet_out(session, await service.get(session, entity_id), refresh)
