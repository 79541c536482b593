"""The time an outage's clock does not count: maintenance windows of its site and its clock
pauses that count (short ones, approved ones, the one running now).

Read for many outages at once (a page of them, a sweep): one query for the windows of the
span the outages cover, one for their pauses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ARRAY, String, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.maintenance.models import MaintenanceWindow
from app.pauses.models import ClockPause, PauseStatus
from app.sla.measure import Span, clipped, union_seconds


@dataclass(frozen=True, slots=True)
class ClockOf:
    """What the exclusions of one outage depend on."""

    id: str
    organization_id: str
    sites: tuple[str, ...]
    detected_at: datetime
    end: datetime  # where its clock stops (resolved_at), or the moment it is read at

    @classmethod
    def of(cls, outage: object, end: datetime) -> ClockOf:
        """The site as it was named at detection: renaming an outage later moves no time."""
        return cls(
            id=outage.id,  # type: ignore[attr-defined]
            organization_id=outage.organization_id,  # type: ignore[attr-defined]
            sites=tuple(outage.sla_sites),  # type: ignore[attr-defined]
            detected_at=outage.detected_at,  # type: ignore[attr-defined]
            end=end,
        )


COUNTING = (PauseStatus.active, *PauseStatus.excluded)


def _among(session: AsyncSession, column: Any, ids: list[str]) -> Any:
    if dialect_of(session) == "postgresql":
        return column == any_(array(ids, type_=String))
    return column.in_(ids)


async def spans_of(
    session: AsyncSession,
    clocks: Sequence[ClockOf],
    *,
    now: datetime,
    decided_before: datetime | None = None,
) -> dict[str, list[Span]]:
    """Each outage's excluded spans (a running pause up to `now`, provisionally). With
    `decided_before`, as they stood then: a pause approved later is left out."""
    if not clocks:
        return {}
    start = min(c.detected_at for c in clocks)
    stop = max(c.end for c in clocks)
    # Columns, not entities, and the outage ids as one array parameter: these two reads run
    # on every page of outages with an open one, and loading objects or expanding an IN list
    # of fifty parameters cost more than the reads themselves.
    windows = (
        await session.execute(
            select(
                MaintenanceWindow.id,
                MaintenanceWindow.organization_id,
                MaintenanceWindow.starts_at,
                MaintenanceWindow.ends_at,
                MaintenanceWindow.created_at,
                MaintenanceWindow.sites,
            ).where(
                MaintenanceWindow.cancelled_at.is_(None),
                MaintenanceWindow.ends_at > start,
                MaintenanceWindow.starts_at < stop,
            )
        )
    ).all()
    pauses = (
        await session.execute(
            select(
                ClockPause.id,
                ClockPause.outage_id,
                ClockPause.started_at,
                ClockPause.ended_at,
                ClockPause.status,
                ClockPause.decided_at,
            ).where(
                _among(session, ClockPause.outage_id, [c.id for c in clocks]),
                ClockPause.status.in_(COUNTING),
            )
        )
    ).all()
    by_outage: dict[str, list[Span]] = {c.id: [] for c in clocks}
    for pause in pauses:
        if (
            decided_before is not None
            and pause.status == PauseStatus.approved
            and (pause.decided_at is None or pause.decided_at >= decided_before)
        ):
            continue
        by_outage[pause.outage_id].append(
            Span(pause.started_at, pause.ended_at or now, "pause", pause.id)
        )
    live = list(windows)
    for c in clocks:
        # A window booked once the outage was under way takes none of its time: that would be
        # a pause nobody approved (a window is planned ahead of the outages in it).
        by_outage[c.id].extend(
            Span(w.starts_at, w.ends_at, "maintenance", w.id)
            for w in live
            if w.organization_id == c.organization_id
            and w.created_at <= c.detected_at
            and (w.sites is None or not set(w.sites).isdisjoint(c.sites))
        )
    return by_outage


async def excluded_seconds(
    session: AsyncSession, clocks: Sequence[ClockOf], *, now: datetime
) -> dict[str, float]:
    """For live clocks: the seconds each outage's clock has not counted so far."""
    one_organization = len({c.organization_id for c in clocks}) == 1  # a page, not the sweep
    if dialect_of(session) == "postgresql" and one_organization:
        spans = await _live_spans(session, clocks, now)
    else:
        spans = await spans_of(session, clocks, now=now)
    return seconds_of(clocks, spans)


# Live clocks of one organization (an outage's detail, its SLA status): their windows and
# pauses in one round trip, a statement prepared once (the two ORM reads of `spans_of` cost
# more than the caller's own query). A page of outages reads the same with its rows on
# PostgreSQL (app/lifecycle/queries.py). Row-level security still applies; `:org` keeps the
# plan lean.
_LIVE_SPANS = text(
    """
    SELECT 'maintenance', w.id, NULL, w.starts_at, w.ends_at, w.created_at, w.sites::text
    FROM maintenance_windows w
    WHERE w.organization_id = :org AND w.cancelled_at IS NULL
      AND w.ends_at > :start AND w.starts_at < :stop
    UNION ALL
    SELECT 'pause', p.id, p.outage_id, p.started_at, p.ended_at, NULL, NULL
    FROM clock_pauses p
    WHERE p.organization_id = :org AND p.outage_id = ANY(:ids) AND p.status = ANY(:statuses)
    """
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("statuses", type_=ARRAY(String)))


async def _live_spans(
    session: AsyncSession, clocks: Sequence[ClockOf], now: datetime
) -> dict[str, list[Span]]:
    """`spans_of` for live clocks of one organization (no `decided_before`), on PostgreSQL."""
    rows = await session.execute(
        _LIVE_SPANS,
        {
            "org": clocks[0].organization_id,
            "start": min(c.detected_at for c in clocks),
            "stop": max(c.end for c in clocks),
            "ids": [c.id for c in clocks],
            "statuses": [str(status) for status in COUNTING],
        },
    )
    pauses: list[tuple[str, str, datetime, datetime | None]] = []
    windows: list[tuple[str, datetime, datetime, datetime, list[str] | None]] = []
    for kind, span_id, outage_id, starts, ends, created_at, sites in rows:
        if kind == "pause":
            pauses.append((span_id, outage_id, starts, ends))
        else:
            windows.append((span_id, starts, ends, created_at, orjson.loads(sites or "null")))
    return live_spans(clocks, pauses, windows, now)


def live_spans(
    clocks: Sequence[ClockOf],
    pauses: Iterable[tuple[str, str, datetime, datetime | None]],
    windows: Sequence[tuple[str, datetime, datetime, datetime, list[str] | None]],
    now: datetime,
) -> dict[str, list[Span]]:
    """Live clocks' excluded spans from their counting pauses (id, outage, start, end) and
    their organization's windows (id, start, end, booked at, sites), however they were read:
    a window booked once an outage was under way takes none of its time."""
    by_outage: dict[str, list[Span]] = {c.id: [] for c in clocks}
    for pause_id, outage_id, starts, ends in pauses:
        by_outage[outage_id].append(Span(starts, ends or now, "pause", pause_id))
    for c in clocks:
        by_outage[c.id].extend(
            Span(starts, ends, "maintenance", window_id)
            for window_id, starts, ends, created_at, sites in windows
            if created_at <= c.detected_at and (sites is None or not set(sites).isdisjoint(c.sites))
        )
    return by_outage


def seconds_of(clocks: Sequence[ClockOf], spans: dict[str, list[Span]]) -> dict[str, float]:
    """Each clock's excluded seconds: its spans' union within its own run."""
    return {c.id: union_seconds(clipped(spans[c.id], c.detected_at, c.end)) for c in clocks}
