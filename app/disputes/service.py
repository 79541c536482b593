"""Disputes against SLA outcomes: file, resolve (accepted recomputes), bulk resolve."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import policies
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.loading import get_or_404
from app.disputes.models import Dispute, DisputeStatus
from app.disputes.schemas import DisputeCreate, DisputeResolve
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages import service as outages
from app.overrides import service as overrides
from app.sla import service as sla
from app.sla import settlement


async def get(session: AsyncSession, dispute_id: str, *, for_update: bool = False) -> Dispute:
    return await get_or_404(
        session, Dispute, dispute_id, "Dispute not found.", for_update=for_update
    )


def _data(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.id,
        "outage_id": dispute.outage_id,
        "sla_result_id": dispute.sla_result_id,
        "status": dispute.status,
        "resolution": dispute.resolution,
        "payment_difference": (
            str(dispute.payment_difference) if dispute.payment_difference is not None else None
        ),
        "new_sla_result_id": dispute.new_sla_result_id,
    }


async def file(
    session: AsyncSession, organization_id: str, actor: Actor, data: DisputeCreate
) -> Dispute:
    outage = await outages.get(session, data.outage_id)
    result = await sla.result_by_id(session, data.sla_result_id)
    if result.outage_id != outage.id:
        raise ValidationFailed(
            "This SLA result belongs to another outage.",
            details={
                "errors": [
                    {
                        "loc": ["body", "sla_result_id"],
                        "msg": "not a result of this outage",
                        "type": "value_error",
                    }
                ]
            },
        )
    if not result.is_latest:
        raise Conflict(
            "Only the latest SLA result of an outage can be disputed.",
            details={"sla_result_id": result.id},
        )
    dispute = Dispute(
        organization_id=organization_id,
        outage_id=outage.id,
        sla_result_id=result.id,
        reason=data.reason,
        proposed_mttr_minutes=data.claimed_mttr_minutes,
        status=DisputeStatus.open,
        filed_by=actor.id,
        created_at=utcnow(),
    )
    session.add(dispute)
    await session.flush()  # the open-dispute unique index answers a duplicate with 409 here
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="dispute.created",
            entity_type="dispute",
            entity_id=dispute.id,
            data=_data(dispute),
            publish=_data(dispute),
            note=Note(
                outage.id,
                "dispute_filed",
                f"SLA outcome disputed: {data.reason}",
                {"dispute_id": dispute.id},
            ),
        ),
    )
    return dispute


async def resolve(
    session: AsyncSession, dispute_id: str, actor: Actor, data: DisputeResolve
) -> Dispute:
    dispute = await get(session, dispute_id, for_update=True)
    if dispute.status != DisputeStatus.open:
        raise Conflict("This dispute is already closed.", details={"status": dispute.status})
    outage = await outages.get(session, dispute.outage_id, for_update=True)
    if data.resolution == "accepted":
        await _accept(session, dispute, outage, actor, data)
    else:
        dispute.status = DisputeStatus.rejected
    dispute.resolution, dispute.notes = data.resolution, data.notes
    dispute.resolved_by, dispute.resolved_at = actor.id, utcnow()
    journal.record(
        session,
        Change(
            organization_id=dispute.organization_id,
            actor=actor,
            kind="dispute.resolved",
            entity_type="dispute",
            entity_id=dispute.id,
            data=_data(dispute),
            publish=_data(dispute),
            note=Note(
                outage.id,
                "dispute_resolved",
                f"Dispute {data.resolution}" + (f": {data.notes}" if data.notes else ""),
                _data(dispute),
            ),
        ),
    )
    return dispute


async def _accept(
    session: AsyncSession, dispute: Dispute, outage: Any, actor: Actor, data: DisputeResolve
) -> None:
    """The filer's claimed MTTR, accepted, is an approved override (the same approval path as a
    claim at resolve: neither the filer nor the resolver may accept), and the outcome is
    settled with it under the policy version the disputed result used; the difference in
    what changes hands is recorded. An `adjusted_mttr_minutes` other than the claim is the
    acceptor's own number: a pending override for yet another person, and the payment waits."""
    claimed, adjusted = dispute.proposed_mttr_minutes, data.adjusted_mttr_minutes
    mttr = adjusted if adjusted is not None else claimed
    if mttr is None:
        raise ValidationFailed(
            "Accepting this dispute needs the corrected MTTR: it claimed none when filed "
            "(claimed_mttr_minutes), so give adjusted_mttr_minutes.",
            details={
                "errors": [
                    {
                        "loc": ["body", "adjusted_mttr_minutes"],
                        "msg": "required to accept",
                        "type": "missing",
                    }
                ]
            },
        )
    disputed = await sla.result_by_id(session, dispute.sla_result_id)
    if not disputed.is_latest:
        raise Conflict(
            "The disputed SLA result has been superseded; reject this dispute and file one "
            "against the outage's latest result.",
            details={"sla_result_id": disputed.id},
        )
    dispute.status = DisputeStatus.resolved
    if adjusted is not None and adjusted != claimed:
        overrides.second_person_for_dispute(actor, dispute, outage)
        await overrides.request(
            session,
            outage,
            actor,
            claimed=adjusted,
            measured=outage.measured_mttr_minutes or 0,
            claimed_resolved_at=None,
            reason=data.notes,
            dispute_id=dispute.id,
        )
        return
    policy = await policies.policy_by_id(session, disputed.policy_id)
    await overrides.record_approved(
        session,
        outage,
        actor,
        claimed=mttr,
        requested_by=dispute.filed_by,
        dispute_id=dispute.id,
        notes=data.notes,
    )
    result = await settlement.settle(session, outage, actor, trigger="dispute", policy=policy)
    old_signed = -disputed.amount if disputed.payment_type == "penalty" else disputed.amount
    new_signed = -result.amount if result.payment_type == "penalty" else result.amount
    dispute.new_sla_result_id = result.id
    dispute.payment_difference = Decimal(new_signed) - Decimal(old_signed)
