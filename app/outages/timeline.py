"""Reading an outage's timeline: ordered, immutable entries with a schema version, written by
the journal (`app.journal.journal.record` with a `Note`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.journal.journal import journal_of
from app.journal.models import TimelineEntry


def added(session: AsyncSession, outage_id: str) -> list[TimelineEntry]:
    """The entries this session appended to the outage (a just-created outage's timeline,
    without reading it back)."""
    return [
        TimelineEntry(**entry)
        for entry in journal_of(session).added
        if entry["outage_id"] == outage_id
    ]


async def entries(session: AsyncSession, outage_id: str) -> list[TimelineEntry]:
    rows = await session.execute(
        select(TimelineEntry)
        .where(TimelineEntry.outage_id == outage_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    return list(rows.scalars())
