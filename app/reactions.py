"""What follows from what: every reaction of the platform, declared in one place.

A feature records its change (`app.journal.journal.record`) and knows nothing of what follows;
what follows is declared here, runs in the same transaction at the change's `follow_up`, and
records changes of its own. The chain from a resolve to a payout (docs/architecture.md draws it
from `REACTIONS.chain()`, and a test holds the two together):

- `outage.resolved`: the outcome is settled on the measured clock under the contract in force;
- `sla.calculated`: its payment is planned (unless a decision holds it) and, with a Soroban
  contract configured, the result is recorded on it (a job);
- `sla.confirmed` (a re-settlement that changed nothing): a decision may have lifted a hold,
  so the payment is planned if it is not yet.

After the commit, the payout job pays on the ledger (app/payments/tasks.py), the webhook fan-out
delivers every published event and the audit chainer links the rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.journal.entries import Change
from app.journal.reactions import REACTIONS
from app.outages import service as outages
from app.outages.models import Outage, OutageStatus
from app.payments.planning import plan_for_result
from app.sla import service as sla
from app.sla import settlement
from app.sla.holds import hold_reason
from app.sla.models import SlaResult


async def settle_resolved(session: AsyncSession, change: Change, outage: Outage) -> None:
    await settlement.settle(session, outage, change.actor, trigger="resolve")


async def plan_payout(session: AsyncSession, change: Change, result: SlaResult) -> None:
    outage = await session.get(Outage, result.outage_id)
    assert outage is not None
    if await hold_reason(session, outage.id) is None:
        await plan_for_result(session, outage, result, change.actor)


async def record_on_contract(session: AsyncSession, change: Change, result: SlaResult) -> None:
    sla.record_on_contract(session, result)


async def reassign_open_outages(session: AsyncSession, change: Change, contract: Any) -> None:
    await outages.reassign_open(session)


async def resettle_after_override(session: AsyncSession, change: Change, outage: Outage) -> None:
    await settlement.settle(session, outage, change.actor, trigger="override")


async def resettle_after_pause(session: AsyncSession, change: Change, outage: Outage) -> None:
    if outage.status == OutageStatus.resolved:
        await settlement.settle(session, outage, change.actor, trigger="pause")


def install() -> None:
    """Declares every reaction (idempotent); called once per process at start-up."""
    declarations: list[tuple[str, Any]] = [
        ("outage.resolved", settle_resolved),
        ("sla.calculated", plan_payout),
        ("sla.calculated", record_on_contract),
        ("sla.confirmed", plan_payout),
        ("sla.override_approved", resettle_after_override),
        ("sla.override_rejected", resettle_after_override),
        ("outage.pause_approved", resettle_after_pause),
        ("outage.pause_rejected", resettle_after_pause),
        ("sla.contract_created", reassign_open_outages),
        ("sla.contract_changed", reassign_open_outages),
    ]
    for kind, reaction in declarations:
        REACTIONS.on(kind, reaction)
    REACTIONS.installed = True
