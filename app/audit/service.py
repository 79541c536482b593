"""Writing and verifying the audit chain. Callers pass their session; nothing here commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import row_hash
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditLog
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "user", "api_key" or "system"
    id: str | None = None


SYSTEM = Actor("system")

_VERIFY_BATCH = 1000


def canonical(value: Any) -> Any:
    """JSON the database gives back unchanged: no floats (JSONB may reprint them), no
    non-string keys. What is hashed is exactly what is stored."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def start_chain(session: AsyncSession, organization_id: str) -> None:
    session.add(AuditChainHead(organization_id=organization_id, seq=0, hash=GENESIS_HASH))


async def record(
    session: AsyncSession,
    *,
    organization_id: str,
    actor: Actor,
    event_type: str,
    entity_type: str | None = None,
    entity_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    head = (
        await session.execute(
            select(AuditChainHead)
            .where(AuditChainHead.organization_id == organization_id)
            .with_for_update()
        )
    ).scalar_one()
    row = AuditLog(
        organization_id=organization_id,
        seq=head.seq + 1,
        occurred_at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        event_type=event_type,
        entity_type=entity_type,
        entity_id=entity_id,
        correlation_id=get_correlation_id(),
        data=canonical(data or {}),
        prev_hash=head.hash,
    )
    row.hash = _hash_of(row)
    head.seq, head.hash = row.seq, row.hash
    session.add(row)
    return row


def _hash_of(row: AuditLog) -> str:
    return row_hash(
        prev_hash=row.prev_hash,
        seq=row.seq,
        organization_id=row.organization_id,
        occurred_at=row.occurred_at,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        event_type=row.event_type,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        correlation_id=row.correlation_id,
        data=row.data,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    valid: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None
    reason: str | None
    verified_at: datetime


async def verify(session: AsyncSession, organization_id: str) -> ChainReport:
    """Walks the organization's chain in order up to the head read first (rows appended while
    verifying are left for the next run), recomputing every hash."""
    head = (
        await session.execute(
            select(AuditChainHead).where(AuditChainHead.organization_id == organization_id)
        )
    ).scalar_one_or_none()
    if head is None:
        return ChainReport(False, 0, 0, 1, "the chain head is missing", utcnow())
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    async for row in _rows_up_to(session, organization_id, head.seq):
        problem = _check(row, expected_seq, expected_prev)
        if problem:
            return ChainReport(False, checked, head.seq, row.seq, problem, utcnow())
        expected_prev, expected_seq, checked = row.hash, row.seq + 1, checked + 1
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        return ChainReport(
            False, checked, head.seq, expected_seq, "rows missing at the end", utcnow()
        )
    return ChainReport(True, checked, head.seq, None, None, utcnow())


async def _rows_up_to(
    session: AsyncSession, organization_id: str, head_seq: int
) -> AsyncIterator[AuditLog]:
    """The chain in order, fetched in batches so memory stays flat on a long chain."""
    last_seq = 0
    while True:
        batch = (
            (
                await session.execute(
                    select(AuditLog)
                    .where(
                        AuditLog.organization_id == organization_id,
                        AuditLog.seq > last_seq,
                        AuditLog.seq <= head_seq,
                    )
                    .order_by(AuditLog.seq)
                    .limit(_VERIFY_BATCH)
                )
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        for row in batch:
            yield row
        last_seq = batch[-1].seq


def _check(row: AuditLog, expected_seq: int, expected_prev: str) -> str | None:
    if row.seq != expected_seq:
        return f"row {expected_seq} is missing"
    if row.prev_hash != expected_prev:
        return "previous hash does not match"
    if row.hash != _hash_of(row):
        return "row content does not match its hash"
    return None
