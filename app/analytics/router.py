from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

import orjson
from fastapi import Depends, Query
from fastapi.responses import Response

from app.analytics import dashboard, service, snapshots
from app.analytics.schemas import (
    DashboardOut,
    MttrStatsOut,
    SlaAggregationOut,
    SlaExportOut,
    SlaSnapshotOut,
    SlaSummaryOut,
    SlaWindowOut,
    TrendsOut,
)
from app.contracts.engine import Severity
from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.errors import ValidationFailed
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime, PeriodOut
from app.core.spreadsheet import spreadsheet_safe
from app.identity.dependencies import CurrentPrincipal

router = APIRouter(tags=["Analytics"])

WINDOWS = {"7d": 7, "30d": 30, "90d": 90}


@router.get(
    "/sla/analytics/summary", response_model=SlaSummaryOut, summary="SLA performance summary"
)
async def sla_summary(
    principal: CurrentPrincipal,
    session: SessionDep,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> SlaSummaryOut:
    """Outages evaluated, violation rate, average MTTR, penalties and rewards, for outages
    resolved in [start, end] (latest result of each)."""
    totals = await service.summary(session, start, end)
    return SlaSummaryOut.model_validate({"period": PeriodOut(start=start, end=end), **totals})


@router.get(
    "/sla/analytics/window",
    response_model=SlaWindowOut,
    summary="SLA performance over a rolling window",
)
async def sla_window(
    principal: CurrentPrincipal,
    session: SessionDep,
    window: Literal["7d", "30d", "90d"] = "30d",
    granularity: Literal["day", "week"] = "day",
) -> SlaWindowOut:
    """SLA outcomes per day or week over the last 7, 30 or 90 days: evaluated, met, violated,
    penalties and rewards."""
    end = utcnow()
    start = end - timedelta(days=WINDOWS[window])
    buckets = await service.window(session, start, end, granularity)
    return SlaWindowOut.model_validate(
        {
            "window": window,
            "granularity": granularity,
            "period": PeriodOut(start=start, end=end),
            "buckets": buckets,
        }
    )


Site = Annotated[str | None, Query(min_length=1, max_length=255, description="A site id or name.")]
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """The range and scope a dashboard or its trend is asked for."""

    start: datetime | None = None
    end: datetime | None = None
    severity: Severity | None = None
    site: str | None = None

    def filters(
        self, granularity: dashboard.TrendGranularity = "day"
    ) -> dashboard.DashboardFilters:
        """The range defaults to the last 30 days; it must end after it starts and hold at
        most MAX_BUCKETS buckets (a chart of every day of ten years is not a dashboard)."""
        end = self.end or utcnow()
        start = self.start or end - timedelta(days=DEFAULT_RANGE_DAYS)
        if start >= end:
            raise ValidationFailed(
                "`start_date` must be before `end_date`.",
                details={"errors": [_range_error("not before end")]},
            )
        if len(dashboard.bucket_starts(start, end, granularity)) > dashboard.MAX_BUCKETS:
            raise ValidationFailed(
                f"The range holds more than {dashboard.MAX_BUCKETS} {granularity}s; "
                "narrow it or use weeks.",
                details={"errors": [_range_error("range")]},
            )
        severity = self.severity.value if self.severity else None
        return dashboard.DashboardFilters(start=start, end=end, severity=severity, site=self.site)


def _range_error(msg: str) -> dict[str, object]:
    return {"loc": ["query", "start_date"], "msg": msg, "type": "value_error"}


def dashboard_query(
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
    severity: Severity | None = None,
    site: Site = None,
) -> DashboardQuery:
    return DashboardQuery(start_date, end_date, severity, site)


DashboardQueryDep = Annotated[DashboardQuery, Depends(dashboard_query)]


@router.get(
    "/sla/analytics/dashboard",
    response_model=DashboardOut,
    summary="Dashboard figures over a date range, against the previous window",
)
async def sla_dashboard(
    principal: CurrentPrincipal, session: SessionDep, query: DashboardQueryDep
) -> DashboardOut:
    """Compliance %, MTTR (average, median, 90th percentile), penalties, rewards and net of
    the outages resolved in [start_date, end_date) (default: the last 30 days), optionally of
    one severity or site; the same for the window of equal length just before, and the
    change."""
    filters = query.filters()
    figures = await dashboard.dashboard(session, filters)
    return DashboardOut.model_validate(
        {
            "period": PeriodOut(start=filters.start, end=filters.end),
            "filters": {"severity": filters.severity, "site": query.site},
            **figures,
        }
    )


@router.get(
    "/sla/analytics/trends",
    response_model=TrendsOut,
    summary="Dashboard figures per day or week",
)
async def sla_trends(
    principal: CurrentPrincipal,
    session: SessionDep,
    query: DashboardQueryDep,
    granularity: Literal["day", "week"] = "day",
) -> TrendsOut:
    """The dashboard's figures for each UTC day (or ISO week) of the range, every bucket
    present (zeros where nothing was resolved), oldest first."""
    filters = query.filters(granularity)
    series = await dashboard.trends(session, filters, granularity)
    return TrendsOut.model_validate(
        {
            "period": PeriodOut(start=filters.start, end=filters.end),
            "granularity": granularity,
            "filters": {"severity": filters.severity, "site": query.site},
            "series": series,
        }
    )


@router.get(
    "/sla/performance/aggregation",
    response_model=SlaAggregationOut,
    summary="SLA outcomes by severity, region or service",
)
async def sla_aggregation(
    principal: CurrentPrincipal,
    session: SessionDep,
    group_by: Literal["severity", "region", "service"] = "severity",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> SlaAggregationOut:
    """An outage affecting several services counts once for each."""
    groups = await service.aggregation(session, group_by, start, end)
    return SlaAggregationOut.model_validate(
        {"group_by": group_by, "period": PeriodOut(start=start, end=end), "groups": groups}
    )


@router.get("/analytics/mttr", response_model=MttrStatsOut, summary="MTTR statistics")
async def mttr(
    principal: CurrentPrincipal,
    session: SessionDep,
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
    severity: Severity | None = None,
    group_by: Literal["site", "severity", "day", "week"] | None = None,
) -> MttrStatsOut:
    """Average and median MTTR of resolved outages, with SLA compliance."""
    stats = await service.mttr(
        session,
        start=start_date,
        end=end_date,
        severity=severity.value if severity else None,
        group_by=group_by,
    )
    period = PeriodOut(start=start_date, end=end_date)
    return MttrStatsOut.model_validate({"period": period, "group_by": group_by, **stats})


@router.get(
    "/sla/snapshots",
    response_model=SlaSnapshotOut,
    summary="Open outages and their SLA state at a moment",
)
async def sla_snapshots(
    principal: CurrentPrincipal,
    session: SessionDep,
    at: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SlaSnapshotOut:
    """The outages open at `at` (default now) with their SLA clock at that moment, under the
    policy version then in force."""
    return SlaSnapshotOut.model_validate(
        await snapshots.snapshot(session, principal.organization_id, at or utcnow(), limit, offset)
    )


@router.get(
    "/sla/export",
    summary="Export SLA results as CSV or JSON",
    responses={
        200: {
            "model": SlaExportOut,
            "description": "The latest SLA result of each outage, one row each.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def sla_export(
    principal: CurrentPrincipal,
    session: SessionDep,
    format: Literal["csv", "json"],
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    status: Literal["met", "violated"] | None = None,
) -> Response:
    """A file download of the latest result of each outage (at most 100 000 rows; narrow
    with start/end)."""
    rows = await snapshots.export_rows(session, start, end, status)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    if format == "json":
        return Response(
            orjson.dumps(rows),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="sla-results-{stamp}.json"'},
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=snapshots.EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="sla-results-{stamp}.csv"'},
    )
