"""Booking, reading and ending maintenance windows, and finding the ones that apply."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.db import json_array_has, settings_of
from app.core.errors import Conflict, ValidationFailed
from app.core.loading import get_or_404
from app.journal import journal
from app.journal.entries import Change
from app.maintenance.models import MaintenanceWindow
from app.maintenance.schemas import WindowCreate

MAX_LENGTH = timedelta(days=31)


async def _record(
    session: AsyncSession, window: MaintenanceWindow, actor: Actor, event: str
) -> None:
    journal.record(
        session,
        Change(
            organization_id=window.organization_id,
            actor=actor,
            kind=event,
            entity_type="maintenance_window",
            entity_id=window.id,
            data={
                "name": window.name,
                "sites": window.sites,
                "starts_at": isoformat(window.starts_at),
                "ends_at": isoformat(window.ends_at),
            },
        ),
    )


async def book(
    session: AsyncSession, organization_id: str, actor: Actor, data: WindowCreate
) -> MaintenanceWindow:
    now = utcnow()
    tolerance = timedelta(minutes=settings_of(session).mttr_claim_tolerance_minutes)
    if data.starts_at < now - tolerance:  # within the tolerance: clocks that disagree
        raise ValidationFailed.of_field(
            "starts_at",
            "a maintenance window is booked ahead of time: starts_at is in the past",
        )
    if data.ends_at - data.starts_at > MAX_LENGTH:
        raise ValidationFailed.of_field("ends_at", "a maintenance window lasts at most 31 days")
    window = MaintenanceWindow(
        organization_id=organization_id,
        name=data.name,
        sites=sorted(set(data.sites)) if data.sites else None,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
        created_by=actor.id,
    )
    session.add(window)
    await session.flush()
    await _record(session, window, actor, "maintenance.booked")
    return window


async def get(session: AsyncSession, window_id: str, *, lock: bool = False) -> MaintenanceWindow:
    return await get_or_404(
        session, MaintenanceWindow, window_id, "Maintenance window not found.", for_update=lock
    )


async def cancel(session: AsyncSession, window_id: str, actor: Actor) -> MaintenanceWindow:
    """Only before it starts: time already excluded stays excluded (end it instead)."""
    window = await get(session, window_id, lock=True)
    state = window.status_at(utcnow())
    if state != "scheduled":
        raise Conflict(
            f"This window is {state}: only a scheduled window can be cancelled "
            "(end an active one with POST .../end).",
            details={"status": state},
        )
    window.cancelled_at, window.cancelled_by = utcnow(), actor.id
    await _record(session, window, actor, "maintenance.cancelled")
    return window


async def end(session: AsyncSession, window_id: str, actor: Actor) -> MaintenanceWindow:
    """An active window ends now: the rest of its time counts again."""
    window = await get(session, window_id, lock=True)
    now = utcnow()
    state = window.status_at(now)
    if state != "active":
        raise Conflict(f"This window is {state}: only an active one can be ended.")
    window.ends_at = now
    await _record(session, window, actor, "maintenance.ended")
    return window


def listing(status: str | None, site: str | None, now: datetime) -> Select[Any]:
    stmt = select(MaintenanceWindow)
    live = MaintenanceWindow.cancelled_at.is_(None)
    if status == "cancelled":
        stmt = stmt.where(MaintenanceWindow.cancelled_at.is_not(None))
    elif status == "scheduled":
        stmt = stmt.where(live, MaintenanceWindow.starts_at > now)
    elif status == "active":
        stmt = stmt.where(live, MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now)
    elif status == "ended":
        stmt = stmt.where(live, MaintenanceWindow.ends_at <= now)
    if site is not None:
        stmt = stmt.where(
            MaintenanceWindow.sites.is_(None) | json_array_has(MaintenanceWindow.sites, site)
        )
    return stmt


async def overlapping(
    session: AsyncSession, start: datetime, end: datetime
) -> list[MaintenanceWindow]:
    """The organization's live windows that overlap [start, end)."""
    rows = await session.execute(
        select(MaintenanceWindow).where(
            MaintenanceWindow.cancelled_at.is_(None),
            MaintenanceWindow.ends_at > start,
            MaintenanceWindow.starts_at < end,
        )
    )
    return list(rows.scalars())


async def covering(
    session: AsyncSession, sites: list[str], at: datetime
) -> MaintenanceWindow | None:
    """The window, if any, in which something reported now on these sites falls."""
    for window in await overlapping(session, at, at + timedelta(microseconds=1)):
        if window.covers(sites):
            return window
    return None
