"""The figures a dashboard draws: KPIs over a date range with severity and site filters,
compared with the window just before, and the same figures as a gap-free series.

One implementation for the seed's `/sla/analytics/dashboard` and `/trends` (and any browser
surface built on them). Outcomes are the latest SLA result of each outage resolved in the
range; `outages_detected` counts every outage detected in it, open ones included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.service import joined, outcome_columns, outcome_of
from app.core.db import dialect_of
from app.core.portable import bucket
from app.outages.models import Outage, OutageStatus
from app.sla.models import SlaResult

TrendGranularity = Literal["day", "week"]
MAX_BUCKETS = 400  # a year and a month of days, or eight years of weeks


@dataclass(frozen=True)
class DashboardFilters:
    start: datetime
    end: datetime
    severity: str | None = None
    site: str | None = None  # a site id or name

    def previous(self) -> DashboardFilters:
        """The window of the same length that ends where this one starts."""
        return replace(self, start=self.start - (self.end - self.start), end=self.start)

    def _scope(self) -> list[Any]:
        conditions: list[Any] = []
        if self.severity is not None:
            conditions.append(Outage.severity == self.severity)
        if self.site is not None:
            conditions.append(or_(Outage.site_id == self.site, Outage.site_name == self.site))
        return conditions

    def resolved(self) -> list[Any]:
        return [
            SlaResult.is_latest.is_(True),
            Outage.status == OutageStatus.resolved,
            Outage.resolved_at >= self.start,
            Outage.resolved_at < self.end,
            *self._scope(),
        ]

    def detected(self) -> list[Any]:
        return [Outage.detected_at >= self.start, Outage.detected_at < self.end, *self._scope()]


def _with_compliance(outcome: dict[str, Any]) -> dict[str, Any]:
    evaluated = outcome["outages_evaluated"]
    rate = round(100 * outcome["sla_met"] / evaluated, 2) if evaluated else None
    return {**outcome, "compliance_rate": rate}


async def _percentile(
    session: AsyncSession, filters: DashboardFilters, share: float, n: int
) -> int | None:
    """Nearest-rank percentile of the MTTRs (the same on every database)."""
    if n == 0:
        return None
    rank = max(1, math.ceil(share * n - 1e-9))
    value = await session.scalar(
        joined(select(SlaResult.mttr_minutes))
        .where(*filters.resolved())
        .order_by(SlaResult.mttr_minutes)
        .offset(rank - 1)
        .limit(1)
    )
    return None if value is None else int(value)


async def kpis(session: AsyncSession, filters: DashboardFilters) -> dict[str, Any]:
    row = (
        await session.execute(joined(select(*outcome_columns())).where(*filters.resolved()))
    ).one()
    outcome = _with_compliance(outcome_of(row))
    detected = await session.scalar(select(func.count(Outage.id)).where(*filters.detected()))
    evaluated = outcome["outages_evaluated"]
    return {
        "outages_detected": int(detected or 0),
        **outcome,
        "mttr_p50_minutes": await _percentile(session, filters, 0.5, evaluated),
        "mttr_p90_minutes": await _percentile(session, filters, 0.9, evaluated),
    }


def _change(now: Any, before: Any) -> Any:
    return None if now is None or before is None else round(now - before, 2)


async def dashboard(session: AsyncSession, filters: DashboardFilters) -> dict[str, Any]:
    current = await kpis(session, filters)
    earlier = filters.previous()
    previous = await kpis(session, earlier)
    compared = (
        *("outages_detected", "outages_evaluated", "compliance_rate", "average_mttr_minutes"),
        *("total_penalties", "total_rewards", "net_amount"),
    )
    return {
        **current,
        "previous": {"start": earlier.start, "end": earlier.end, **previous},
        "change": {name: _change(current[name], previous[name]) for name in compared},
    }


def bucket_starts(start: datetime, end: datetime, granularity: TrendGranularity) -> list[date]:
    """Every bucket the range touches, as the database labels them (UTC days, ISO weeks)."""
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    step = 1
    if granularity == "week":
        first -= timedelta(days=first.weekday())
        step = 7
    days = []
    while first <= last:
        days.append(first)
        first += timedelta(days=step)
    return days


async def trends(
    session: AsyncSession, filters: DashboardFilters, granularity: TrendGranularity
) -> list[dict[str, Any]]:
    """One entry per bucket of the range, zeros where nothing was resolved (a chart draws
    every day, not only the busy ones)."""
    period = bucket(Outage.resolved_at, granularity, dialect_of(session)).label("period")
    rows = await session.execute(
        joined(select(period, *outcome_columns()))
        .where(*filters.resolved())
        .group_by(period)
        .order_by(period)
    )
    found = {str(row.period): _with_compliance(outcome_of(row)) for row in rows}
    empty = _with_compliance(outcome_of(_Nothing()))
    return [
        {"date": day.isoformat(), **found.get(day.isoformat(), empty)}
        for day in bucket_starts(filters.start, filters.end, granularity)
    ]


class _Nothing:
    """An aggregate row of no results."""

    evaluated = violated = average_mttr_minutes = total_penalties = total_rewards = None
