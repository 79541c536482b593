from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query
from fastapi.responses import Response

from app.analytics import service, snapshots
from app.auth.dependencies import CurrentPrincipal
from app.core.clock import isoformat, utcnow
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime
from app.core.spreadsheet import spreadsheet_safe
from app.db import SessionDep
from app.sla.engine import Severity

router = APIRouter(tags=["Analytics"])

WINDOWS = {"7d": 7, "30d": 30, "90d": 90}


def _period(start: Any, end: Any) -> dict[str, str | None]:
    return {"start": isoformat(start) if start else None, "end": isoformat(end) if end else None}


@router.get("/sla/analytics/summary", summary="SLA performance summary")
async def sla_summary(
    principal: CurrentPrincipal,
    session: SessionDep,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    """Outages evaluated, violation rate, average MTTR, penalties and rewards, for outages
    resolved in [start, end] (latest result of each)."""
    return {"period": _period(start, end), **await service.summary(session, start, end)}


@router.get("/sla/analytics/window", summary="SLA performance over a rolling window")
async def sla_window(
    principal: CurrentPrincipal,
    session: SessionDep,
    window: Literal["7d", "30d", "90d"] = "30d",
    granularity: Literal["day", "week"] = "day",
) -> dict[str, Any]:
    """SLA outcomes per day or week over the last 7, 30 or 90 days: evaluated, met, violated,
    penalties and rewards."""
    end = utcnow()
    start = end - timedelta(days=WINDOWS[window])
    buckets = await service.window(session, start, end, granularity)
    return {
        "window": window,
        "granularity": granularity,
        "period": _period(start, end),
        "buckets": buckets,
    }


@router.get("/sla/performance/aggregation", summary="SLA outcomes by severity, region or service")
async def sla_aggregation(
    principal: CurrentPrincipal,
    session: SessionDep,
    group_by: Literal["severity", "region", "service"] = "severity",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    """An outage affecting several services counts once for each."""
    groups = await service.aggregation(session, group_by, start, end)
    return {"group_by": group_by, "period": _period(start, end), "groups": groups}


@router.get("/analytics/mttr", summary="MTTR statistics")
async def mttr(
    principal: CurrentPrincipal,
    session: SessionDep,
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
    severity: Severity | None = None,
    group_by: Literal["site", "severity", "day", "week"] | None = None,
) -> dict[str, Any]:
    """Average and median MTTR of resolved outages, with SLA compliance."""
    stats = await service.mttr(
        session,
        start=start_date,
        end=end_date,
        severity=severity.value if severity else None,
        group_by=group_by,
    )
    return {"period": _period(start_date, end_date), "group_by": group_by, **stats}


@router.get("/sla/snapshots", summary="Open outages and their SLA state at a moment")
async def sla_snapshots(
    principal: CurrentPrincipal,
    session: SessionDep,
    at: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The outages open at `at` (default now) with their SLA clock at that moment, under the
    policy version then in force."""
    return await snapshots.snapshot(
        session, principal.organization_id, at or utcnow(), limit, offset
    )


@router.get(
    "/sla/export",
    summary="Export SLA results as CSV or JSON",
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
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
