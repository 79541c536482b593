"""Point-in-time SLA snapshots and exports of SLA results."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import clock
from app.contracts.models import SlaPolicy
from app.core.clock import isoformat
from app.outages.models import Outage
from app.sla.exclusions import ClockOf, excluded_seconds
from app.sla.models import SlaResult

EXPORT_MAX_ROWS = 100_000
EXPORT_COLUMNS = (
    "sla_result_id",
    "outage_id",
    "site_name",
    "severity",
    "status",
    "outcome",
    "amount",
    "mttr_minutes",
    "threshold_minutes",
    "rating",
    "policy_version",
    "detected_at",
    "resolved_at",
    "computed_at",
)


async def thresholds_at(
    session: AsyncSession, organization_id: str, at: datetime
) -> dict[tuple[str, str], int]:
    """Each (contract, severity)'s threshold in the version in force at `at`; before the
    first version existed (an outage recorded after the fact), the first version's."""
    rows = await session.execute(
        select(
            SlaPolicy.contract_id,
            SlaPolicy.severity,
            SlaPolicy.created_at,
            SlaPolicy.threshold_minutes,
        )
        .where(SlaPolicy.organization_id == organization_id)
        .order_by(SlaPolicy.version)
    )
    thresholds: dict[tuple[str, str], int] = {}
    for contract_id, severity, created_at, threshold in rows:
        if (contract_id, severity) not in thresholds or created_at <= at:
            thresholds[(contract_id, severity)] = threshold
    return thresholds


async def snapshot(
    session: AsyncSession, organization_id: str, at: datetime, limit: int, offset: int
) -> dict[str, Any]:
    thresholds = await thresholds_at(session, organization_id, at)
    open_at = (
        select(Outage)
        .where(
            Outage.organization_id == organization_id,
            Outage.detected_at <= at,
            or_(Outage.resolved_at.is_(None), Outage.resolved_at > at),
        )
        .order_by(Outage.detected_at, Outage.id)
    )
    rows = list((await session.execute(open_at.limit(limit + 1).offset(offset))).scalars())
    excluded = await excluded_seconds(
        session, [ClockOf.of(outage, at) for outage in rows[:limit]], now=at
    )
    outages = []
    for outage in rows[:limit]:
        threshold = thresholds.get((outage.contract_id, outage.severity))
        state = clock(outage.detected_at, at, threshold, excluded[outage.id]) if threshold else None
        outages.append(
            {
                "outage_id": outage.id,
                "site_name": outage.site_name,
                "severity": outage.severity,
                "detected_at": outage.detected_at,
                "threshold_minutes": threshold,
                "elapsed_minutes": state.elapsed_minutes if state else None,
                "time_remaining_minutes": state.time_remaining_minutes if state else None,
                "sla_state": state.status.value if state else "no_policy",
                "at_risk": state.at_risk if state else None,
            }
        )
    counts = Counter(str(item["sla_state"]) for item in outages)
    return {
        "at": at,
        "open_outages": outages,
        "counts_on_page": dict(counts),
        "limit": limit,
        "offset": offset,
        "has_next": len(rows) > limit,
    }


async def export_rows(
    session: AsyncSession, start: datetime | None, end: datetime | None, status: str | None
) -> list[dict[str, Any]]:
    stmt = (
        select(SlaResult, Outage.site_name, Outage.detected_at, Outage.resolved_at)
        .join(Outage, Outage.id == SlaResult.outage_id)
        .where(SlaResult.is_latest.is_(True))
        .order_by(SlaResult.computed_at, SlaResult.id)
        .limit(EXPORT_MAX_ROWS)
    )
    if start:
        stmt = stmt.where(SlaResult.computed_at >= start)
    if end:
        stmt = stmt.where(SlaResult.computed_at <= end)
    if status:
        stmt = stmt.where(SlaResult.status == status)
    return [
        {
            "sla_result_id": r.id,
            "outage_id": r.outage_id,
            "site_name": site_name,
            "severity": r.severity,
            "status": r.status,
            "outcome": r.payment_type,
            "amount": str(r.amount),
            "mttr_minutes": r.mttr_minutes,
            "threshold_minutes": r.threshold_minutes,
            "rating": r.rating,
            "policy_version": r.policy_version,
            "detected_at": isoformat(detected_at),
            "resolved_at": isoformat(resolved_at) if resolved_at else None,
            "computed_at": isoformat(r.computed_at),
        }
        for r, site_name, detected_at, resolved_at in await session.execute(stmt)
    ]
