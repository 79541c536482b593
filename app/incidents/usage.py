"""Monthly quotas per organization: events (incidents reported) and investigations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from math import ceil

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import isoformat, utcnow
from app.core.db import dialect_of, settings_of
from app.core.errors import AppError
from app.core.ids import new_id
from app.identity.models import Organization
from app.incidents.models import MonthlyUsage


class QuotaExceeded(AppError):
    status_code = 429

    def __init__(self, kind: str, limit: int) -> None:
        resets = next_month_start()
        super().__init__(
            f"Your plan's monthly {kind} quota ({limit}) has been reached.",
            code=f"{kind}_quota_exceeded",
            details={
                "quota": kind,
                "limit": limit,
                "month": month(),
                "resets_at": isoformat(resets),
            },
            # Seconds to the next quota period, as for any other 429.
            headers={"Retry-After": str(max(1, ceil((resets - utcnow()).total_seconds())))},
        )


def month() -> str:
    return utcnow().strftime("%Y-%m")


def next_month_start() -> datetime:
    now = utcnow()
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Usage:
    plan: str
    month: str
    events_limit: int
    events_used: int
    investigations_limit: int
    investigations_used: int

    @property
    def events_remaining(self) -> int:
        return max(0, self.events_limit - self.events_used)

    @property
    def investigations_remaining(self) -> int:
        return max(0, self.investigations_limit - self.investigations_used)


async def _row(session: AsyncSession, organization_id: str) -> MonthlyUsage:
    """This month's counters, created if missing and locked until commit."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    await session.execute(
        insert(MonthlyUsage)
        .values(
            id=new_id("use"),
            organization_id=organization_id,
            month=month(),
            events_used=0,
            investigations_used=0,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "month"])
    )
    return (
        await session.execute(
            select(MonthlyUsage)
            .where(MonthlyUsage.month == month())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def current(session: AsyncSession, organization_id: str) -> Usage:
    organization = await session.get(Organization, organization_id)
    plan = organization.plan if organization else "standard"
    limits = settings_of(session).quota_plans.get(plan) or {"events": 0, "investigations": 0}
    row = (
        await session.execute(select(MonthlyUsage).where(MonthlyUsage.month == month()))
    ).scalar_one_or_none()
    return Usage(
        plan,
        month(),
        limits.get("events", 0),
        row.events_used if row else 0,
        limits.get("investigations", 0),
        row.investigations_used if row else 0,
    )


async def consume(session: AsyncSession, organization_id: str, kind: str) -> Usage:
    """Takes one `event` or `investigation` from this month's quota, or 429."""
    usage = await current(session, organization_id)
    row = await _row(session, organization_id)
    if kind == "event":
        if row.events_used >= usage.events_limit:
            raise QuotaExceeded("event", usage.events_limit)
        row.events_used += 1
    else:
        if row.investigations_used >= usage.investigations_limit:
            raise QuotaExceeded("investigation", usage.investigations_limit)
        row.investigations_used += 1
    return await current(session, organization_id)
