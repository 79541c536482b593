"""SLA results: computing, persisting (one latest per outage), calculate and recalculate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import policies
from app.contracts.engine import Outcome, Severity, evaluate
from app.contracts.models import SlaContract, SlaPolicy
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.db import settings_of
from app.core.errors import Conflict
from app.core.loading import get_or_404
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages.models import Outage, OutageStatus
from app.overrides.models import MttrOverride, OverrideStatus
from app.sla.models import SlaResult

RECORD_ON_CONTRACT = "sla.record_on_contract"


async def approved_override(session: AsyncSession, outage_id: str) -> MttrOverride | None:
    """The latest approved override of the outage: it replaces the measured MTTR."""
    return (
        await session.execute(
            select(MttrOverride)
            .where(
                MttrOverride.outage_id == outage_id,
                MttrOverride.status == OverrideStatus.approved,
            )
            .order_by(MttrOverride.decided_at.desc(), MttrOverride.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def latest_result(session: AsyncSession, outage_id: str) -> SlaResult | None:
    return (
        await session.execute(
            select(SlaResult).where(SlaResult.outage_id == outage_id, SlaResult.is_latest.is_(True))
        )
    ).scalar_one_or_none()


async def result_by_id(session: AsyncSession, result_id: str) -> SlaResult:
    return await get_or_404(session, SlaResult, result_id, "SLA result not found.")


def outcome_data(result: SlaResult) -> dict[str, Any]:
    return {
        "sla_result_id": result.id,
        "outage_id": result.outage_id,
        "status": result.status,
        "mttr_minutes": result.mttr_minutes,
        "mttr_source": result.mttr_source,
        "measured_mttr_minutes": result.measured_mttr_minutes,
        "excluded_minutes": result.excluded_minutes,
        "override_id": result.override_id,
        "threshold_minutes": result.threshold_minutes,
        "payment_type": result.payment_type,
        "amount": str(result.amount),
        "rating": result.rating,
        "policy_version": result.policy_version,
        "contract_id": result.contract_id,
        "counterparty_id": result.counterparty_id,
    }


async def record_result(
    session: AsyncSession,
    outage: Outage,
    policy: SlaPolicy,
    outcome: Outcome,
    *,
    trigger: str,
    actor: Actor,
    override_id: str | None = None,
) -> SlaResult:
    """Persists the outcome as the outage's latest result; the previous latest is kept, no
    longer latest. Timeline, audit and the `sla.calculated` event join the transaction. The
    MTTR's source and the measured clock are the outage's (`settlement.settle` sets them; an
    approved override is named on the result whichever path records it). The payment is
    planned unless a decision is pending (`holds`)."""
    if override_id is None and outage.mttr_source == "approved_override":
        override = await approved_override(session, outage.id)
        override_id = override.id if override else None
    previous = await latest_result(session, outage.id)
    if previous is not None:
        await session.execute(
            update(SlaResult).where(SlaResult.id == previous.id).values(is_latest=False)
        )
    contract = await session.get(SlaContract, policy.contract_id)
    assert contract is not None
    result = SlaResult(
        organization_id=outage.organization_id,
        outage_id=outage.id,
        policy_id=policy.id,
        policy_version=policy.version,
        contract_id=contract.id,
        counterparty_id=contract.counterparty_id,
        severity=policy.severity,
        mttr_minutes=outcome.mttr_minutes,
        mttr_source=outage.mttr_source or "clock",
        measured_mttr_minutes=outage.measured_mttr_minutes,
        excluded_minutes=outage.excluded_minutes or 0,
        override_id=override_id,
        threshold_minutes=outcome.threshold_minutes,
        status=outcome.status.value,
        rating=outcome.rating.value,
        multiplier=outcome.multiplier,
        payment_type=outcome.payment_type.value,
        amount=outcome.amount,
        is_latest=True,
        trigger=trigger,
        supersedes_id=previous.id if previous else None,
        computed_at=utcnow(),
        correlation_id=get_correlation_id(),
    )
    session.add(result)
    await session.flush()
    data = outcome_data(result)
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind="sla.calculated",
            entity_type="sla_result",
            entity_id=result.id,
            data={**data, "trigger": trigger},
            publish=data,
            note=Note(
                outage.id,
                "sla_evaluated",
                f"SLA {outcome.status.value}: {outcome.payment_type.value} {outcome.amount}",
                data,
            ),
        ),
        subject=result,
    )
    await journal.follow_up(session)  # the payout and the contract record: app/reactions.py
    return result


def record_on_contract(session: AsyncSession, result: SlaResult) -> None:
    """The result is recorded by the Soroban contract, when one is configured (a job)."""
    if settings_of(session).soroban_contract_id:
        result.contract_status = "pending"
        jobs.enqueue(
            session,
            RECORD_ON_CONTRACT,
            {"sla_result_id": result.id},
            organization_id=result.organization_id,
        )


def _same_outcome(result: SlaResult, outcome: Outcome) -> bool:
    return (result.status, result.payment_type, result.amount, result.mttr_minutes) == (
        outcome.status.value,
        outcome.payment_type.value,
        outcome.amount,
        outcome.mttr_minutes,
    )


def _require_resolved(outage: Outage) -> int:
    if outage.status != OutageStatus.resolved or outage.mttr_minutes is None:
        raise Conflict(
            "The outage is not resolved yet; its SLA outcome is not final.",
            details={"outage_id": outage.id, "status": outage.status},
        )
    return outage.mttr_minutes


async def calculate(session: AsyncSession, outage: Outage, actor: Actor) -> SlaResult:
    """Idempotent per outage and policy version: the latest result is returned when it already
    used the current policy."""
    mttr = _require_resolved(outage)
    policy = await policies.current_policy(session, outage.contract_id, Severity(outage.severity))
    latest = await latest_result(session, outage.id)
    if latest is not None and latest.policy_id == policy.id and latest.mttr_minutes == mttr:
        return latest
    outcome = evaluate(mttr, policies.terms_of(policy))
    return await record_result(session, outage, policy, outcome, trigger="calculate", actor=actor)


@dataclass
class RecalculationReport:
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"updated": self.updated, "unchanged": self.unchanged, "errors": self.errors}


async def recalculate(
    session: AsyncSession, organization_id: str, outage_ids: list[str], actor: Actor
) -> RecalculationReport:
    """A new result only where the current policy changes the outcome."""
    report = RecalculationReport()
    outages = {
        o.id: o
        for o in (
            await session.execute(
                select(Outage)
                .where(Outage.organization_id == organization_id, Outage.id.in_(outage_ids))
                # Locked in id order: every writer of results locks outages before the audit
                # chain, and in the same order, so two writers cannot deadlock.
                .order_by(Outage.id)
                .with_for_update()
            )
        ).scalars()
    }
    current = {
        (p.contract_id, p.severity): p
        for p in (
            await session.execute(select(SlaPolicy).where(SlaPolicy.is_current.is_(True)))
        ).scalars()
    }
    for outage_id in dict.fromkeys(outage_ids):
        outage = outages.get(outage_id)
        if outage is None:
            report.errors.append({"outage_id": outage_id, "error": "not_found"})
            continue
        if outage.status != OutageStatus.resolved or outage.mttr_minutes is None:
            report.errors.append({"outage_id": outage_id, "error": "not_resolved"})
            continue
        policy = current[(outage.contract_id, outage.severity)]
        outcome = evaluate(outage.mttr_minutes, policies.terms_of(policy))
        latest = await latest_result(session, outage.id)
        if latest is not None and _same_outcome(latest, outcome):
            report.unchanged.append(outage_id)
            continue
        result = await record_result(
            session, outage, policy, outcome, trigger="recalculate", actor=actor
        )
        report.updated.append(
            {
                "outage_id": outage_id,
                "sla_result_id": result.id,
                "previous_sla_result_id": latest.id if latest else None,
                "status": result.status,
                "amount": str(result.amount),
                "payment_type": result.payment_type,
            }
        )
    return report
