"""Resolving an outage: one transaction for the status, the measured clock, the SLA result,
timeline, audit, events and the work that follows.

The outcome is computed on the service's clock: `resolved_at - detected_at` less excluded
time. A claimed MTTR (`mttr_minutes`, or a `resolved_at` backdated beyond the tolerance) that
the clock does not bear out is recorded as an override request for a second person; the
payment waits for that decision (record 0017).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.db import settings_of
from app.core.errors import Conflict, ValidationFailed
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages import service
from app.outages.models import Outage, OutageStatus
from app.outages.schemas import OutageUpdate, ResolveRequest
from app.overrides import service as overrides
from app.pauses import service as pauses
from app.sla import settlement
from app.sla.models import SlaResult
from app.sla.service import latest_result


def clock_stop(reported: datetime, now: datetime, tolerance: timedelta) -> datetime:
    """Where the clock stops: the reported moment when it agrees with the service's clock
    (within the tolerance), else the moment the service learnt of the resolution."""
    return reported if abs(reported - now) <= tolerance else now


async def resolve(
    session: AsyncSession,
    outage_id: str,
    actor: Actor,
    data: ResolveRequest,
    *,
    clock_reading: datetime | None = None,
) -> tuple[Outage, SlaResult]:
    """The row lock makes a concurrent second resolve wait, then see `resolved` (409).

    `clock_reading` is the service's clock at the resolution: now, except for history the
    platform itself writes (the demo month), never from a request."""
    outage = await service.get(session, outage_id, for_update=True)
    if outage.status == OutageStatus.resolved:
        raise Conflict("The outage is already resolved.", details={"outage_id": outage.id})
    now = clock_reading or utcnow()
    reported = data.resolved_at or now
    if reported < outage.detected_at:
        raise ValidationFailed.of_field(
            "resolved_at", "resolved_at is before the outage was detected"
        )
    tolerance = settings_of(session).mttr_claim_tolerance_minutes
    stopped = max(clock_stop(reported, now, timedelta(minutes=tolerance)), outage.detected_at)
    outage.status = OutageStatus.resolved
    outage.resolved_at, outage.resolved_by = stopped, actor.id
    outage.resolution_notes = data.resolution_notes
    if data.root_cause:
        outage.root_cause = data.root_cause
    outage.updated_at = now
    await pauses.end_running(session, outage, stopped, actor)
    clock = await settlement.measured(session, outage)
    claimed = data.mttr_minutes
    if claimed is None and reported != stopped:
        claimed = (await settlement.measured(session, outage, reported)).mttr_minutes
    details = {
        "mttr_minutes": clock.mttr_minutes,
        "measured_mttr_minutes": clock.mttr_minutes,
        "excluded_minutes": clock.excluded_minutes,
        "claimed_mttr_minutes": claimed,
        "resolved_at": isoformat(stopped),
        "reported_resolved_at": isoformat(reported),
    }
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind="outage.resolved",
            entity_type="outage",
            entity_id=outage.id,
            data=details,
            publish={**service.summary(outage), **details},
            note=Note(
                outage.id,
                "resolved",
                f"Outage resolved (measured MTTR {clock.mttr_minutes} min)",
                details,
            ),
        ),
        subject=outage,
    )
    if claimed is not None and abs(claimed - clock.mttr_minutes) > tolerance:
        await overrides.request(
            session,
            outage,
            actor,
            claimed=claimed,
            measured=clock.mttr_minutes,
            claimed_resolved_at=reported if reported != stopped else None,
            reason=data.resolution_notes,
        )
    await journal.follow_up(session)  # settled under its SLA, then paid: app/reactions.py
    result = await latest_result(session, outage.id)
    assert result is not None
    return outage, result


async def update(
    session: AsyncSession, outage_id: str, actor: Actor, data: OutageUpdate
) -> tuple[Outage, bool]:
    """`PUT`/`PATCH`: the changes, then, with `status: resolved`, the resolution, in the
    request's one transaction. True when the outage was resolved (its SLA computed)."""
    if data.status != "resolved":
        return await service.update(session, outage_id, actor, data), False
    await service.update(session, outage_id, actor, data.changes())
    outage, _ = await resolve(session, outage_id, actor, data.resolution())
    return outage, True
