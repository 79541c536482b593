"""`GET /sla/status/{outage_id}`: where an outage stands against its SLA and where its outcome
stands on the contract and the ledger (its payment): a view across features, so it lives above
them (its path and operation are the SLA section's)."""

from __future__ import annotations

from typing import Any

from app.contracts import policies
from app.contracts.engine import Severity
from app.core.db import SessionDep
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal
from app.outages import service as outages
from app.outages.dependencies import OutageId
from app.payments import service as payments
from app.payments.models import Payment, PaymentStatus
from app.sla import service as sla
from app.sla import status
from app.sla.models import SlaResult
from app.sla.schemas import SlaStatusReport

router = APIRouter(prefix="/sla", tags=["SLA"])


@router.get(
    "/status/{outage_id}",
    response_model=SlaStatusReport,
    summary="Real-time SLA status of an outage",
)
async def sla_status(
    outage_id: OutageId, principal: CurrentPrincipal, session: SessionDep
) -> SlaStatusReport:
    """Where an outage stands against its SLA right now: elapsed and remaining minutes while open,
    the outcome once resolved, and the contract and payment state."""
    outage = await outages.get(session, outage_id)
    policy = await policies.current_policy(session, outage.contract_id, Severity(outage.severity))
    latest = await sla.latest_result(session, outage.id)
    excluded = await status.live_exclusions(session, outage) if latest is None else 0.0
    state = status.of_outage(outage, policy.threshold_minutes, latest, excluded)
    payment = await payments.latest_for_outage(session, outage.id)
    # This report shows no money as 0 where the status shows null (the seed's shape).
    amounts = {name: state[name] or 0 for name in ("penalty_amount", "reward_amount")}
    return SlaStatusReport.model_validate(
        {**state, **amounts, **_settlement(latest, payment), "outage_id": outage.id}
    )


def _settlement(result: SlaResult | None, payment: Payment | None) -> dict[str, Any]:
    """Where the outcome stands on the contract and on the ledger."""
    confirmed = payment is not None and payment.status == PaymentStatus.confirmed
    return {
        "contract_status": result.contract_status if result else None,
        "smart_contract_invoked": bool(result and result.contract_tx_hash),
        "contract_tx_hash": result.contract_tx_hash if result else None,
        "payment_id": payment.id if payment else None,
        "payment_status": payment.status if payment else None,
        "payment_executed": confirmed,
        "payment_tx_hash": payment.transaction_hash if confirmed and payment else None,
    }
