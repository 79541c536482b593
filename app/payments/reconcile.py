"""Reconciliation: every payment compared with the ledger, by hash, amount, destination,
source and asset, and what does not agree reported.

Kinds of mismatch:
- `missing_on_ledger`: confirmed here, but no transaction with its hash is on the ledger;
- `failed_on_ledger`: confirmed here, but the ledger recorded its transaction as failed;
- `not_confirmed_here`: its transaction succeeded on the ledger, but it is not confirmed here;
- `amount_differs`, `destination_differs`, `source_differs`, `asset_differs`: the ledger's
  payment operation says otherwise than the payment.

A payment with no envelope yet (or one that never left) has nothing on the ledger to compare.
Reconciliation only reports: it never changes a payment (a mismatch is for a person to look
at; `POST /payments/{id}/retry` and the payout job settle what is merely late).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import SYSTEM, Actor
from app.core.clock import utcnow
from app.core.db import Database
from app.core.tenancy import system_session, tenant_session
from app.journal import journal
from app.journal.entries import Change
from app.payments.models import Payment, PaymentStatus, ReconciliationRun
from app.stellar.port import LedgerUnavailable, PaymentOperation, Submission
from app.stellar.runtime import Stellar, stellar_of

log = structlog.get_logger(__name__)
PAGE = 500


@dataclass(frozen=True, slots=True)
class Mismatch:
    payment_id: str
    kind: str
    transaction_hash: str | None
    expected: str | None = None
    on_ledger: str | None = None


def compare(
    payment: Payment, found: Submission | None, usdc: tuple[str, str | None]
) -> list[Mismatch]:
    """What disagrees between a payment and its transaction on the ledger. Pure."""
    tx_hash = payment.transaction_hash
    confirmed = payment.status == PaymentStatus.confirmed
    if found is None:
        return [Mismatch(payment.id, "missing_on_ledger", tx_hash)] if confirmed else []
    if not found.successful:
        return [Mismatch(payment.id, "failed_on_ledger", tx_hash)] if confirmed else []
    found_here: list[Mismatch] = []
    if not confirmed:
        found_here.append(
            Mismatch(payment.id, "not_confirmed_here", tx_hash, payment.status, "successful")
        )
    operation = _operation(payment, found.payments)
    if operation is None:
        return [*found_here, Mismatch(payment.id, "amount_differs", tx_hash, str(payment.amount))]
    checks = (
        ("amount_differs", _amount(payment.amount), _amount(operation.amount)),
        ("destination_differs", payment.to_address, operation.destination),
        ("source_differs", payment.from_address, operation.source),
        ("asset_differs", ":".join(filter(None, usdc)), _asset(operation)),
    )
    found_here.extend(
        Mismatch(payment.id, kind, tx_hash, expected, actual)
        for kind, expected, actual in checks
        if expected != actual
    )
    return found_here


def _operation(
    payment: Payment, operations: tuple[PaymentOperation, ...]
) -> PaymentOperation | None:
    index = payment.batch_index or 0
    return operations[index] if index < len(operations) else None


def _amount(value: Decimal) -> str:
    return f"{value:.7f}"


def _asset(operation: PaymentOperation) -> str:
    if operation.asset_code is None:
        return "XLM"
    return f"{operation.asset_code}:{operation.asset_issuer}"


async def _payments(session: AsyncSession) -> AsyncIterator[list[Payment]]:
    """The organization's payments that have a transaction, in pages (id order)."""
    after = ""
    while True:
        page = list(
            (
                await session.execute(
                    select(Payment)
                    .where(Payment.transaction_hash.is_not(None), Payment.id > after)
                    .order_by(Payment.id)
                    .limit(PAGE)
                )
            ).scalars()
        )
        if not page:
            return
        yield page
        after = page[-1].id


async def check_one(session: AsyncSession, stellar: Stellar, payment: Payment) -> list[Mismatch]:
    """Raises LedgerUnavailable when the ledger does not answer."""
    if payment.transaction_hash is None:
        return []
    found = await stellar.ledger.find(payment.transaction_hash)
    usdc = stellar.network.usdc
    return compare(payment, found, (usdc.code, usdc.issuer))


async def run(
    session: AsyncSession, organization_id: str, *, trigger: str, actor: Actor
) -> ReconciliationRun:
    """Every payment of the organization against the ledger; the run (and an audit row)
    records what was found. The caller commits."""
    stellar = stellar_of(session)
    record = ReconciliationRun(
        organization_id=organization_id,
        trigger=trigger,
        requested_by=actor.id,
        started_at=utcnow(),
    )
    found: list[Mismatch] = []
    checked = 0
    async for page in _payments(session):
        for payment in page:
            found.extend(await check_one(session, stellar, payment))
            checked += 1
    record.status, record.finished_at = "done", utcnow()
    record.checked, record.mismatch_count = checked, len(found)
    record.mismatches = [asdict(m) for m in found]
    session.add(record)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="payments.reconciled",
            entity_type="reconciliation_run",
            entity_id=record.id,
            data={"checked": checked, "mismatches": len(found), "kinds": _kinds(found)},
        ),
    )
    return record


def _kinds(found: list[Mismatch]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for mismatch in found:
        counted[mismatch.kind] = counted.get(mismatch.kind, 0) + 1
    return counted


def summary(record: ReconciliationRun) -> dict[str, Any]:
    return {
        "id": record.id,
        "checked": record.checked,
        "mismatch_count": record.mismatch_count,
        "mismatches": record.mismatches,
    }


async def reconcile_all(database: Database, *, trigger: str = "sweep") -> list[ReconciliationRun]:
    """Every organization that has payments (the daily sweep, `apexchainx reconcile --all`).
    An organization the ledger could not be asked about is skipped and logged; the next run
    takes it."""
    async with system_session(database, "organizations with payments") as session:
        organizations = list(
            (await session.execute(select(Payment.organization_id).distinct())).scalars()
        )
    runs = []
    for organization_id in organizations:
        try:
            runs.append(await reconcile_one(database, organization_id, trigger=trigger))
        except LedgerUnavailable:
            log.warning("reconciliation_deferred", organization_id=organization_id)
    return runs


async def reconcile_one(
    database: Database, organization_id: str, *, trigger: str
) -> ReconciliationRun:
    async with tenant_session(database, organization_id) as session:
        record = await run(session, organization_id, trigger=trigger, actor=SYSTEM)
        await session.commit()
    if record.mismatch_count:
        log.warning(
            "reconciliation_mismatches",
            organization_id=organization_id,
            mismatches=record.mismatch_count,
        )
    return record


async def sweep(database: Database) -> int:
    return sum(r.mismatch_count for r in await reconcile_all(database))
