"""Pausing an open outage's clock, resuming it, and the second person's decision on a pause
that needs one. Resolving an outage ends a running pause where its clock stops."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.db import settings_of
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.identity.approval import second_person
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages import service as outages
from app.outages.models import Outage, OutageStatus
from app.pauses.models import ClockPause, PauseStatus
from app.pauses.schemas import PauseEnd, PauseStart


def data_of(pause: ClockPause) -> dict[str, Any]:
    return {
        "pause_id": pause.id,
        "outage_id": pause.outage_id,
        "reason": pause.reason,
        "started_at": isoformat(pause.started_at),
        "ended_at": isoformat(pause.ended_at) if pause.ended_at else None,
        "status": pause.status,
        "approval_reason": pause.approval_reason,
    }


async def _note(
    session: AsyncSession, outage: Outage, pause: ClockPause, actor: Actor, event: str, text: str
) -> None:
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind=f"outage.{event}",
            entity_type="clock_pause",
            entity_id=pause.id,
            data=data_of(pause),
            note=Note(outage.id, event, text, data_of(pause)),
        ),
        subject=outage,
    )


async def _open_outage(session: AsyncSession, outage_id: str) -> Outage:
    outage = await outages.get(session, outage_id, for_update=True)
    if outage.status == OutageStatus.resolved:
        raise Conflict(
            "The outage is resolved: its clock no longer runs.", details={"outage_id": outage.id}
        )
    return outage


async def start(
    session: AsyncSession, outage_id: str, actor: Actor, data: PauseStart
) -> ClockPause:
    outage = await _open_outage(session, outage_id)
    now = utcnow()
    started = min(data.started_at or now, now)
    if started < outage.detected_at:
        raise ValidationFailed.of_field(
            "started_at", "started_at is before the outage was detected"
        )
    last_end = (
        await session.execute(
            select(func.max(ClockPause.ended_at)).where(ClockPause.outage_id == outage.id)
        )
    ).scalar_one_or_none()
    if last_end is not None and started < last_end:
        raise ValidationFailed.of_field(
            "started_at", "started_at overlaps the outage's previous pause"
        )
    pause = ClockPause(
        organization_id=outage.organization_id,
        outage_id=outage.id,
        reason=data.reason,
        started_at=started,
        status=PauseStatus.active,
        started_by=actor.id,
        recorded_at=now,
    )
    session.add(pause)
    await session.flush()  # a second running pause collides on the unique index: 409
    await _note(session, outage, pause, actor, "clock_paused", f"Clock paused: {data.reason}")
    return pause


async def close(session: AsyncSession, pause: ClockPause, ended: datetime, actor: Actor) -> None:
    """Ends a running pause and says whether it counts as recorded or waits for approval. The
    limit is on the outage's pauses together: a chain of short ones past it waits too."""
    settings = settings_of(session)
    tolerance = timedelta(minutes=settings.mttr_claim_tolerance_minutes)
    pause.ended_at, pause.ended_by = ended, actor.id
    counted = await _counted_so_far(session, pause)
    if pause.recorded_at - pause.started_at > tolerance:
        pause.approval_reason = "backdated"
    elif counted + (ended - pause.started_at) > timedelta(
        minutes=settings.clock_pause_approval_minutes
    ):
        pause.approval_reason = "long"
    pause.status = PauseStatus.pending if pause.approval_reason else PauseStatus.counted


async def _counted_so_far(session: AsyncSession, pause: ClockPause) -> timedelta:
    """The time the outage's other pauses took off without anyone's approval."""
    rows = await session.execute(
        select(ClockPause.started_at, ClockPause.ended_at).where(
            ClockPause.outage_id == pause.outage_id,
            ClockPause.status == PauseStatus.counted,
            ClockPause.id != pause.id,
        )
    )
    return sum(((end - start) for start, end in rows if end is not None), timedelta(0))


async def _of_outage(session: AsyncSession, outage_id: str, pause_id: str) -> ClockPause:
    pause = (
        await session.execute(
            select(ClockPause)
            .where(ClockPause.id == pause_id, ClockPause.outage_id == outage_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if pause is None:
        raise NotFound("Clock pause not found.")
    return pause


async def end(
    session: AsyncSession, outage_id: str, pause_id: str, actor: Actor, data: PauseEnd
) -> ClockPause:
    outage = await _open_outage(session, outage_id)
    pause = await _of_outage(session, outage.id, pause_id)
    if pause.status != PauseStatus.active:
        raise Conflict("This pause has already ended.", details={"status": pause.status})
    now = utcnow()
    ended = min(data.ended_at or now, now)
    if ended < pause.started_at:
        raise ValidationFailed.of_field("ended_at", "ended_at is before the pause started")
    await close(session, pause, ended, actor)
    waits = " (counts once approved)" if pause.status == PauseStatus.pending else ""
    await _note(session, outage, pause, actor, "clock_resumed", f"Clock resumed{waits}")
    return pause


async def end_running(session: AsyncSession, outage: Outage, at: datetime, actor: Actor) -> None:
    """At resolve: a pause still running ends where the clock stops."""
    running = (
        await session.execute(
            select(ClockPause)
            .where(ClockPause.outage_id == outage.id, ClockPause.status == PauseStatus.active)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if running is not None:
        await close(session, running, max(at, running.started_at), actor)
        await _note(session, outage, running, actor, "clock_resumed", "Clock resumed: resolved")


async def decide(
    session: AsyncSession,
    outage_id: str,
    pause_id: str,
    actor: Actor,
    *,
    approve: bool,
    notes: str | None,
) -> ClockPause:
    outage = await outages.get(session, outage_id, for_update=True)
    pause = await _of_outage(session, outage.id, pause_id)
    if pause.status != PauseStatus.pending:
        raise Conflict(
            "Only a pause waiting for approval can be decided.", details={"status": pause.status}
        )
    second_person(
        actor,
        pause.started_by,
        pause.ended_by,
        outage.resolved_by,
        what="Deciding a clock pause",
    )
    pause.status = PauseStatus.approved if approve else PauseStatus.rejected
    pause.decided_by, pause.decided_at, pause.notes = actor.id, utcnow(), notes
    event = "pause_approved" if approve else "pause_rejected"
    text = "Clock pause approved" if approve else "Clock pause rejected: its time counts"
    await _note(session, outage, pause, actor, event, text)
    await journal.follow_up(session)  # a resolved outage is re-settled: app/reactions.py
    return pause


def listing(outage_id: str | None, status: str | None) -> Select[Any]:
    stmt = select(ClockPause)
    if outage_id is not None:
        stmt = stmt.where(ClockPause.outage_id == outage_id)
    if status is not None:
        stmt = stmt.where(ClockPause.status == status)
    return stmt


async def of_outage(session: AsyncSession, outage_id: str) -> list[ClockPause]:
    rows = await session.execute(
        select(ClockPause).where(ClockPause.outage_id == outage_id).order_by(ClockPause.started_at)
    )
    return list(rows.scalars())
