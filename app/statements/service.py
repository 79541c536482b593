"""A counterparty's statement for a period: a live draft while the period is open, frozen
once it closes (its end plus STATEMENT_CLOSE_DELAY_HOURS, for late confirmations to land):
the canonical document is stored, its SHA-256 anchored on the ledger, and every later read
returns the same bytes (record 0019)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import service as contracts
from app.contracts.models import Counterparty
from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.db import Database, settings_of
from app.core.errors import NotFound, ValidationFailed
from app.core.locks import transaction_lock
from app.core.tenancy import system_session, tenant_session
from app.identity.models import Organization
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change
from app.statements import document as documents
from app.statements import periods
from app.statements.models import Statement
from app.stellar.port import LedgerUnavailable
from app.stellar.runtime import stellar_of

ANCHOR = "statements.anchor"


@dataclass(frozen=True, slots=True)
class Shown:
    """The statement's bytes as JSON and what the headers say about them."""

    body: bytes
    sha256: str
    status: str  # open | closed
    statement: Statement | None  # the frozen one, once closed

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def _frozen(session: AsyncSession, counterparty_id: str, period: str) -> Statement | None:
    return (
        await session.execute(
            select(Statement).where(
                Statement.counterparty_id == counterparty_id, Statement.period == period
            )
        )
    ).scalar_one_or_none()


def _period(label: str) -> periods.Period:
    try:
        return periods.parse(label)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc),
            details={
                "errors": [{"loc": ["path", "period"], "msg": str(exc), "type": "value_error"}]
            },
        ) from None


async def _since(
    session: AsyncSession, counterparty_id: str, period: periods.Period, delay: timedelta
) -> datetime:
    """Where the statement's window starts: the previous period's close as its frozen
    statement recorded it (so a change of STATEMENT_CLOSE_DELAY_HOURS leaves no gap and
    counts nothing twice), else this period's start plus the delay."""
    try:
        before = periods.previous(period)
    except ValueError:
        return period.starts_at + delay
    frozen = await _frozen(session, counterparty_id, before.label)
    if frozen is None:
        return period.starts_at + delay
    return datetime.fromisoformat(json.loads(frozen.document)["period"]["as_of"])


async def show(session: AsyncSession, counterparty_id: str, label: str) -> Shown:
    counterparty = await contracts.get_counterparty(session, counterparty_id)
    period = _period(label)
    now = utcnow()
    delay = timedelta(hours=settings_of(session).statement_close_delay_hours)
    organization = await session.get(Organization, counterparty.organization_id)
    if organization is not None and period.ends_at <= organization.created_at:
        raise NotFound("The organization did not exist in this period: it has no statement.")
    since = await _since(session, counterparty.id, period, delay)
    if now < period.ends_at + delay:
        draft = await documents.build(
            session, counterparty, period, status="open", at=now, cutoff=now, since=since
        )
        body = documents.canonical(draft)
        return Shown(body, sha256_of(body), "open", None)
    # Two first readers of a closed period freeze it once: the second waits, then reads it.
    await transaction_lock(session, f"statement:{counterparty.id}:{period.label}")
    frozen = await _frozen(session, counterparty.id, period.label)
    if frozen is None:
        frozen = await _freeze(session, counterparty, period, now, period.ends_at + delay, since)
    body = frozen.document.encode()
    return Shown(body, frozen.sha256, "closed", frozen)


async def _freeze(
    session: AsyncSession,
    counterparty: Any,
    period: periods.Period,
    now: datetime,
    cutoff: datetime,
    since: datetime,
) -> Statement:
    """As things stood at the close (the period's end plus the delay), whenever it is first
    read (the sweep reads each soon after its close): the same content, however late."""
    closed = await documents.build(
        session, counterparty, period, status="closed", at=now, cutoff=cutoff, since=since
    )
    body = documents.canonical(closed)
    statement = Statement(
        organization_id=counterparty.organization_id,
        counterparty_id=counterparty.id,
        period=period.label,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        document=body.decode(),
        sha256=sha256_of(body),
        closed_at=now,
    )
    try:
        async with session.begin_nested():  # SQLite has no advisory lock: a lost race reads
            session.add(statement)
    except IntegrityError:
        found = await _frozen(session, counterparty.id, period.label)
        assert found is not None
        return found
    journal.record(
        session,
        Change(
            organization_id=counterparty.organization_id,
            actor=SYSTEM,
            kind="statement.closed",
            entity_type="statement",
            entity_id=statement.id,
            data={
                "counterparty_id": counterparty.id,
                "period": period.label,
                "sha256": statement.sha256,
                "net": closed["totals"]["net"],
            },
        ),
    )
    jobs.enqueue(
        session, ANCHOR, {"statement_id": statement.id}, organization_id=statement.organization_id
    )
    return statement


async def frozen_of(session: AsyncSession, counterparty_id: str) -> list[Statement]:
    await contracts.get_counterparty(session, counterparty_id)  # 404 for a foreign one
    rows = await session.execute(
        select(Statement)
        .where(Statement.counterparty_id == counterparty_id)
        .order_by(Statement.starts_at.desc())
    )
    return list(rows.scalars())


async def verify(session: AsyncSession, statement: Statement) -> dict[str, Any]:
    """What a counterparty can check: the stored document still hashes to the recorded
    SHA-256, and the ledger holds a transaction from the platform's pool whose hash memo is
    that SHA-256 (the database cannot forge that)."""
    stellar = stellar_of(session)
    recomputed = sha256_of(statement.document.encode())
    on_ledger = None
    if statement.anchor_tx_hash is not None:
        try:
            found = await stellar.ledger.find(statement.anchor_tx_hash)
        except LedgerUnavailable:
            found = None
        on_ledger = (
            found is not None
            and found.successful
            and found.memo_hash == statement.sha256
            and any(op.source == stellar.network.pool_address for op in found.payments)
        )
    return {
        "statement_id": statement.id,
        "period": statement.period,
        "sha256": statement.sha256,
        "document_matches": recomputed == statement.sha256,
        "anchor_transaction_hash": statement.anchor_tx_hash,
        "anchor_ledger": statement.anchor_ledger,
        "anchored_on_ledger": on_ledger,
        "explorer_url": stellar.network.explorer_url(statement.anchor_tx_hash),
        # Valid only once the ledger holds the anchor: before that, nothing outside the
        # database vouches for the document.
        "valid": recomputed == statement.sha256 and on_ledger is True,
    }


def _closed_lately(now: datetime, delay: timedelta) -> list[periods.Period]:
    """The last month and the last quarter whose close has passed."""
    found = []
    for label in (periods.month_of(now), periods.quarter_of(now)):
        period = periods.parse(label)
        while period.ends_at + delay > now:
            period = periods.previous(period)
        found.append(period)
    return found


async def close_due(database: Database) -> int:
    """The hourly sweep: every counterparty's statement of the last closed month and quarter
    is frozen (and anchored) soon after its close, not at its first read."""
    async with system_session(database, "counterparties whose statements close") as session:
        parties = (await session.execute(select(Counterparty))).scalars().all()
    delay = timedelta(hours=database.settings.statement_close_delay_hours)
    frozen = 0
    for party in parties:
        for period in _closed_lately(utcnow(), delay):
            async with tenant_session(database, party.organization_id) as session:
                if await _frozen(session, party.id, period.label) is not None:
                    continue
                try:
                    shown = await show(session, party.id, period.label)
                except NotFound:  # the organization did not exist yet
                    continue
                await session.commit()
                frozen += shown.statement is not None
    return frozen
