"""Appending to an outage's timeline: ordered, immutable entries with a schema version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor
from app.core.clock import utcnow
from app.core.ids import new_id
from app.outages.models import Outage, TimelineEntry

SCHEMA_VERSION = 1
_ADDED_KEY = "timeline_added"


def entry_values(
    organization_id: str,
    outage_id: str,
    event: str,
    message: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id("tml"),
        "organization_id": organization_id,
        "outage_id": outage_id,
        "event": event,
        "message": message[:500],
        "actor_type": actor.type,
        "actor_id": actor.id,
        "occurred_at": utcnow(),
        "data": data or {},
        "schema_version": SCHEMA_VERSION,
    }


def append(
    session: AsyncSession,
    outage: Outage,
    event: str,
    message: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        **entry_values(outage.organization_id, outage.id, event, message, actor, data)
    )
    session.add(entry)
    remember(session, entry)
    return entry


def remember(session: AsyncSession, entry: TimelineEntry) -> None:
    """Keeps an entry this session wrote, for `added()`."""
    session.info.setdefault(_ADDED_KEY, []).append(entry)


def added(session: AsyncSession, outage_id: str) -> list[TimelineEntry]:
    """The entries this session appended to the outage (a just-created outage's timeline,
    without reading it back)."""
    return [e for e in session.info.get(_ADDED_KEY, ()) if e.outage_id == outage_id]


async def entries(session: AsyncSession, outage_id: str) -> list[TimelineEntry]:
    rows = await session.execute(
        select(TimelineEntry)
        .where(TimelineEntry.outage_id == outage_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    return list(rows.scalars())
