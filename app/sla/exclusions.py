"""The time an outage's clock does not count: maintenance windows of its site and its clock
pauses that count (short ones, approved ones, the one running now).

Read for many outages at once (a page of them, a sweep): one query for the windows of the
span the outages cover, one for their pauses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    windows = (
        await session.execute(
            select(MaintenanceWindow).where(
                MaintenanceWindow.cancelled_at.is_(None),
                MaintenanceWindow.ends_at > start,
                MaintenanceWindow.starts_at < stop,
            )
        )
    ).scalars()
    pauses = (
        await session.execute(
            select(ClockPause).where(
                ClockPause.outage_id.in_([c.id for c in clocks]),
                ClockPause.status.in_(COUNTING),
            )
        )
    ).scalars()
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
            and w.covers(list(c.sites))
        )
    return by_outage


async def excluded_seconds(
    session: AsyncSession, clocks: Sequence[ClockOf], *, now: datetime
) -> dict[str, float]:
    """For live clocks: the seconds each outage's clock has not counted so far."""
    spans = await spans_of(session, clocks, now=now)
    return {c.id: union_seconds(clipped(spans[c.id], c.detected_at, c.end)) for c in clocks}
