"""Background SLA work: large recalculations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.outages.models import Outage, OutageStatus
from app.sla import service

RECALCULATE = "sla.recalculate"


@job_handler(RECALCULATE, queue="sla", max_attempts=3)
async def recalculate_job(session: AsyncSession, job: Job) -> dict[str, Any]:
    """Re-running is harmless: outcomes already recalculated come back `unchanged`."""
    organization_id = job.payload["organization_id"]
    ids: list[str] = job.payload.get("outage_ids") or []
    if job.payload.get("all"):
        ids = list(
            (
                await session.execute(
                    select(Outage.id)
                    .where(
                        Outage.organization_id == organization_id,
                        Outage.status == OutageStatus.resolved,
                    )
                    .order_by(Outage.id)
                )
            ).scalars()
        )
    actor = Actor(job.payload.get("actor_type", "system"), job.payload.get("actor_id"))
    report = await service.recalculate(session, organization_id, ids, actor)
    return report.as_dict()
