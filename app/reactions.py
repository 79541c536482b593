"""What follows from what: every reaction of the platform, declared in one place.

A feature records its change (`app.journal.journal.record`) and knows nothing of what follows;
what follows is declared here (`DECLARATIONS`), runs in the same transaction at the change's
`follow_up`, and records changes of its own. docs/architecture.md draws the chain from
`described()`, and a test holds the two together.

After the commit, the payout job pays on the ledger (app/payments/tasks.py), the webhook fan-out
delivers every published event and the audit chainer links the rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.journal.entries import Change
from app.journal.reactions import REACTIONS, Reaction
from app.outages import service as outages
from app.outages.models import Outage, OutageStatus
from app.payments.planning import plan_for_result
from app.sla import service as sla
from app.sla import settlement
from app.sla.holds import hold_reason
from app.sla.models import SlaResult


async def settle_resolved(session: AsyncSession, change: Change, outage: Outage) -> None:
    """The outcome, on the measured clock, under the contract in force for the site."""
    await settlement.settle(session, outage, change.actor, trigger="resolve")


async def plan_payout(session: AsyncSession, change: Change, result: SlaResult) -> None:
    """The result's payment, unless a decision holds it (an override, a pause, history)."""
    outage = await session.get(Outage, result.outage_id)
    assert outage is not None
    if await hold_reason(session, outage.id) is None:
        await plan_for_result(session, outage, result, change.actor)


async def record_on_contract(session: AsyncSession, change: Change, result: SlaResult) -> None:
    """The result recorded by the Soroban contract (a job), when one is configured."""
    sla.record_on_contract(session, result)


async def resettle_after_override(session: AsyncSession, change: Change, outage: Outage) -> None:
    """The outage settled again on the decided MTTR (the claim, or the clock)."""
    await settlement.settle(session, outage, change.actor, trigger="override")


async def resettle_after_pause(session: AsyncSession, change: Change, outage: Outage) -> None:
    """A resolved outage settled again with the pause's time counted or not."""
    if outage.status == OutageStatus.resolved:
        await settlement.settle(session, outage, change.actor, trigger="pause")


async def reassign_open_outages(session: AsyncSession, change: Change, contract: Any) -> None:
    """Open outages move to the contract now in force for their site."""
    await outages.reassign_open(session)


# The resolve chain first: resolved -> settled -> paid (and recorded on the contract).
DECLARATIONS: tuple[tuple[str, Reaction], ...] = (
    ("outage.resolved", settle_resolved),
    ("sla.calculated", plan_payout),
    ("sla.calculated", record_on_contract),
    # A re-settlement that changed nothing: a decision may have lifted a hold.
    ("sla.confirmed", plan_payout),
    ("sla.override_approved", resettle_after_override),
    ("sla.override_rejected", resettle_after_override),
    ("outage.pause_approved", resettle_after_pause),
    ("outage.pause_rejected", resettle_after_pause),
    ("sla.contract_created", reassign_open_outages),
    ("sla.contract_changed", reassign_open_outages),
)


def install() -> None:
    """Declares every reaction (idempotent); called once per process at start-up."""
    for kind, reaction in DECLARATIONS:
        REACTIONS.on(kind, reaction)
    REACTIONS.installed = True


def described() -> str:
    """The registry as docs/architecture.md shows it: a line per reaction, in order."""
    return "\n".join(
        f"| `{kind}` | `{reaction.__name__}` | {(reaction.__doc__ or '').strip()} |"
        for kind, reaction in DECLARATIONS
    )
