"""Investigations run in the background (queue `investigations`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.incidents import investigate
from app.incidents.models import Incident, Investigation
from app.incidents.service import RUN_INVESTIGATION, run_triage
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.journal import journal
from app.journal.entries import Change


@job_handler(RUN_INVESTIGATION, queue="investigations", max_attempts=3)
async def run_investigation(session: AsyncSession, job: Job) -> dict[str, Any]:
    found = await session.get(Investigation, job.payload["investigation_id"], with_for_update=True)
    if found is None or found.status == "completed":
        return {"status": found.status if found else "missing"}
    incident = await session.get(Incident, found.incident_id)
    assert incident is not None
    if incident.triaged_at is None:
        await run_triage(session, incident)
    found.findings = await investigate.findings(session, incident)
    # The incident's status is people's (open, investigating, resolved, closed): starting the
    # investigation moved it; its completion is the investigation's own status.
    found.status, found.completed_at = "completed", utcnow()
    journal.record(
        session,
        Change(
            organization_id=found.organization_id,
            actor=SYSTEM,
            kind="investigation.completed",
            entity_type="investigation",
            entity_id=found.id,
            publish={
                "investigation_id": found.id,
                "incident_id": incident.id,
                "hypotheses": [h["cause"] for h in found.findings["hypotheses"][:3]],
            },
            audited=False,
        ),
    )
    return {"status": found.status, "hypotheses": len(found.findings["hypotheses"])}
