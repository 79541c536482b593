"""Writing and verifying the audit chain. Callers pass their session; nothing here commits.

`record()` only queues the row in the session. The chain is extended when the transaction
commits (`install_chaining`, a `before_commit` hook): the organization's chain head is locked,
the queued rows get their sequence numbers and keyed hashes, and they are inserted with the
new head, so the lock is held for the commit alone. Creates in one organization no longer
wait for each other's whole transaction; the chain stays gap-free (a rolled-back transaction
takes its rows and the head with it) and in commit order (the head lock orders the commits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.chain import row_hash, signing_key, verifying_keys
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
PENDING_KEY = "audit_pending"


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
    """Queues an audit row; it joins the chain when the transaction commits (or disappears
    with it, or with the savepoint it was recorded in, on a rollback)."""
    sync = session.sync_session
    scope = sync.get_nested_transaction() or sync.get_transaction()
    sync.info.setdefault(PENDING_KEY, []).append(
        (
            scope,
            {
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
            },
        )
    )


def _chain(session: Session, settings: Settings) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    by_organization: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, values in pending:
        by_organization[values["organization_id"]].append(values)
    key_id, key = signing_key(settings)
    for organization_id in sorted(by_organization):  # one lock order: no deadlocks
        head = session.execute(
            select(AuditChainHead.id, AuditChainHead.seq, AuditChainHead.hash)
            .where(AuditChainHead.organization_id == organization_id)
            .with_for_update()
        ).one()
        seq, previous = head.seq, head.hash
        rows = []
        for values in by_organization[organization_id]:
            seq += 1
            row = {**values, "seq": seq, "prev_hash": previous, "key_id": key_id}
            row["hash"] = previous = row_hash(**_hashed(row), key=key)
            rows.append(row)
        session.execute(insert(AuditLog), rows)
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == head.id)
            .values(seq=seq, hash=previous)
            .execution_options(synchronize_session=False)
        )


def _within(scope: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while scope is not None:
        if scope is ended:
            return True
        scope = scope.parent
    return False


def install_chaining(session_class: type[Session], settings: Settings) -> None:
    @event.listens_for(session_class, "before_commit")
    def _extend_chain(session: Session) -> None:
        if not session.in_nested_transaction():
            _chain(session, settings)

    @event.listens_for(session_class, "after_soft_rollback")
    def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
        pending = session.info.get(PENDING_KEY)
        if not pending:
            return
        if previous_transaction.parent is None:  # the whole transaction rolled back
            session.info.pop(PENDING_KEY, None)
            return
        kept = [(s, v) for s, v in pending if not _within(s, previous_transaction)]
        session.info[PENDING_KEY] = kept


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


def _hashed(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return {name: get(name) for name in _HASHED}


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
    return report(True, None, None, latest)


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
        last_seq = batch[-1].seq


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
