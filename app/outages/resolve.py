"""Resolving an outage: one transaction for the status, MTTR, SLA result, timeline, audit,
events and the work that follows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import Actor
from app.core.clock import isoformat, utcnow
from app.errors import Conflict, ValidationFailed
from app.events.service import emit
from app.outages import service, timeline
from app.outages.models import Outage, OutageStatus
from app.outages.schemas import OutageUpdate, ResolveRequest
from app.sla import policies
from app.sla import service as sla
from app.sla.engine import MAX_MTTR_MINUTES, Severity, evaluate, mttr_between
from app.sla.models import SlaResult


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        message,
        details={"errors": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
    )


async def resolve(
    session: AsyncSession, outage_id: str, actor: Actor, data: ResolveRequest
) -> tuple[Outage, SlaResult]:
    """The row lock makes a concurrent second resolve wait, then see `resolved` (409)."""
    outage = await service.get(session, outage_id, for_update=True)
    if outage.status == OutageStatus.resolved:
        raise Conflict("The outage is already resolved.", details={"outage_id": outage.id})
    resolved_at = data.resolved_at or utcnow()
    if resolved_at < outage.detected_at:
        raise _field_error("resolved_at", "resolved_at is before the outage was detected")
    mttr = (
        data.mttr_minutes
        if data.mttr_minutes is not None
        else mttr_between(outage.detected_at, resolved_at)
    )
    if mttr > MAX_MTTR_MINUTES:
        raise _field_error(
            "resolved_at",
            f"the outage would have lasted over {MAX_MTTR_MINUTES} minutes; give mttr_minutes",
        )
    policy = await policies.current_policy(
        session, outage.organization_id, Severity(outage.severity)
    )
    outcome = evaluate(mttr, policies.terms_of(policy))
    outage.status = OutageStatus.resolved
    outage.resolved_at = resolved_at
    outage.mttr_minutes = mttr
    outage.resolution_notes = data.resolution_notes
    if data.root_cause:
        outage.root_cause = data.root_cause
    outage.updated_at = utcnow()
    details = {"mttr_minutes": mttr, "resolved_at": isoformat(resolved_at)}
    timeline.append(
        session, outage, "resolved", f"Outage resolved (MTTR {mttr} min)", actor, details
    )
    await audit.record(
        session,
        organization_id=outage.organization_id,
        actor=actor,
        event_type="outage.resolved",
        entity_type="outage",
        entity_id=outage.id,
        data=details,
    )
    emit(
        session,
        organization_id=outage.organization_id,
        event_type="outage.resolved",
        entity_type="outage",
        entity_id=outage.id,
        data={**service.summary(outage), **details},
    )
    result = await sla.record_result(
        session, outage, policy, outcome, trigger="resolve", actor=actor
    )
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
