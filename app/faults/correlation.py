"""Faults meet outages: a fault on a site with an open outage joins it; a CRITICAL or HIGH
fault on a quiet site opens one (when the organization's rules say so); when every fault of
an auto-opened outage is resolved, the outage's timeline says so (and, if enabled, resolves
it)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.db import settings_of
from app.core.locks import transaction_lock
from app.faults.models import Fault, FaultRules, FaultSeverity, FaultStatus
from app.journal import journal
from app.journal.entries import Note
from app.maintenance import service as maintenance
from app.maintenance.models import MaintenanceWindow
from app.outages import service as outages
from app.outages.models import Outage, OutageStatus
from app.outages.schemas import OutageCreate

OPENING = {FaultSeverity.CRITICAL: "critical", FaultSeverity.HIGH: "high"}


SITE_ID_MAX = 128  # an outage's `site_id`
SITE_NAME_MAX = 255  # an outage's `site_name`


def site_key(name: str) -> str:
    """How an outage names a site: the name itself, or, for a name longer than an outage's
    `site_id` can hold (a path segment may be 2 048 characters), a digest of it, the same for
    every fault of that site."""
    if len(name) <= SITE_ID_MAX:
        return name
    return "site_" + hashlib.sha256(name.encode()).hexdigest()[:40]


def sites_of(fault: Fault) -> list[str]:
    """Every site a fault can belong to (its ancestors, else the resource), as an outage may
    name it: by the name itself (a `site_name` of up to 255 characters given by a person) or
    by its key (`site_key`)."""
    path = [s for s in fault.ancestry.split("|") if s] or [fault.resource_id]
    return list(dict.fromkeys(form for s in path for form in (s, site_key(s))))


def site_name_of(fault: Fault) -> str:
    path = [s for s in fault.ancestry.split("|") if s]
    return next(
        (s for s in path if s.lower().startswith("site")), path[0] if path else fault.resource_id
    )


def site_of(fault: Fault) -> str:
    """The site a fault belongs to: the first ancestor named `site...`, else the root of its
    path, else the resource itself."""
    return site_key(site_name_of(fault))


async def rules_of(session: AsyncSession, organization_id: str) -> FaultRules:
    rules = (await session.execute(select(FaultRules))).scalar_one_or_none()
    return rules or FaultRules(
        organization_id=organization_id, auto_open_outages=True, auto_resolve_outages=False
    )


async def _open_outage_on(session: AsyncSession, sites: list[str]) -> Outage | None:
    return (
        await session.execute(
            select(Outage)
            .where(
                Outage.status != OutageStatus.resolved,
                or_(Outage.site_id.in_(sites), Outage.site_name.in_(sites)),
            )
            .order_by(Outage.detected_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def _data(fault: Fault) -> dict[str, object]:
    return {
        "fault_id": fault.id,
        "resource_id": fault.resource_id,
        "type": fault.type,
        "severity": fault.severity,
        "message": fault.message,
    }


async def active_windows(session: AsyncSession, at: datetime) -> list[MaintenanceWindow]:
    return await maintenance.overlapping(session, at, at + timedelta(microseconds=1))


async def correlate(session: AsyncSession, fault: Fault, actor: Actor) -> None:
    sites = sites_of(fault)
    if fault.severity in OPENING:
        # Two CRITICAL faults on one quiet site at once must open one outage, not two.
        await transaction_lock(session, f"fault-site:{fault.organization_id}|{site_of(fault)}")
    outage = await _open_outage_on(session, sites)
    await _link_or_open(
        session,
        fault,
        actor,
        outage,
        lambda: rules_of(session, fault.organization_id),
        lambda: active_windows(session, fault.created_at),
    )


async def correlate_with(
    session: AsyncSession,
    fault: Fault,
    actor: Actor,
    by_site: dict[str, Outage],
    *,
    rules: FaultRules,
    windows: list[MaintenanceWindow],
    joined: dict[str, list[Fault]],
) -> None:
    """`correlate` with the open outages of the sites already read (and the site locks already
    held): a batch reads them once. An outage this opens joins `by_site`. A fault joining an
    outage is collected in `joined` (outage id: faults) for one timeline entry per outage."""
    found = [by_site[s] for s in sites_of(fault) if s in by_site]
    outage = max(found, key=lambda o: o.detected_at) if found else None
    if outage is not None:
        fault.outage_id = outage.id
        joined.setdefault(outage.id, []).append(fault)
        return

    async def known_rules() -> FaultRules:
        return rules

    async def known_windows() -> list[MaintenanceWindow]:
        return windows

    opened = await _link_or_open(session, fault, actor, outage, known_rules, known_windows)
    if opened is not None:
        by_site[site_of(fault)] = opened


async def _link_or_open(
    session: AsyncSession,
    fault: Fault,
    actor: Actor,
    outage: Outage | None,
    rules: Callable[[], Awaitable[FaultRules]],
    windows: Callable[[], Awaitable[list[MaintenanceWindow]]],
) -> Outage | None:
    """Links the fault to `outage`, or opens one for its site: the outage opened, if any. In
    a maintenance window of its site, a fault that would open an outage is recorded as
    suppressed by the window instead."""
    if outage is not None:
        fault.outage_id = outage.id
        journal.note(
            session,
            outage.organization_id,
            actor,
            Note(
                outage.id,
                "fault_correlated",
                f"Fault {fault.type} ({fault.severity}) on {fault.resource_id}",
                _data(fault),
            ),
        )
        return None
    if fault.severity not in OPENING:
        return None
    if not (await rules()).auto_open_outages:
        return None
    sites = sites_of(fault)
    window = next((w for w in await windows() if w.covers(sites)), None)
    if window is not None:
        fault.maintenance_window_id = window.id
        return None
    name, most = site_name_of(fault), min(SITE_NAME_MAX, settings_of(session).max_site_name_length)
    if len(name) > most:
        name = name[: most - 1] + "…"
    outage = await outages.create(
        session,
        fault.organization_id,
        actor,
        OutageCreate(
            site_name=name,
            site_id=site_of(fault),
            severity=OPENING[FaultSeverity(fault.severity)],
            description=f"Opened by fault {fault.id}: {fault.message}"[:5000],
            services_affected=[fault.type],
            detected_at=fault.created_at,
        ),
    )
    fault.outage_id, fault.opened_outage = outage.id, True
    journal.note(
        session,
        outage.organization_id,
        actor,
        Note(
            outage.id,
            "fault_opened_outage",
            f"Opened by fault {fault.id} ({fault.severity} {fault.type})",
            _data(fault),
        ),
    )
    return outage


async def after_resolve(session: AsyncSession, fault: Fault, actor: Actor) -> None:
    if fault.outage_id is None:
        return
    faults_of_outage = (
        select(func.count()).select_from(Fault).where(Fault.outage_id == fault.outage_id)
    )
    opened = (
        await session.execute(faults_of_outage.where(Fault.opened_outage.is_(True)))
    ).scalar_one()
    left = (
        await session.execute(faults_of_outage.where(Fault.status == FaultStatus.unresolved))
    ).scalar_one()
    if not opened or left:
        return
    outage = await outages.get(session, fault.outage_id, for_update=True)
    if outage.status == OutageStatus.resolved:
        return
    journal.note(
        session,
        outage.organization_id,
        actor,
        Note(
            outage.id,
            "faults_resolved",
            "Every fault of this outage is resolved",
            {"last_fault_id": fault.id},
        ),
    )
    if (await rules_of(session, fault.organization_id)).auto_resolve_outages:
        from app.lifecycle.resolve import resolve
        from app.outages.schemas import ResolveRequest

        await resolve(
            session,
            outage.id,
            actor,
            ResolveRequest(resolution_notes="Resolved automatically: every fault is resolved"),
        )
