"""Listing and searching outages: the busiest read of the API, in one query
(`app/lifecycle/queries.py`), its plain rows serialized straight to JSON: no ORM object is
built, and the SLA status is the one renderer's (`app/sla/status.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import driver, planner
from app.core.clock import utcnow
from app.core.db import dialect_of
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.lifecycle import queries
from app.sla import exclusions
from app.sla import status as sla_status
from app.sla.exclusions import ClockOf, excluded_seconds

# A word found in at least DENSE of the organization's newest outages is common (its search
# walks newest first): app/lifecycle/queries.py.
DENSE = 100

_ID, _SEVERITY = queries.AT["id"], queries.AT["severity"]
_SLA_SITES = queries.AT["sla_sites"]
_DETECTED, _RESOLVED = queries.AT["detected_at"], queries.AT["resolved_at"]
_AT = queries.AT
_LATITUDE, _LONGITUDE, _THRESHOLD = _AT["latitude"], _AT["longitude"], _AT["threshold"]
_PAUSES, _WINDOWS = _AT["live_pauses"], _AT["live_windows"]
_RESULT = tuple(queries.AT[f"sla_{name}"] for name in queries.RESULT_COLUMNS)
_PICK_RESULT = itemgetter(*_RESULT)


def _status(row: Sequence[Any], now: datetime, excluded: float) -> dict[str, Any]:
    """The row's SLA state (the hot path: plain indexing, no object per row but the result)."""
    return sla_status.render(
        sla_status.result_of(row, _PICK_RESULT),
        severity=row[_SEVERITY],
        threshold=row[_THRESHOLD] or 0,
        detected_at=row[_DETECTED],
        resolved_at=row[_RESOLVED],
        excluded=excluded,
        now=now,
    )


def _fields(row: Sequence[Any], now: datetime, excluded: float) -> dict[str, Any]:
    fields = dict(zip(queries.COLUMNS, row, strict=False))  # the columns come first, in this order
    latitude, longitude = row[_LATITUDE], row[_LONGITUDE]
    fields["location"] = (
        {"latitude": latitude, "longitude": longitude}
        if latitude is not None and longitude is not None
        else None
    )
    fields["sla_status"] = _status(row, now, excluded)
    return fields


async def _live_exclusions(
    session: AsyncSession, organization_id: str, rows: Sequence[Sequence[Any]], now: datetime
) -> dict[str, float]:
    """The excluded time of the page's open outages (their live clocks). On PostgreSQL their
    pauses and windows came with the page (`queries.py`), and a page without any builds no
    clock; elsewhere they are read now, and not at all when every row is resolved."""
    live = [row for row in rows if row[_RESULT[0]] is None and row[_RESOLVED] is None]
    if not live:
        return {}
    if dialect_of(session) != "postgresql":
        clocks = [_clock_of(row, organization_id, now) for row in live]
        return await excluded_seconds(session, clocks, now=now)
    pauses = [
        (pause_id, outage_id, _moment(starts), _moment(ends) if ends else None)
        for row in live
        for pause_id, outage_id, starts, ends in row[_PAUSES] or ()
    ]
    windows = [
        (window_id, _moment(starts), _moment(ends), _moment(booked), sites)
        for window_id, starts, ends, booked, sites in (rows[0][_WINDOWS] or ())
    ]
    if not pauses and not windows:
        return {}
    clocks = [_clock_of(row, organization_id, now) for row in live]
    return exclusions.seconds_of(clocks, exclusions.live_spans(clocks, pauses, windows, now))


def _clock_of(row: Sequence[Any], organization_id: str, now: datetime) -> ClockOf:
    return ClockOf(
        id=row[_ID],
        organization_id=organization_id,
        sites=tuple(row[_SLA_SITES]),
        detected_at=row[_DETECTED],
        end=now,
    )


def _moment(value: str) -> datetime:
    """A timestamp as PostgreSQL writes it in JSON (ISO 8601 with its offset)."""
    return datetime.fromisoformat(value)


def _position(params: PageParams, has_next: bool) -> dict[str, Any]:
    """Where the page is: by offset with its total, or after a cursor (no total, as every
    cursor page of the API: counting would cost what the cursor saves)."""
    offset, limit = params.offset, params.limit
    if params.cursor is not None:
        return {
            "total": None,
            "total_exact": False,
            "limit": limit,
            "offset": None,
            "has_next": has_next,
            "has_previous": True,
            "next_offset": None,
            "previous_offset": None,
        }
    return {
        "limit": limit,
        "offset": offset,
        "has_next": has_next,
        "has_previous": offset > 0,
        "next_offset": offset + limit if has_next else None,
        "previous_offset": max(0, offset - limit) if offset > 0 else None,
    }


async def page(
    session: AsyncSession,
    organization_id: str,
    filters: queries.OutageFilters,
    params: PageParams,
    *,
    total_cap: int,
) -> Response:
    """The page (newest first) as JSON in the `Page[OutageOut]` shape."""
    dialect = dialect_of(session)
    if params.cursor is not None:
        filters = replace(filters, before_id=decode_cursor(params.cursor))
    values = {**filters.params(dialect), "org": organization_id}
    connection = await session.connection()
    few = False
    if dialect == "postgresql" and filters.words:
        values.update(cap=total_cap + 1, dense=DENSE)
        few = (await connection.execute(queries.MATCHES_COUNTED, values)).scalar_one() <= total_cap
    if dialect == "postgresql" and not few:
        await queries.walk_newest_first(
            connection, common_word=bool(filters.words), switched_off=planner.switched_off(session)
        )
    statement, total_alone = queries.statements(filters.shape(dialect), total_cap, few=few)
    offset = 0 if params.cursor is not None else params.offset
    now = utcnow()  # the moment the page's live clocks are read at
    window = {"offset": offset, "limit": params.limit + 1, "now": now}
    rows = await driver.fetch(connection, statement, {**values, **window})
    limit = params.limit
    has_next = len(rows) > limit
    excluded = await _live_exclusions(session, organization_id, rows[:limit], now)
    total: dict[str, Any] = {}
    if params.cursor is None:
        counted = rows[0][-1] if rows else (await connection.execute(total_alone, values)).scalar()
        total = {"total": min(counted or 0, total_cap), "total_exact": (counted or 0) <= total_cap}
    body = {
        **total,
        **_position(params, has_next),
        "next_cursor": encode_cursor(rows[limit - 1][_ID]) if has_next else None,
        "results": [_fields(row, now, excluded.get(row[_ID], 0.0)) for row in rows[:limit]],
    }
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")
