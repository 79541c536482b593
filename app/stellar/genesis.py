"""The local ledger's starting state: a funded pool holding USDC, so payouts work from the
first `make run`. Idempotent; the real networks are never touched."""

from __future__ import annotations

from decimal import Decimal

from app.stellar.local import LocalLedger

POOL_USDC = Decimal(1_000_000)


async def ensure_local_pool(ledger: LocalLedger) -> None:
    pool = ledger.network.pool_address
    if await ledger.account(pool) is not None:
        return
    await ledger.fund(pool)
    await ledger.trust(pool)
    await ledger.mint(pool, POOL_USDC)


async def open_local_account(
    ledger: LocalLedger, account_id: str, usdc: Decimal = Decimal(0), *, trust: bool = True
) -> None:
    """A funded account, with a USDC trustline (and balance) unless told otherwise."""
    await ledger.fund(account_id)
    if trust:
        await ledger.trust(account_id)
        if usdc:
            await ledger.mint(account_id, usdc)
