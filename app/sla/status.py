"""The SLA status as the API shows it (`SlaStatusOut`), rendered in one place for an outage's
detail, a page of outages and `GET /sla/status/{id}`: the latest result once there is one, else
the live clock against the threshold, less the time excluded so far."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import clock
from app.core.clock import utcnow
from app.core.schemas import usdc_number
from app.outages.models import Outage
from app.sla.exclusions import ClockOf, excluded_seconds
from app.sla.models import SlaResult
from app.sla.schemas import SLA_STATUS_KEYS

_ABSENT = dict.fromkeys(SLA_STATUS_KEYS)  # every key present, null where it does not apply


class ResultRow(NamedTuple):
    """A result's columns as a page reads them (`RESULT_COLUMNS`, in this order)."""

    id: str
    status: str
    severity: str
    threshold_minutes: int
    mttr_minutes: int
    amount: Decimal
    payment_type: str
    rating: str
    policy_version: int
    mttr_source: str
    contract_status: str | None
    contract_tx_hash: str | None


RESULT_COLUMNS = ResultRow._fields
# What the status shows of a result: the result, or its columns read with a page.
Result = SlaResult | ResultRow


def render(
    result: Result | None,
    *,
    severity: str,
    threshold: int,
    detected_at: datetime,
    resolved_at: datetime | None,
    excluded: float = 0.0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every key of `SlaStatusOut`. An open outage's clock leaves out `excluded` seconds
    (maintenance windows, pauses: `live_exclusions`)."""
    if result is not None:
        amount = usdc_number(result.amount)
        return _ABSENT | {
            "status": result.status,
            "severity": result.severity,
            "threshold_minutes": result.threshold_minutes,
            "mttr_minutes": result.mttr_minutes,
            "penalty_amount": amount if result.payment_type == "penalty" else 0.0,
            "reward_amount": amount if result.payment_type == "reward" else 0.0,
            "performance_rating": result.rating,
            "payment_type": result.payment_type,
            "policy_version": result.policy_version,
            "sla_result_id": result.id,
            "mttr_source": result.mttr_source,
            "smart_contract_invoked": result.contract_status is not None,
            "contract_tx_hash": result.contract_tx_hash,
        }
    state = clock(detected_at, resolved_at or now or utcnow(), threshold, excluded)
    return _ABSENT | {
        "status": state.status.value,
        "severity": severity,
        "threshold_minutes": threshold,
        "elapsed_minutes": state.elapsed_minutes,
        "at_risk": state.at_risk,
        "time_remaining_minutes": state.time_remaining_minutes,
    }


def of_outage(
    outage: Outage, threshold: int, result: Result | None, excluded: float = 0.0
) -> dict[str, Any]:
    return render(
        result,
        severity=outage.severity,
        threshold=threshold,
        detected_at=outage.detected_at,
        resolved_at=outage.resolved_at,
        excluded=excluded,
    )


async def live_exclusions(session: AsyncSession, outage: Outage) -> float:
    """Seconds an open outage's clock has not counted so far."""
    now = utcnow()
    if outage.resolved_at is not None:
        return 0.0
    found = await excluded_seconds(session, [ClockOf.of(outage, now)], now=now)
    return found[outage.id]


def result_of(
    row: Sequence[Any], pick: Callable[[Sequence[Any]], tuple[Any, ...]]
) -> ResultRow | None:
    """The result columns of a page's row (`pick`: an itemgetter of their positions, in
    `RESULT_COLUMNS` order), or None when it has none."""
    columns = pick(row)
    return None if columns[0] is None else ResultRow._make(columns)
