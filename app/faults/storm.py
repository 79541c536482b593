"""What an alarm storm looks like: a summary of recent fault intake, and the `fault.storm`
event that stands in for a flood of per-fault webhooks.

A fault is one (resource, type) first seen at `created_at`; its repeats are counted in
`occurrences` and dated by `last_seen_at`. So a window reports faults first seen in it
(`new_faults`, per minute) and faults that were repeated in it (`repeating_faults`, last seen in
the window, first seen before it).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.db import Database, dialect_of
from app.core.locks import transaction_lock
from app.core.tenancy import system_session, tenant_session
from app.faults import correlation
from app.faults.models import Fault
from app.journal import journal
from app.journal.entries import Change
from app.journal.models import DomainEvent
from app.outages.models import Outage

TOP = 10
# A minute with at least this many faults first seen or repeated in one organization is a
# storm: the sweep sends one `fault.storm` summary for it.
STORM_MIN_FAULTS = 100
STORM_WINDOW = timedelta(minutes=1)


def _minute(session: AsyncSession) -> Any:
    if dialect_of(session) == "postgresql":
        return func.date_trunc("minute", Fault.created_at)
    return func.strftime("%Y-%m-%dT%H:%M:00", Fault.created_at)


def _iso_minute(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:00Z")
    return f"{value}Z"


async def summary(session: AsyncSession, since: datetime, until: datetime) -> dict[str, Any]:
    """The organization's fault intake between `since` and `until` (the session's tenant)."""
    new = Fault.created_at >= since
    minute = _minute(session)
    per_minute = await session.execute(
        select(minute.label("minute"), func.count()).where(new).group_by(minute).order_by(minute)
    )
    repeating = await session.scalar(
        select(func.count()).where(Fault.last_seen_at >= since, Fault.created_at < since)
    )
    types = await session.execute(
        select(Fault.type, func.count().label("n"))
        .where(new)
        .group_by(Fault.type)
        .order_by(func.count().desc(), Fault.type)
        .limit(TOP)
    )
    # The site is derived from the ancestry path (as correlation does): grouped by path here,
    # by site in Python (one row per device at most).
    paths = await session.execute(
        select(Fault.ancestry, Fault.resource_id, func.count())
        .where(new)
        .group_by(Fault.ancestry, Fault.resource_id)
    )
    sites: Counter[str] = Counter()
    for ancestry, resource_id, count in paths:
        sites[correlation.site_name_of(Fault(ancestry=ancestry, resource_id=resource_id))] += count
    opened = await session.execute(
        select(Outage.id, Outage.site_name, Outage.severity, Outage.status)
        .join(Fault, Fault.outage_id == Outage.id)
        .where(new, Fault.opened_outage.is_(True))
        .order_by(Outage.id)
    )
    minutes = [{"minute": _iso_minute(m), "new_faults": n} for m, n in per_minute]
    return {
        "since": since,
        "until": until,
        "new_faults": sum(m["new_faults"] for m in minutes),
        "repeating_faults": repeating or 0,
        "per_minute": minutes,
        "top_sites": [{"site": s, "new_faults": n} for s, n in sites.most_common(TOP)],
        "top_types": [{"type": t, "new_faults": n} for t, n in types],
        "outages_opened": [
            {"outage_id": i, "site": site, "severity": sev, "status": st}
            for i, site, sev, st in opened
        ],
    }


async def _stormy_organizations(database: Database, since: datetime) -> list[str]:
    async with system_session(database, "find organizations in a fault storm") as session:
        rows = await session.execute(
            select(Fault.organization_id)
            .where(Fault.last_seen_at >= since)
            .group_by(Fault.organization_id)
            .having(func.count() >= STORM_MIN_FAULTS)
        )
        return [row[0] for row in rows]


async def sweep(database: Database) -> int:
    """One `fault.storm` event per organization per stormy minute (the periodic sweep).
    Idempotent: an organization already told within the window is skipped."""
    now = utcnow()
    since = now - STORM_WINDOW
    sent = 0
    for organization_id in await _stormy_organizations(database, since):
        async with tenant_session(database, organization_id) as session:
            await transaction_lock(session, f"fault-storm:{organization_id}")
            told = await session.scalar(
                select(func.count()).where(
                    DomainEvent.event_type == "fault.storm", DomainEvent.occurred_at >= since
                )
            )
            if told:
                continue
            data = await summary(session, since, now)
            if data["new_faults"] + data["repeating_faults"] < STORM_MIN_FAULTS:
                continue
            journal.record(
                session,
                Change(
                    organization_id=organization_id,
                    actor=SYSTEM,
                    kind="fault.storm",
                    entity_type="organization",
                    entity_id=organization_id,
                    publish={**data, "since": since.isoformat(), "until": now.isoformat()},
                    audited=False,
                ),
            )
            await session.commit()
            sent += 1
    return sent
