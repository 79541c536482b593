"""Override requests: a claimed MTTR recorded beside the measured clock, and the second
person's decision on it. Approving re-settles the outage on the claimed MTTR; rejecting
settles it on the clock. Either way the held payment is planned once nothing else waits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.errors import Conflict
from app.core.loading import get_or_404
from app.identity.approval import second_person
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages import service as outages
from app.outages.models import Outage
from app.overrides.models import MttrOverride, OverrideSource, OverrideStatus


def data_of(override: MttrOverride) -> dict[str, Any]:
    return {
        "override_id": override.id,
        "outage_id": override.outage_id,
        "source": override.source,
        "dispute_id": override.dispute_id,
        "claimed_mttr_minutes": override.claimed_mttr_minutes,
        "measured_mttr_minutes": override.measured_mttr_minutes,
        "claimed_resolved_at": (
            isoformat(override.claimed_resolved_at) if override.claimed_resolved_at else None
        ),
        "status": override.status,
        "requested_by": override.requested_by,
        "decided_by": override.decided_by,
    }


async def _announce(
    session: AsyncSession, outage: Outage, override: MttrOverride, actor: Actor, event: str
) -> None:
    data = data_of(override)
    messages = {
        "override_requested": f"MTTR override requested: {override.claimed_mttr_minutes} min "
        f"claimed, {override.measured_mttr_minutes} min measured; awaiting a second person",
        "override_approved": f"MTTR override approved: {override.claimed_mttr_minutes} min",
        "override_rejected": "MTTR override rejected: the measured "
        f"{override.measured_mttr_minutes} min stands",
    }
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind=f"sla.{event}",
            entity_type="mttr_override",
            entity_id=override.id,
            data=data,
            note=Note(outage.id, event, messages[event], data),
        ),
        subject=outage,
    )
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind="sla.override_requested"
            if event == "override_requested"
            else "sla.override_decided",
            entity_type="mttr_override",
            entity_id=override.id,
            publish=data,
            audited=False,
        ),
    )


async def request(
    session: AsyncSession,
    outage: Outage,
    actor: Actor,
    *,
    claimed: int,
    measured: int,
    claimed_resolved_at: datetime | None,
    reason: str | None,
    dispute_id: str | None = None,
) -> MttrOverride:
    """A claim the clock does not bear out, recorded, not applied: made when the outage was
    resolved, or by the person accepting a dispute with an MTTR of their own."""
    override = MttrOverride(
        organization_id=outage.organization_id,
        outage_id=outage.id,
        source=OverrideSource.dispute if dispute_id else OverrideSource.resolve,
        dispute_id=dispute_id,
        claimed_mttr_minutes=claimed,
        measured_mttr_minutes=measured,
        claimed_resolved_at=claimed_resolved_at,
        reason=reason,
        status=OverrideStatus.pending,
        requested_by=actor.id,
        requested_at=utcnow(),
    )
    session.add(override)
    await session.flush()
    await _announce(session, outage, override, actor, "override_requested")
    return override


def second_person_for_dispute(actor: Actor, dispute: Any, outage: Outage) -> None:
    """Whoever resolves a dispute is not its filer nor the outage's resolver."""
    second_person(actor, dispute.filed_by, outage.resolved_by, what="Accepting a dispute")


async def record_approved(
    session: AsyncSession,
    outage: Outage,
    approver: Actor,
    *,
    claimed: int,
    requested_by: str | None,
    dispute_id: str,
    notes: str | None,
) -> MttrOverride:
    """A dispute accepted with the MTTR its filer claimed: a request and its approval at once,
    by the person resolving the dispute (neither the one who filed it nor the outage's
    resolver)."""
    second_person(approver, requested_by, outage.resolved_by, what="Accepting a dispute's MTTR")
    now = utcnow()
    override = MttrOverride(
        organization_id=outage.organization_id,
        outage_id=outage.id,
        source=OverrideSource.dispute,
        dispute_id=dispute_id,
        claimed_mttr_minutes=claimed,
        measured_mttr_minutes=outage.measured_mttr_minutes
        if outage.measured_mttr_minutes is not None
        else claimed,
        status=OverrideStatus.approved,
        requested_by=requested_by,
        requested_at=now,
        decided_by=approver.id,
        decided_at=now,
        notes=notes,
    )
    session.add(override)
    await session.flush()
    await _announce(session, outage, override, approver, "override_approved")
    return override


async def get(session: AsyncSession, override_id: str) -> MttrOverride:
    return await get_or_404(session, MttrOverride, override_id, "Override request not found.")


async def _locked(session: AsyncSession, override_id: str) -> MttrOverride:
    """Re-read under its row lock: a decision committed meanwhile is seen."""
    return (
        await session.execute(
            select(MttrOverride)
            .where(MttrOverride.id == override_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def decide(
    session: AsyncSession, override_id: str, actor: Actor, *, approve: bool, notes: str | None
) -> MttrOverride:
    override = await get(session, override_id)
    # The outage first, then the request: every writer of an outage's results locks in that
    # order (resolve, disputes, recalculation), so two cannot deadlock.
    outage = await outages.get(session, override.outage_id, for_update=True)
    override = await _locked(session, override_id)
    if override.status != OverrideStatus.pending:
        raise Conflict(
            "This override request has already been decided.",
            details={"override_id": override.id, "status": override.status},
        )
    second_person(actor, override.requested_by, outage.resolved_by, what="Deciding an override")
    override.status = OverrideStatus.approved if approve else OverrideStatus.rejected
    override.decided_by, override.decided_at, override.notes = actor.id, utcnow(), notes
    await session.flush()
    event = "override_approved" if approve else "override_rejected"
    await _announce(session, outage, override, actor, event)
    await journal.follow_up(session)  # re-settled on the decision: app/reactions.py
    return override


def listing(status: str | None, outage_id: str | None) -> Select[Any]:
    stmt = select(MttrOverride)
    if status is not None:
        stmt = stmt.where(MttrOverride.status == status)
    if outage_id is not None:
        stmt = stmt.where(MttrOverride.outage_id == outage_id)
    return stmt


async def of_outage(session: AsyncSession, outage_id: str) -> list[MttrOverride]:
    rows = await session.execute(
        select(MttrOverride).where(MttrOverride.outage_id == outage_id).order_by(MttrOverride.id)
    )
    return list(rows.scalars())
