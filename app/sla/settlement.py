"""Settling a resolved outage: which MTTR counts, the outcome under the terms in force, and the
payment once nothing waits for a decision.

The outage is settled under the contract in force for its site at detection (read again here:
a contract created since may cover it). The MTTR is the measured clock (`resolved_at -
detected_at` less excluded time), unless a second person approved an override (a claim made
at resolve, or a dispute accepted with a corrected MTTR). Every path that decides the outcome
of a resolved outage comes through here: resolve, an override's or a pause's decision, a
dispute's acceptance. Records 0017 and 0018.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import policies
from app.contracts import service as contracts
from app.contracts.engine import Severity, evaluate
from app.contracts.models import SlaPolicy
from app.core.actors import Actor
from app.journal import journal
from app.journal.entries import Change
from app.outages.models import Outage
from app.sla import service as sla
from app.sla.exclusions import ClockOf, spans_of
from app.sla.measure import Measurement, Span, measure
from app.sla.models import SlaResult

CLOCK = "clock"
APPROVED_OVERRIDE = "approved_override"
IMPORTED = "imported"  # the times of an outage imported already over (never paid)


async def exclusions(session: AsyncSession, outage: Outage, end: datetime) -> list[Span]:
    """The spans taken off an outage's clock up to `end`: its site's maintenance windows and
    its counted or approved pauses."""
    spans = await spans_of(session, [ClockOf.of(outage, end)], now=end)
    return spans[outage.id]


async def measured(
    session: AsyncSession, outage: Outage, end: datetime | None = None
) -> Measurement:
    """The outage's clock from detection to `end` (its resolution by default), with the
    exclusions known now."""
    stop = end or outage.resolved_at
    assert stop is not None
    return measure(outage.detected_at, stop, await exclusions(session, outage, stop))


approved_override = sla.approved_override


async def settle(
    session: AsyncSession,
    outage: Outage,
    actor: Actor,
    *,
    trigger: str,
    policy: SlaPolicy | None = None,
) -> SlaResult:
    """The outage's latest result, recorded anew when the MTTR, its source or the outcome
    changed; its payment is planned unless a decision is pending.

    The contract and terms are chosen once, when the outage is first settled (the contract in
    force for its site at detection, its current terms); a later decision (an override, a
    pause, a dispute) re-settles under the terms the latest result used, so it changes the
    MTTR and nothing else, and the counterparty stays the one paid or charged so far."""
    clock = await measured(session, outage)
    override = await approved_override(session, outage.id)
    latest = await sla.latest_result(session, outage.id)
    outage.measured_mttr_minutes = clock.mttr_minutes
    outage.excluded_minutes = clock.excluded_minutes
    outage.mttr_minutes = override.claimed_mttr_minutes if override else clock.mttr_minutes
    outage.mttr_source = (
        APPROVED_OVERRIDE if override else IMPORTED if outage.imported_closed else CLOCK
    )
    if policy is None and latest is not None:
        policy = await policies.policy_by_id(session, latest.policy_id)
    elif policy is None:
        # Settled under the contract in force for its site at detection.
        contract = contracts.choose(await contracts.contracts(session), outage)
        outage.contract_id = contract.id
        policy = await policies.current_policy(session, contract.id, Severity(outage.severity))
    outcome = evaluate(outage.mttr_minutes, policies.terms_of(policy))
    override_id = override.id if override else None
    if latest is not None and _unchanged(latest, outage, policy, override_id, outcome.amount):
        # Nothing to record, but a decision may have lifted a hold: app/reactions.py.
        journal.record(
            session,
            Change(outage.organization_id, actor, "sla.confirmed", audited=False),
            subject=latest,
        )
        await journal.follow_up(session)
        return latest
    result = await sla.record_result(
        session, outage, policy, outcome, trigger=trigger, actor=actor, override_id=override_id
    )
    if override is not None and override.sla_result_id is None:
        override.sla_result_id = result.id
    return result


def _unchanged(
    latest: SlaResult, outage: Outage, policy: SlaPolicy, override_id: str | None, amount: object
) -> bool:
    return (
        latest.policy_id == policy.id
        and latest.mttr_minutes == outage.mttr_minutes
        and latest.mttr_source == outage.mttr_source
        and latest.measured_mttr_minutes == outage.measured_mttr_minutes
        and latest.override_id == override_id
        and latest.amount == amount
    )
