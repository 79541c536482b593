"""Incidents: intake under the monthly quota, triage, investigations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import SYSTEM, Actor
from app.core.clock import isoformat, utcnow
from app.core.correlation import get_correlation_id
from app.core.errors import Conflict, NotFound
from app.core.ids import CROCKFORD
from app.core.loading import get_or_404
from app.faults.models import Fault
from app.incidents import lifecycle, triage, usage
from app.incidents.models import Incident, IncidentStatus, Investigation
from app.incidents.schemas import IncidentCreate, IncidentUpdate
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change
from app.outages.models import Outage, OutageStatus

RUN_INVESTIGATION = "investigations.run"
RECENT_FAULTS = timedelta(hours=24)
# Triage runs on every intake: each of its reads is one index walk, newest first, this long.
SERVICE_OUTAGES = 500  # services of the newest outages
SERVICE_FAULTS = 1000  # types of the newest faults
OPEN_OUTAGES = 200
RECENT_FAULT_ROWS = 500
LINKS = 50
ID_CLOCK_MARGIN = timedelta(minutes=1)


def _event(
    session: AsyncSession, incident: Incident, event_type: str, data: dict[str, Any]
) -> None:
    journal.record(
        session,
        Change(
            organization_id=incident.organization_id,
            actor=SYSTEM,
            kind=event_type,
            entity_type="incident",
            entity_id=incident.id,
            publish={
                "incident_id": incident.id,
                "title": incident.title,
                "severity": incident.severity,
                "status": incident.status,
                **data,
            },
            audited=False,
        ),
    )


async def create(
    session: AsyncSession, organization_id: str, actor: Actor, data: IncidentCreate
) -> tuple[Incident, usage.Usage]:
    """A new incident, triaged in the same transaction: the answer shows its severity."""
    left = await usage.consume(session, organization_id, "event")
    now = utcnow()
    incident = Incident(
        organization_id=organization_id,
        title=data.title,
        description=data.description,
        severity="medium",
        status=IncidentStatus.open,
        source="manual",
        services=[],
        created_by=actor.id,
        correlation_id=get_correlation_id(),
        created_at=now,
        updated_at=now,
    )
    await _classify(session, incident, now)
    session.add(incident)
    await session.flush()
    _event(session, incident, "incident.created", {})
    _triaged_event(session, incident)
    return incident, left


async def get(session: AsyncSession, incident_id: str, *, lock: bool = False) -> Incident:
    return await get_or_404(session, Incident, incident_id, "Incident not found.", for_update=lock)


def id_floor(prefix: str, at: datetime) -> str:
    """The smallest id of `prefix` made at `at`: ids are ULIDs, milliseconds first, so a range
    of ids is a range of creation times that an (organization, id) index walks."""
    ms = int(at.timestamp() * 1000)
    moment = "".join(CROCKFORD[(ms >> shift) & 31] for shift in range(45, -5, -5))
    return f"{prefix}_{moment}{'0' * 16}"


async def _known_services(session: AsyncSession) -> set[str]:
    """Services of the newest outages and types of the newest faults: two bounded index walks
    (a DISTINCT over every fault type would read an organization's whole fault history)."""
    outages = await session.execute(
        select(Outage.services_affected).order_by(Outage.id.desc()).limit(SERVICE_OUTAGES)
    )
    faults = await session.execute(
        select(Fault.type).order_by(Fault.id.desc()).limit(SERVICE_FAULTS)
    )
    return {s for (services,) in outages for s in services} | set(faults.scalars())


async def _open_outages(
    session: AsyncSession,
) -> Sequence[Row[str, list[str], str | None, str]]:
    # `status IN (...)` probes the (organization, status, id) index; `!= resolved` walked
    # every outage the organization ever had.
    return (
        await session.execute(
            select(Outage.id, Outage.services_affected, Outage.site_id, Outage.site_name)
            .where(Outage.status.in_(OutageStatus.unresolved))
            .order_by(Outage.id.desc())
            .limit(OPEN_OUTAGES)
        )
    ).all()


async def _recent_faults(session: AsyncSession, now: datetime) -> Sequence[Row[str, str, str]]:
    since = now - RECENT_FAULTS
    # The id bound stops the newest-first walk at the window's start even when the window
    # holds few faults; a fault's id is never older than its `created_at` (the margin covers
    # the instants between the two).
    floor = id_floor("flt", since - ID_CLOCK_MARGIN)
    return (
        await session.execute(
            select(Fault.id, Fault.type, Fault.ancestry)
            .where(Fault.id >= floor, Fault.created_at >= since)
            .order_by(Fault.id.desc())
            .limit(RECENT_FAULT_ROWS)
        )
    ).all()


async def _classify(session: AsyncSession, incident: Incident, now: datetime) -> None:
    """Severity and services from the text (triage.py rules), and links to open outages and
    recent faults of the same services or named sites."""
    result = triage.classify(incident.title, incident.description, await _known_services(session))
    words = set(triage.words(f"{incident.title} {incident.description}"))
    linked_outages = [
        o.id
        for o in await _open_outages(session)
        if set(result.services) & set(o.services_affected)
        or (o.site_id and o.site_id.lower() in words)
        or o.site_name.lower() in words
    ]
    linked_faults = [
        f.id
        for f in await _recent_faults(session, now)
        if f.type in result.services or words & {s.lower() for s in f.ancestry.split("|") if s}
    ]
    incident.severity, incident.services = result.severity, result.services
    incident.triaged_at = now
    incident.triage = {
        "rules_matched": result.matched,
        "linked_outages": linked_outages[:LINKS],
        "linked_faults": linked_faults[:LINKS],
        "triaged_at": isoformat(now),
    }


def _triaged_event(session: AsyncSession, incident: Incident) -> None:
    triaged = incident.triage or {}
    _event(
        session,
        incident,
        "incident.triaged",
        {"services": incident.services, "linked_outages": triaged.get("linked_outages", [])},
    )


async def run_triage(session: AsyncSession, incident: Incident) -> Incident:
    await _classify(session, incident, utcnow())
    _triaged_event(session, incident)
    return incident


async def retriage(session: AsyncSession, incident_id: str) -> Incident:
    """`POST /incidents/{id}/triage`: classifies again (a closed incident no longer changes)."""
    incident = await get(session, incident_id, lock=True)
    _refuse_closed(incident)
    return await run_triage(session, incident)


def _refuse_closed(incident: Incident) -> None:
    if lifecycle.is_final(incident.status):
        raise Conflict(
            "A closed incident cannot be changed.",
            details={"incident_id": incident.id, "status": incident.status},
        )


async def update(
    session: AsyncSession, incident_id: str, actor: Actor, data: IncidentUpdate
) -> Incident:
    """`PATCH /incidents/{id}`: only the given fields change; a change to nothing writes
    nothing (a retried close is not refused)."""
    incident = await get(session, incident_id, lock=True)
    wanted = data.model_dump(mode="json", exclude_unset=True)
    changed = {
        name: (getattr(incident, name), value)
        for name, value in wanted.items()
        if getattr(incident, name) != value
    }
    if not changed:
        return incident
    _refuse_closed(incident)
    if "status" in changed and not lifecycle.may_follow(*changed["status"]):
        raise Conflict(
            f"An incident cannot move from {incident.status} to {wanted['status']}.",
            details={"incident_id": incident.id, "status": incident.status},
        )
    if wanted.get("outage_id") is not None and "outage_id" in changed:
        await _linkable_outage(session, wanted["outage_id"])
    _apply(incident, changed, actor, utcnow())
    await _record_update(session, incident, actor, changed)
    return incident


async def _linkable_outage(session: AsyncSession, outage_id: str) -> None:
    """One of the organization's outages (the tenant filter hides every other), or 404."""
    found = await session.scalar(select(Outage.id).where(Outage.id == outage_id))
    if found is None:
        raise NotFound("Outage not found.", details={"field": "outage_id"})


def _apply(
    incident: Incident, changed: dict[str, tuple[Any, Any]], actor: Actor, now: datetime
) -> None:
    for name, (_, value) in changed.items():
        setattr(incident, name, value)
    if "status" in changed:
        for column, value in lifecycle.stamps(*changed["status"], now, actor.id).items():
            setattr(incident, column, value)
    incident.updated_at = now


async def _record_update(
    session: AsyncSession, incident: Incident, actor: Actor, changed: dict[str, tuple[Any, Any]]
) -> None:
    """One event and one audit row per change, named after the status reached."""
    kind = lifecycle.event_type(changed["status"][1] if "status" in changed else None)
    _event(
        session,
        incident,
        kind,
        {"changes": sorted(changed), "outage_id": incident.outage_id, "actor_id": actor.id},
    )
    journal.record(
        session,
        Change(
            organization_id=incident.organization_id,
            actor=actor,
            kind=kind,
            entity_type="incident",
            entity_id=incident.id,
            data={
                "changes": {name: {"from": old, "to": new} for name, (old, new) in changed.items()}
            },
        ),
    )


async def start_investigation(
    session: AsyncSession, organization_id: str, actor: Actor, incident_id: str
) -> tuple[Investigation, usage.Usage]:
    incident = await get(session, incident_id, lock=True)
    left = await usage.consume(session, organization_id, "investigation")
    if incident.status == IncidentStatus.open:  # someone is on it now
        changed = {"status": (incident.status, IncidentStatus.investigating)}
        _apply(incident, changed, actor, utcnow())
        await _record_update(session, incident, actor, changed)
    investigation = Investigation(
        organization_id=organization_id,
        incident_id=incident.id,
        status="queued",
        created_at=utcnow(),
        created_by=actor.id,
    )
    session.add(investigation)
    await session.flush()
    jobs.enqueue(
        session,
        RUN_INVESTIGATION,
        {"investigation_id": investigation.id},
        organization_id=organization_id,
    )
    return investigation, left


async def investigation(session: AsyncSession, investigation_id: str) -> Investigation:
    return await get_or_404(session, Investigation, investigation_id, "Investigation not found.")
