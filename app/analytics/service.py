"""SLA and MTTR analytics, computed by the database (aggregates, not Python loops)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, and_, case, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.portable import Granularity, as_float, bucket, services_of
from app.outages.models import Outage, OutageStatus
from app.sla.models import SlaResult

GroupBy = Literal["severity", "region", "service"]
MttrGroup = Literal["site", "severity", "day", "week"]


def _latest_results(start: datetime | None, end: datetime | None) -> Any:
    """Latest result per resolved outage, joined to its outage, limited to resolutions in
    [start, end]."""
    conditions = [SlaResult.is_latest.is_(True), Outage.status == OutageStatus.resolved]
    if start:
        conditions.append(Outage.resolved_at >= start)
    if end:
        conditions.append(Outage.resolved_at <= end)
    return and_(*conditions)


def outcome_columns() -> list[Any]:
    violated = case((SlaResult.status == "violated", 1), else_=0)
    return [
        func.count(SlaResult.id).label("evaluated"),
        func.sum(violated).label("violated"),
        func.avg(as_float(SlaResult.mttr_minutes)).label("average_mttr_minutes"),
        func.sum(
            case(
                (SlaResult.payment_type == "penalty", SlaResult.amount),
                else_=literal(0, SlaResult.amount.type),
            )
        ).label("total_penalties"),
        func.sum(
            case(
                (SlaResult.payment_type == "reward", SlaResult.amount),
                else_=literal(0, SlaResult.amount.type),
            )
        ).label("total_rewards"),
    ]


def outcome_of(row: Any) -> dict[str, Any]:
    evaluated = int(row.evaluated or 0)
    violated = int(row.violated or 0)
    penalties = row.total_penalties or Decimal(0)
    rewards = row.total_rewards or Decimal(0)
    return {
        "outages_evaluated": evaluated,
        "sla_met": evaluated - violated,
        "sla_violated": violated,
        "violation_rate": round(100 * violated / evaluated, 2) if evaluated else 0.0,
        "average_mttr_minutes": (
            round(float(row.average_mttr_minutes), 2)
            if row.average_mttr_minutes is not None
            else None
        ),
        "total_penalties": penalties,
        "total_rewards": rewards,
        "net_amount": rewards - penalties,
    }


def joined(stmt: Any) -> Any:
    return stmt.select_from(SlaResult).join(Outage, Outage.id == SlaResult.outage_id)


async def summary(
    session: AsyncSession, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    row = (
        await session.execute(joined(select(*outcome_columns())).where(_latest_results(start, end)))
    ).one()
    return outcome_of(row)


async def window(
    session: AsyncSession, start: datetime, end: datetime, granularity: Granularity
) -> list[dict[str, Any]]:
    dialect = dialect_of(session)
    period = bucket(Outage.resolved_at, granularity, dialect).label("period")
    rows = await session.execute(
        joined(select(period, *outcome_columns()))
        .where(_latest_results(start, end))
        .group_by(period)
        .order_by(period)
    )
    return [{"period": row.period, **outcome_of(row)} for row in rows]


async def aggregation(
    session: AsyncSession, group_by: GroupBy, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    dialect = dialect_of(session)
    stmt: Select[Any]
    if group_by == "service":
        services = services_of(Outage.services_affected, dialect)
        key = services.c.value.label("group")
        stmt = (
            select(key, *outcome_columns())
            .select_from(SlaResult)
            .join(Outage, Outage.id == SlaResult.outage_id)
            .join(services, true())
        )
    else:
        column = (
            Outage.severity if group_by == "severity" else func.coalesce(Outage.region, "unknown")
        )
        key = column.label("group")
        stmt = joined(select(key, *outcome_columns()))
    rows = await session.execute(
        stmt.where(_latest_results(start, end)).group_by(key).order_by(key)
    )
    return [{"group": row.group, **outcome_of(row)} for row in rows]


def _mttr_key(group_by: MttrGroup | None, dialect: str) -> Any:
    if group_by == "site":
        return Outage.site_name
    if group_by == "severity":
        return Outage.severity
    if group_by in ("day", "week"):
        return bucket(Outage.resolved_at, group_by, dialect)
    return literal("all")


async def mttr(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    severity: str | None,
    group_by: MttrGroup | None,
) -> dict[str, Any]:
    """Average and median MTTR of resolved outages, overall, by severity, and by `group_by`.
    The median comes from a window function (portable to SQLite)."""
    dialect = dialect_of(session)
    conditions = [Outage.status == OutageStatus.resolved, Outage.mttr_minutes.is_not(None)]
    if start:
        conditions.append(Outage.resolved_at >= start)
    if end:
        conditions.append(Outage.resolved_at <= end)
    if severity:
        conditions.append(Outage.severity == severity)
    overall = await _mttr_groups(session, literal("all"), conditions)
    by_severity = await _mttr_groups(session, Outage.severity, conditions)
    groups = (
        await _mttr_groups(session, _mttr_key(group_by, dialect), conditions) if group_by else []
    )
    compliance = await _compliance(session, conditions)
    counts = await _met_by_severity(session, conditions)
    first = (
        overall[0]
        if overall
        else {"average_mttr_minutes": None, "median_mttr_minutes": None, "count": 0}
    )
    return {
        "overall": {
            "average_mttr_minutes": first["average_mttr_minutes"],
            "median_mttr_minutes": first["median_mttr_minutes"],
            "total_outages": first["count"],
            "sla_compliance_rate": compliance,
        },
        "by_severity": {g["group"]: {**g, **counts.get(g["group"], {})} for g in by_severity},
        "groups": groups,
    }


async def _mttr_groups(
    session: AsyncSession, key: Any, conditions: list[Any]
) -> list[dict[str, Any]]:
    ranked = (
        select(
            key.label("grp"),
            Outage.mttr_minutes.label("mttr"),
            func.row_number().over(partition_by=key, order_by=Outage.mttr_minutes).label("rn"),
            func.count().over(partition_by=key).label("cnt"),
        )
        .where(*conditions)
        .subquery()
    )
    middle = ranked.c.rn.in_([(ranked.c.cnt + 1) // 2, (ranked.c.cnt + 2) // 2])
    stmt = (
        select(
            ranked.c.grp,
            func.max(ranked.c.cnt).label("n"),
            func.avg(as_float(ranked.c.mttr)).label("average"),
            func.avg(case((middle, as_float(ranked.c.mttr)))).label("median"),
        )
        .group_by(ranked.c.grp)
        .order_by(ranked.c.grp)
    )
    return [
        {
            "group": row.grp,
            "count": int(row.n),
            "average_mttr_minutes": round(float(row.average), 2),
            "median_mttr_minutes": round(float(row.median), 2),
        }
        for row in await session.execute(stmt)
    ]


async def _compliance(session: AsyncSession, conditions: list[Any]) -> float | None:
    row = (
        await session.execute(
            joined(
                select(
                    func.count(SlaResult.id).label("n"),
                    func.sum(case((SlaResult.status == "met", 1), else_=0)).label("met"),
                )
            ).where(SlaResult.is_latest.is_(True), *conditions)
        )
    ).one()
    return round(100 * int(row.met or 0) / int(row.n), 2) if row.n else None


async def _met_by_severity(
    session: AsyncSession, conditions: list[Any]
) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        joined(
            select(
                Outage.severity,
                func.sum(case((SlaResult.status == "met", 1), else_=0)).label("met"),
                func.sum(case((SlaResult.status == "violated", 1), else_=0)).label("violated"),
            )
        )
        .where(SlaResult.is_latest.is_(True), *conditions)
        .group_by(Outage.severity)
    )
    return {
        row.severity: {"sla_met": int(row.met or 0), "sla_violated": int(row.violated or 0)}
        for row in rows
    }
