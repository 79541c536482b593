"""Shaping outages for responses: the live SLA clock for open ones, the latest result for
resolved ones; a page of outages costs three queries, not one per row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.outages import service, timeline
from app.outages.models import Outage, OutageStatus
from app.outages.schemas import (
    LocationOut,
    OutageDetail,
    OutageOut,
    RcaOut,
    SlaResultOut,
    SlaStatusOut,
    TimelineOut,
)
from app.sla import policies
from app.sla.engine import clock
from app.sla.models import SlaResult


def sla_status(outage: Outage, threshold: int, result: SlaResult | None) -> SlaStatusOut:
    if result is not None:
        return SlaStatusOut(
            status=result.status,
            severity=result.severity,
            threshold_minutes=result.threshold_minutes,
            mttr_minutes=result.mttr_minutes,
            penalty_amount=result.amount if result.payment_type == "penalty" else 0,
            reward_amount=result.amount if result.payment_type == "reward" else 0,
            performance_rating=result.rating,
            payment_type=result.payment_type,
            policy_version=result.policy_version,
            sla_result_id=result.id,
        )
    now = outage.resolved_at or utcnow()
    state = clock(outage.detected_at, now, threshold)
    return SlaStatusOut(
        status=state.status.value,
        severity=outage.severity,
        threshold_minutes=threshold,
        elapsed_minutes=state.elapsed_minutes,
        at_risk=state.at_risk,
        time_remaining_minutes=state.time_remaining_minutes,
    )


def _base(outage: Outage) -> dict[str, object]:
    data = OutageOut.model_validate(outage).model_dump(exclude={"location", "sla_status"})
    location = None
    if outage.latitude is not None and outage.longitude is not None:
        location = LocationOut(latitude=outage.latitude, longitude=outage.longitude)
    return {**data, "location": location}


async def _thresholds(session: AsyncSession, organization_id: str) -> dict[str, int]:
    current = await policies.current_policies(session, organization_id)
    return {p.severity: p.threshold_minutes for p in current}


async def _latest_results(session: AsyncSession, outage_ids: Sequence[str]) -> dict[str, SlaResult]:
    if not outage_ids:
        return {}
    rows = await session.execute(
        select(SlaResult).where(SlaResult.outage_id.in_(outage_ids), SlaResult.is_latest.is_(True))
    )
    return {r.outage_id: r for r in rows.scalars()}


async def present_page(
    session: AsyncSession, organization_id: str, outages: Sequence[Outage]
) -> list[OutageOut]:
    thresholds = await _thresholds(session, organization_id)
    resolved = [o.id for o in outages if o.status == OutageStatus.resolved]
    results = await _latest_results(session, resolved)
    return [
        OutageOut.model_validate(
            {
                **_base(o),
                "sla_status": sla_status(o, thresholds.get(o.severity, 0), results.get(o.id)),
            }
        )
        for o in outages
    ]


async def present_detail(session: AsyncSession, outage: Outage) -> OutageDetail:
    thresholds = await _thresholds(session, outage.organization_id)
    result = (await _latest_results(session, [outage.id])).get(outage.id)
    rca = await service.rca_of(session, outage.id)
    entries = await timeline.entries(session, outage.id)
    return OutageDetail.model_validate(
        {
            **_base(outage),
            "sla_status": sla_status(outage, thresholds.get(outage.severity, 0), result),
            "sla_result": SlaResultOut.model_validate(result) if result else None,
            "rca": RcaOut.model_validate(rca) if rca else None,
            "payment": None,
            "timeline": [TimelineOut.model_validate(e) for e in entries],
        }
    )
