"""Writing and verifying the audit chain. Callers pass their session; nothing here commits.

`record()` writes the row unchained in the caller's transaction: it exists if and only if the
change it records commits, and no write waits for another. The chainer
(`app/audit/chaining.py`) links it right after the commit; `verify` (`app/audit/verify.py`)
checks the chain and its anchors on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chaining import WROTE_KEY
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditLog
from app.audit.verify import ChainReport, LatestAnchor, verify
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.ids import new_id

__all__ = [  # `verify` and its report live in app/audit/verify.py; callers reach them here
    "SYSTEM",
    "Actor",
    "ChainReport",
    "LatestAnchor",
    "canonical",
    "record",
    "remember",
    "row_values",
    "start_chain",
    "verify",
]


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "user", "api_key" or "system"
    id: str | None = None


SYSTEM = Actor("system")


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
