"""Wallets: registering public keys, creating keypairs, and reading the ledger through a
shared cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Keypair

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import dialect_of, settings_of
from app.core.errors import Conflict, NotFound
from app.core.loading import get_or_404
from app.identity.models import User
from app.journal import journal
from app.journal.entries import Change
from app.stellar.errors import StellarTimeout
from app.stellar.network import USDC, amount_text
from app.stellar.port import AccountInfo, LedgerUnavailable
from app.stellar.runtime import stellar_of
from app.wallets.models import BalanceCache, Wallet

OPERATOR = "operator"  # pays penalties
OPS_TEAM = "ops_team"  # receives rewards


async def wallet_of(session: AsyncSession, entity_id: str) -> Wallet | None:
    return (
        await session.execute(select(Wallet).where(Wallet.entity_id == entity_id))
    ).scalar_one_or_none()


async def get(session: AsyncSession, entity_id: str) -> Wallet:
    wallet = await wallet_of(session, entity_id)
    if wallet is None:
        raise NotFound("No wallet is registered for this entity.")
    return wallet


async def register(
    session: AsyncSession, organization_id: str, entity_id: str, address: str, actor: Actor
) -> tuple[Wallet, bool]:
    """Registers or replaces an entity's public key; True when it is new."""
    wallet = await wallet_of(session, entity_id)
    created = wallet is None
    previous = None if wallet is None else wallet.address
    if wallet is None:
        wallet = Wallet(
            organization_id=organization_id,
            entity_id=entity_id,
            address=address,
            created_by=actor.id,
        )
        session.add(wallet)
    elif wallet.address == address:
        return wallet, False
    else:
        wallet.address = address
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="wallet.registered" if created else "wallet.changed",
            entity_type="wallet",
            entity_id=wallet.id,
            data={"entity_id": entity_id, "address": address, "previous_address": previous},
        ),
    )
    return wallet, created


async def create_for_user(
    session: AsyncSession, organization_id: str, user_id: str, actor: Actor
) -> tuple[Wallet, Keypair]:
    """A fresh keypair registered as the user's wallet. The seed goes back to the caller and
    nowhere else."""
    await get_or_404(session, User, user_id, "User not found.")
    if await wallet_of(session, user_id) is not None:
        raise Conflict("This user already has a wallet.", details={"user_id": user_id})
    keypair = Keypair.random()
    wallet, _ = await register(session, organization_id, user_id, keypair.public_key, actor)
    return wallet, keypair


@dataclass(frozen=True, slots=True)
class LedgerView:
    address: str
    funded: bool
    sequence: int | None
    balances: list[dict[str, Any]]
    fetched_at: datetime
    cache_status: str
    ttl_remaining: int

    def usdc(self, issuer: str) -> dict[str, Any] | None:
        return next(
            (
                b
                for b in self.balances
                if b.get("asset_code") == USDC and b.get("asset_issuer") == issuer
            ),
            None,
        )

    def native(self) -> dict[str, Any] | None:
        return next((b for b in self.balances if b["asset_type"] == "native"), None)


def _lines(info: AccountInfo | None) -> list[dict[str, Any]]:
    if info is None:
        return []
    return [
        {
            "asset_type": line.asset_type,
            "balance": amount_text(line.balance),
            "asset_code": line.asset_code,
            "asset_issuer": line.asset_issuer,
        }
        for line in info.balances
    ]


async def _store(session: AsyncSession, row: dict[str, Any]) -> None:
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    statement = insert(BalanceCache).values(**row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[BalanceCache.address],
            set_={k: statement.excluded[k] for k in row if k != "address"},
        )
    )


async def ledger_view(session: AsyncSession, address: str, *, refresh: bool) -> LedgerView:
    """Fresh from the cache within `WALLET_CACHE_TTL_SECONDS`; otherwise a live read, or the
    stale copy when the ledger does not answer."""
    ttl = settings_of(session).wallet_cache_ttl_seconds
    now = utcnow()
    cached = await session.get(BalanceCache, address)
    if cached is not None and not refresh:
        age = (now - cached.fetched_at).total_seconds()
        if age < ttl:
            return _view(cached, "fresh", int(ttl - age))
    try:
        info = await stellar_of(session).ledger.account(address)
    except LedgerUnavailable:
        if cached is None:
            raise StellarTimeout(
                "The ledger did not answer and no cached balance exists."
            ) from None
        return _view(cached, "stale", 0)
    row: dict[str, Any] = {
        "address": address,
        "funded": info is not None,
        "sequence": info.sequence if info else None,
        "balances": _lines(info),
        "fetched_at": now,
    }
    await _store(session, row)
    return LedgerView(address, row["funded"], row["sequence"], row["balances"], now, "live", ttl)


def _view(cached: BalanceCache, status: str, remaining: int) -> LedgerView:
    return LedgerView(
        cached.address,
        cached.funded,
        cached.sequence,
        list(cached.balances),
        cached.fetched_at,
        status,
        remaining,
    )


LOCAL_ONLY = (
    "Funding is only available on the local ledger. On testnet, fund the account with "
    "friendbot (https://friendbot.stellar.org/?addr=<address>) and add the USDC trustline "
    "from the account itself."
)


async def fund_on_local_ledger(
    session: AsyncSession, entity_id: str, xlm: Decimal, usdc: Decimal, actor: Actor
) -> Wallet:
    """Friendbot for the local ledger: the entity's account gets `xlm` (created when new), the
    USDC trustline, and `usdc` from the issuer. Each step is the ledger's own transaction, as
    on a real network; a retry tops the account up again, as friendbot does."""
    wallet = await get(session, entity_id)
    local = stellar_of(session).local
    if local is None or settings_of(session).is_production:
        raise Conflict(LOCAL_ONLY, code="LOCAL_LEDGER_ONLY", details={"entity_id": entity_id})
    await local.fund(wallet.address, xlm)
    await local.trust(wallet.address)
    if usdc:
        await local.mint(wallet.address, usdc)
    journal.record(
        session,
        Change(
            organization_id=wallet.organization_id,
            actor=actor,
            kind="wallet.funded",
            entity_type="wallet",
            entity_id=wallet.id,
            data={"entity_id": entity_id, "address": wallet.address, "usdc": str(usdc)},
        ),
    )
    return wallet
