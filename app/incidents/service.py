"""Incidents: intake under the monthly quota, triage, investigations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor
from app.core.clock import isoformat, utcnow
from app.core.correlation import get_correlation_id
from app.core.loading import get_or_404
from app.events.service import emit
from app.faults.models import Fault
from app.incidents import triage, usage
from app.incidents.models import Incident, Investigation
from app.incidents.schemas import IncidentCreate
from app.jobs import service as jobs
from app.outages.models import Outage, OutageStatus

RUN_INVESTIGATION = "investigations.run"
RECENT_FAULTS = timedelta(hours=24)


def _event(
    session: AsyncSession, incident: Incident, event_type: str, data: dict[str, Any]
) -> None:
    emit(
        session,
        organization_id=incident.organization_id,
        event_type=event_type,
        entity_type="incident",
        entity_id=incident.id,
        data={
            "incident_id": incident.id,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            **data,
        },
    )


async def create(
    session: AsyncSession, organization_id: str, actor: Actor, data: IncidentCreate
) -> tuple[Incident, usage.Usage]:
    left = await usage.consume(session, organization_id, "event")
    incident = Incident(
        organization_id=organization_id,
        title=data.title,
        description=data.description,
        severity="medium",
        status="open",
        source="manual",
        services=[],
        created_by=actor.id,
        correlation_id=get_correlation_id(),
    )
    session.add(incident)
    await session.flush()
    _event(session, incident, "incident.created", {})
    return incident, left


async def get(session: AsyncSession, incident_id: str, *, lock: bool = False) -> Incident:
    return await get_or_404(session, Incident, incident_id, "Incident not found.", for_update=lock)


async def _known_services(session: AsyncSession) -> set[str]:
    rows = await session.execute(
        select(Outage.services_affected).order_by(Outage.id.desc()).limit(500)
    )
    known = {s for (services,) in rows for s in services}
    known |= set((await session.execute(select(Fault.type).distinct().limit(500))).scalars())
    return known


async def run_triage(session: AsyncSession, incident: Incident) -> Incident:
    """Severity and services from the text (triage.py rules), and links to open outages and
    recent faults of the same services or named sites."""
    result = triage.classify(incident.title, incident.description, await _known_services(session))
    words = set(triage.words(f"{incident.title} {incident.description}"))
    open_outages = (
        await session.execute(
            select(Outage).where(Outage.status != OutageStatus.resolved).limit(200)
        )
    ).scalars()
    linked_outages = [
        o.id
        for o in open_outages
        if set(result.services) & set(o.services_affected)
        or (o.site_id and o.site_id.lower() in words)
        or o.site_name.lower() in words
    ]
    recent = (
        await session.execute(
            select(Fault)
            .where(Fault.created_at >= utcnow() - RECENT_FAULTS)
            .order_by(Fault.id.desc())
            .limit(500)
        )
    ).scalars()
    linked_faults = [
        f.id
        for f in recent
        if f.type in result.services or words & {s.lower() for s in f.ancestry.split("|") if s}
    ]
    incident.severity, incident.services = result.severity, result.services
    incident.status = "triaged" if incident.status == "open" else incident.status
    incident.triaged_at = utcnow()
    incident.triage = {
        "rules_matched": result.matched,
        "linked_outages": linked_outages[:50],
        "linked_faults": linked_faults[:50],
        "triaged_at": isoformat(incident.triaged_at),
    }
    _event(
        session,
        incident,
        "incident.triaged",
        {"services": result.services, "linked_outages": linked_outages[:50]},
    )
    return incident


async def start_investigation(
    session: AsyncSession, organization_id: str, actor: Actor, incident_id: str
) -> tuple[Investigation, usage.Usage]:
    incident = await get(session, incident_id, lock=True)
    left = await usage.consume(session, organization_id, "investigation")
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
