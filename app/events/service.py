"""Emitting domain events: a row in the caller's transaction, so an event exists if and only
if the change it describes committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.ids import new_id
from app.events.catalog import EVENT_TYPES
from app.events.models import DomainEvent

# (event id, organization id, event type) of the events added in a session: webhook fan-out
# turns them into deliveries before the transaction commits.
EMITTED_KEY = "events_emitted"


def event_values(
    *,
    organization_id: str,
    event_type: str,
    entity_type: str,
    entity_id: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    return {
        "id": new_id("evt"),
        "organization_id": organization_id,
        "event_type": event_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "occurred_at": utcnow(),
        "schema_version": 1,
        "correlation_id": get_correlation_id(),
        "data": data,
    }


async def emit_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement (bulk import)."""
    if rows:
        await session.execute(insert(DomainEvent), rows)
        session.info.setdefault(EMITTED_KEY, []).extend(
            (row["id"], row["organization_id"], row["event_type"]) for row in rows
        )


def emit(
    session: AsyncSession,
    *,
    organization_id: str,
    event_type: str,
    entity_type: str,
    entity_id: str,
    data: dict[str, Any],
) -> DomainEvent:
    event = DomainEvent(
        **event_values(
            organization_id=organization_id,
            event_type=event_type,
            entity_type=entity_type,
            entity_id=entity_id,
            data=data,
        )
    )
    session.add(event)
    remember(session, event.id, organization_id, event_type)
    return event


def remember(session: AsyncSession, event_id: str, organization_id: str, event_type: str) -> None:
    """The event joins this transaction's webhook fan-out."""
    session.info.setdefault(EMITTED_KEY, []).append((event_id, organization_id, event_type))
