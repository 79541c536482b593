"""Shaping one outage for responses: the live SLA clock while open, the latest result once
resolved, and the rest of its record. Pages of outages are `app/lifecycle/listing.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import SlaPolicy
from app.journal.journal import journal_of
from app.lifecycle.schemas import OutageCreated, OutageDetail, OutageOut, RcaOut, TimelineOut
from app.outages import service, timeline
from app.outages.models import Outage
from app.overrides import service as overrides
from app.overrides.schemas import OverrideOut
from app.pauses import service as pauses
from app.pauses.schemas import PauseOut
from app.payments import service as payments
from app.payments.presenter import present as present_payment
from app.payments.schemas import PaymentOut
from app.sla import status
from app.sla.holds import hold_reason
from app.sla.models import SlaResult
from app.sla.schemas import SlaResultOut

_COLUMNS = tuple(name for name in OutageOut.model_fields if name not in ("location", "sla_status"))


def _fields(outage: Outage) -> dict[str, Any]:
    location = None
    if outage.latitude is not None and outage.longitude is not None:
        location = {"latitude": outage.latitude, "longitude": outage.longitude}
    return {name: getattr(outage, name) for name in _COLUMNS} | {"location": location}


async def _threshold(session: AsyncSession, outage: Outage) -> int:
    connection = await session.connection()
    values = {"contract": outage.contract_id, "severity": outage.severity}
    return (await connection.execute(_THRESHOLD, values)).scalar_one_or_none() or 0


async def _latest_results(session: AsyncSession, outage_ids: Sequence[str]) -> dict[str, SlaResult]:
    if not outage_ids:
        return {}
    rows = await session.execute(
        select(SlaResult).where(SlaResult.outage_id.in_(outage_ids), SlaResult.is_latest.is_(True))
    )
    return {r.outage_id: r for r in rows.scalars()}


async def _payment(session: AsyncSession, outage_id: str) -> PaymentOut | None:
    payment = await payments.latest_for_outage(session, outage_id)
    return present_payment(session, payment) if payment else None


_THRESHOLD = select(SlaPolicy.threshold_minutes).where(
    SlaPolicy.contract_id == bindparam("contract"),
    SlaPolicy.severity == bindparam("severity"),
    SlaPolicy.is_current.is_(True),
)


async def present_new(session: AsyncSession, outage: Outage) -> OutageCreated:
    """A just-created outage: no result, RCA or payment yet, and its timeline is the entries
    this session added; only its SLA threshold is read."""
    known = journal_of(session).read_along
    threshold = known[outage.id] if outage.id in known else await _threshold(session, outage)
    entries = timeline.added(session, outage.id)
    return OutageCreated.model_validate(
        {
            **_fields(outage),
            "sla_status": status.of_outage(outage, threshold or 0, None),
            "timeline": [TimelineOut.model_validate(e) for e in entries],
        }
    )


async def present_detail(session: AsyncSession, outage: Outage) -> OutageDetail:
    threshold = await _threshold(session, outage)
    result = (await _latest_results(session, [outage.id])).get(outage.id)
    rca = await service.rca_of(session, outage.id)
    entries = await timeline.entries(session, outage.id)
    claims = await overrides.of_outage(session, outage.id)
    stops = await pauses.of_outage(session, outage.id)
    excluded = await status.live_exclusions(session, outage) if result is None else 0.0
    payment = await _payment(session, outage.id)
    return OutageDetail.model_validate(
        {
            **_fields(outage),
            "sla_status": status.of_outage(outage, threshold, result, excluded),
            "pauses": [PauseOut.model_validate(p) for p in stops],
            "sla_result": SlaResultOut.model_validate(result) if result else None,
            "rca": RcaOut.model_validate(rca) if rca else None,
            "payment": payment,
            "stellar_payment": payment.model_dump() if payment else None,
            "settlement_hold": await hold_reason(session, outage.id) if result else None,
            "overrides": [OverrideOut.model_validate(o) for o in claims],
            "timeline": [TimelineOut.model_validate(e) for e in entries],
        }
    )
