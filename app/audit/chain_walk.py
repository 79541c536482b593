"""Walking an organization's chain in order: each row's link and keyed hash, and the hashes
the ledger anchors at its sequence number. Reads only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import row_hash
from app.audit.ledger_scan import LedgerAnchor, anchor_of
from app.audit.models import GENESIS_HASH
from app.journal.models import AuditLog
from app.stellar.port import AccountTransaction

_VERIFY_BATCH = 1000
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


@dataclass
class Walk:
    checked: int = 0
    next_seq: int = 1
    last_hash: str = GENESIS_HASH
    broken: int | None = None
    problem: str | None = None
    started_at: datetime | None = None  # row 1


async def walk(
    session: AsyncSession,
    organization_id: str,
    head_seq: int,
    keys: dict[str, bytes],
    anchors: dict[str, LedgerAnchor],
    memos: dict[str, AccountTransaction],
) -> Walk:
    """The chain in order up to `head_seq`; each row against the `anchors` of its seq. A row
    whose hash is one of the pool's unattributed `memos` was anchored before attribution
    existed: that anchor joins `anchors`."""
    expected: dict[int, list[LedgerAnchor]] = {}
    for anchor in anchors.values():
        expected.setdefault(anchor.seq, []).append(anchor)
    done = Walk()
    async for row in _rows_up_to(session, organization_id, head_seq):
        assert row.seq is not None and row.hash is not None  # chained rows only
        problem = _check(row, done.next_seq, done.last_hash, keys) or _against(
            row.hash, expected.get(row.seq, ())
        )
        if problem:
            done.broken, done.problem = row.seq, problem
            return done
        old_style = memos.get(row.hash)
        if old_style is not None:
            anchors.setdefault(old_style.hash, anchor_of(old_style, row.seq))
        if row.seq == 1:
            done.started_at = row.occurred_at
        done.next_seq, done.last_hash, done.checked = row.seq + 1, row.hash, done.checked + 1
    return done


def _against(row_hash_: str, anchors: Iterable[LedgerAnchor]) -> str | None:
    if any(anchor.hash != row_hash_ for anchor in anchors):
        return "row does not match the hash anchored on the ledger"
    return None


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
    if row.hash != row_hash(**{name: getattr(row, name) for name in _HASHED}, key=key):
        return "row content does not match its hash"
    return None
