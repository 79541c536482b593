"""Writing and verifying the audit chain. Callers pass their session; nothing here commits.

`record()` writes the row unchained in the caller's transaction: it exists if and only if the
change it records commits, and no write waits for another. The chainer
(`app/audit/chaining.py`) links it right after the commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import row_hash, verifying_keys
from app.audit.chaining import WROTE_KEY
from app.audit.models import GENESIS_HASH, AuditAnchor, AuditChainHead, AuditLog
from app.config import Settings
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.ids import new_id
from app.stellar.port import LedgerUnavailable
from app.stellar.runtime import stellar_of


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
) -> None:
    """Writes an unchained audit row in the caller's transaction (gone with it, or with the
    savepoint it was written in, on a rollback); it is chained after the commit."""
    session.add(
        AuditLog(
            **row_values(
                organization_id=organization_id,
                actor=actor,
                event_type=event_type,
                entity_type=entity_type,
                entity_id=entity_id,
                data=data,
            )
        )
    )
    remember(session, organization_id)


def row_values(
    *,
    organization_id: str,
    actor: Actor,
    event_type: str,
    entity_type: str | None = None,
    entity_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of an unchained audit row."""
    return {
        "id": new_id("aud"),
        "organization_id": organization_id,
        "occurred_at": utcnow(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "event_type": event_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "correlation_id": get_correlation_id(),
        "data": canonical(data or {}),
    }


def remember(session: AsyncSession, organization_id: str) -> None:
    """The organization's chain is extended after this transaction commits."""
    session.sync_session.info.setdefault(WROTE_KEY, set()).add(organization_id)


_HASHED = (
    "prev_hash",
    "seq",
    "organization_id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "event_type",
    "entity_type",
    "entity_id",
    "correlation_id",
    "data",
)


def _hashed(row: AuditLog) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _HASHED}


@dataclass(frozen=True, slots=True)
class ChainReport:
    valid: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None
    reason: str | None
    verified_at: datetime
    anchors: int = 0
    latest_anchor: LatestAnchor | None = None
    # Rows join the chain as their transaction commits: none is ever left unchained.
    unchained: int = 0
    oldest_unchained_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LatestAnchor:
    seq: int
    hash: str
    network: str
    transaction_hash: str
    ledger: int | None
    anchored_at: datetime
    explorer_url: str | None
    # True: found on the ledger with this memo; None: the ledger did not answer.
    confirmed_on_ledger: bool | None


async def verify(session: AsyncSession, organization_id: str, settings: Settings) -> ChainReport:
    """Walks the organization's chain in order up to the head read first (rows appended while
    verifying are left for the next run), recomputing every hash with its key, then checks
    every anchor against the chain, and the latest against the ledger."""
    head = (
        await session.execute(
            select(AuditChainHead).where(AuditChainHead.organization_id == organization_id)
        )
    ).scalar_one_or_none()
    if head is None:
        return ChainReport(False, 0, 0, 1, "the chain head is missing", utcnow())
    anchors = await _anchors(session, organization_id)
    expected_at = {anchor.seq: anchor.hash for anchor in anchors}
    keys = verifying_keys(settings)
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    async for row in _rows_up_to(session, organization_id, head.seq):
        assert row.seq is not None and row.hash is not None  # chained rows only
        problem = _check(row, expected_seq, expected_prev, keys)
        if problem is None and expected_at.get(row.seq, row.hash) != row.hash:
            problem = "row does not match the hash anchored on the ledger"
        if problem:
            return ChainReport(False, checked, head.seq, row.seq, problem, utcnow(), len(anchors))
        expected_prev, expected_seq, checked = row.hash, row.seq + 1, checked + 1

    def report(
        valid: bool, broken: int | None, reason: str | None, latest: LatestAnchor | None = None
    ) -> ChainReport:
        return ChainReport(valid, checked, head.seq, broken, reason, utcnow(), len(anchors), latest)

    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        return report(False, expected_seq, "rows missing at the end")
    if anchors and anchors[-1].seq > head.seq:
        cut = f"the chain ends before row {anchors[-1].seq}, which is anchored on the ledger"
        return report(False, head.seq + 1, cut)
    latest = await _latest_on_ledger(session, anchors[-1]) if anchors else None
    if latest is not None and latest.confirmed_on_ledger is False:
        missing = "the latest anchor is not on the ledger with this hash"
        return report(False, latest.seq, missing, latest)
    unchained, oldest = (
        await session.execute(
            select(func.count(), func.min(AuditLog.occurred_at)).where(
                AuditLog.organization_id == organization_id, AuditLog.seq.is_(None)
            )
        )
    ).one()
    return replace(
        report(True, None, None, latest), unchained=unchained, oldest_unchained_at=oldest
    )


async def _anchors(session: AsyncSession, organization_id: str) -> list[AuditAnchor]:
    rows = await session.execute(
        select(AuditAnchor)
        .where(AuditAnchor.organization_id == organization_id)
        .order_by(AuditAnchor.seq)
    )
    return list(rows.scalars())


async def _latest_on_ledger(session: AsyncSession, anchor: AuditAnchor) -> LatestAnchor:
    stellar = stellar_of(session)
    try:
        found = await stellar.ledger.find(anchor.transaction_hash)
        confirmed: bool | None = (
            found is not None and found.successful and found.memo_hash == anchor.hash
        )
    except LedgerUnavailable:
        confirmed = None
    return LatestAnchor(
        seq=anchor.seq,
        hash=anchor.hash,
        network=anchor.network,
        transaction_hash=anchor.transaction_hash,
        ledger=anchor.ledger,
        anchored_at=anchor.anchored_at,
        explorer_url=stellar.network.explorer_url(anchor.transaction_hash),
        confirmed_on_ledger=confirmed,
    )


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
        last_seq = batch[-1].seq or last_seq


def _check(
    row: AuditLog, expected_seq: int, expected_prev: str, keys: dict[str, bytes]
) -> str | None:
    if row.seq != expected_seq:
        return f"row {expected_seq} is missing"
    if row.prev_hash != expected_prev:
        return "previous hash does not match"
    key = keys.get(row.key_id or "")
    if key is None:
        return "row signed with a key this service does not hold"
    if row.hash != row_hash(**_hashed(row), key=key):
        return "row content does not match its hash"
    return None
