"""Outages: create, read, list, search, update. Resolve and import live beside this file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.models import AuditLog
from app.audit.service import Actor
from app.contracts import service as contracts
from app.core.clock import isoformat, utcnow
from app.core.correlation import get_correlation_id
from app.core.ids import new_id
from app.core.loading import get_or_404
from app.core.together import Read, insert_together
from app.db import UTCDateTime, dialect_of
from app.errors import Conflict
from app.events.models import DomainEvent
from app.events.service import emit, event_values
from app.events.service import remember as remember_event
from app.outages import timeline
from app.outages.models import Outage, OutageStatus, RootCauseAnalysis, TimelineEntry
from app.outages.schemas import OutageCreate, OutageUpdate, RcaRequest
from app.sla import policies
from app.sla.engine import Severity, is_escalation
from app.webhooks.fanout import subscriptions_exist

STATUS_ALIASES = {"active": OutageStatus.open}
# The current threshold of outages this session just created (read with their insert).
THRESHOLDS_KEY = "outage_thresholds"


async def get(session: AsyncSession, outage_id: str, *, for_update: bool = False) -> Outage:
    return await get_or_404(session, Outage, outage_id, "Outage not found.", for_update=for_update)


_SUMMARY = ("site_name", "site_id", "severity", "status", "services_affected")


def summary(outage: Outage | Mapping[str, Any]) -> dict[str, Any]:
    """What every outage event carries: from a loaded outage or a row about to be inserted."""
    values = (
        outage
        if isinstance(outage, Mapping)
        else {name: getattr(outage, name) for name in (*_SUMMARY, "id", "detected_at")}
    )
    return {
        "outage_id": values["id"],
        **{name: values[name] for name in _SUMMARY},
        "detected_at": isoformat(values["detected_at"]),
    }


def outage_values(
    data: OutageCreate, organization_id: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The columns of a new outage, id included."""
    return {
        "id": new_id("out"),
        "organization_id": organization_id,
        "site_name": data.site_name,
        "site_id": data.site_id,
        "severity": data.severity.value,
        "status": OutageStatus.open,
        "description": data.description,
        "services_affected": list(data.services_affected),
        "affected_subscribers": data.affected_subscribers,
        "latitude": data.location.latitude if data.location else None,
        "longitude": data.location.longitude if data.location else None,
        "region": data.region,
        "assigned_to": data.assigned_to,
        "created_by": actor.id,
        # A moment ahead of this server's clock (a client's clock running fast) is now.
        "detected_at": min(data.detected_at or now, now),
        "sla_sites": [s for s in (data.site_id, data.site_name) if s],
        "correlation_id": get_correlation_id(),
        "import_id": None,
        "imported_closed": False,
        "created_at": now,
        "updated_at": now,
    }


def record_created(session: AsyncSession, outage: Outage, actor: Actor) -> None:
    timeline.append(
        session, outage, "created", "Outage detected", actor, {"severity": outage.severity}
    )
    emit(
        session,
        organization_id=outage.organization_id,
        event_type="outage.created",
        entity_type="outage",
        entity_id=outage.id,
        data=summary(outage),
    )


async def create(
    session: AsyncSession, organization_id: str, actor: Actor, data: OutageCreate
) -> Outage:
    if dialect_of(session) == "postgresql":
        return await _create_in_one_statement(session, organization_id, actor, data)
    values = outage_values(data, organization_id, actor, utcnow())
    values["contract_id"] = (await session.execute(_contract_of(values))).scalar_one()
    outage = Outage(**values)
    session.add(outage)
    await session.flush()
    record_created(session, outage, actor)
    await audit.record(
        session,
        organization_id=organization_id,
        actor=actor,
        event_type="outage.created",
        entity_type="outage",
        entity_id=outage.id,
        data=summary(outage),
    )
    return outage


async def _create_in_one_statement(
    session: AsyncSession, organization_id: str, actor: Actor, data: OutageCreate
) -> Outage:
    """The same rows as the ORM path (outage, timeline entry, event, audit row), written in one
    statement that also chooses the contract in force for the site (written into the outage),
    reads the severity's current threshold under it (for the response) and whether the
    organization has an active webhook (the fan-out, at commit, reads no more than that)."""
    values = outage_values(data, organization_id, actor, utcnow())
    entry = timeline.entry_values(
        organization_id,
        values["id"],
        "created",
        "Outage detected",
        actor,
        {"severity": values["severity"]},
    )
    event = event_values(
        organization_id=organization_id,
        event_type="outage.created",
        entity_type="outage",
        entity_id=values["id"],
        data=summary(values),
    )
    audit_row = audit.row_values(
        organization_id=organization_id,
        actor=actor,
        event_type="outage.created",
        entity_type="outage",
        entity_id=values["id"],
        data=summary(values),
    )
    sites = values["sla_sites"]
    threshold, subscribed, values["contract_id"] = await insert_together(
        session,
        [(Outage, values), (TimelineEntry, entry), (DomainEvent, event), (AuditLog, audit_row)],
        (_THRESHOLD_READS[len(sites)], _subscribed_read, _CONTRACT_READS[len(sites)]),
        parameters={
            "org": organization_id,
            "at": values["detected_at"],
            "severity": values["severity"],
            **{f"site{index}": site for index, site in enumerate(sites)},
        },
        from_reads={(0, "contract_id"): 2},
    )
    timeline.remember(session, TimelineEntry(**entry))
    if subscribed:  # the fan-out would find no subscription to deliver to: skip its query
        remember_event(session, event["id"], organization_id, event["event_type"])
    audit.remember(session, organization_id)
    session.info.setdefault(THRESHOLDS_KEY, {})[values["id"]] = threshold
    return Outage(**values)


# The create statement's reads, of bound parameters (app/core/together.py), one per number
# of sites an outage names (its id and its name: one or two).
def _contract_read(sites: int) -> Read:
    def read(parameter: Any) -> Select[Any]:
        return contracts.in_force_statement(
            parameter("org", String()),
            [parameter(f"site{index}", String()) for index in range(sites)],
            parameter("at", UTCDateTime()),
            has_site=contracts.has_site_jsonb,
        )

    return read


def _threshold_read(sites: int) -> Read:
    chooser = _contract_read(sites)

    def read(parameter: Any) -> Select[Any]:
        contract = chooser(parameter).scalar_subquery()
        return policies.threshold_statement(contract, parameter("severity", String()))

    return read


def _subscribed_read(parameter: Any) -> Select[Any]:
    return subscriptions_exist(parameter("org", String()))


_CONTRACT_READS = {sites: _contract_read(sites) for sites in (0, 1, 2)}
_THRESHOLD_READS = {sites: _threshold_read(sites) for sites in (0, 1, 2)}


def _contract_of(values: dict[str, Any]) -> Any:
    """The contract in force for the new outage's site at its detection."""
    return contracts.in_force_statement(
        values["organization_id"], values["sla_sites"], values["detected_at"]
    )


_PLAIN_FIELDS = ("site_name", "site_id", "description", "affected_subscribers", "region")


async def update(session: AsyncSession, outage_id: str, actor: Actor, data: OutageUpdate) -> Outage:
    outage = await get(session, outage_id, for_update=True)
    if outage.status == OutageStatus.resolved:
        raise Conflict("A resolved outage cannot be changed.", details={"outage_id": outage.id})
    changes = data.model_dump(exclude_unset=True)
    changed: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        if name in changes and getattr(outage, name) != changes[name]:
            changed[name] = changes[name]
            setattr(outage, name, changes[name])
    services = changes.get("services_affected")
    if services is not None and list(services) != outage.services_affected:
        outage.services_affected = list(services)
        changed["services_affected"] = outage.services_affected
    if "location" in changes:
        location = data.location
        new = (location.latitude, location.longitude) if location else (None, None)
        if new != (outage.latitude, outage.longitude):
            outage.latitude, outage.longitude = new
            changed["location"] = changes["location"]
    if data.status is not None:
        status = STATUS_ALIASES.get(data.status, data.status)
        if status != outage.status:
            changed["status"] = outage.status = status
    _apply_severity(session, outage, data.severity, actor, changed)
    _apply_assignment(session, outage, changes, actor, changed)
    if changed:
        outage.updated_at = utcnow()
        timeline.append(
            session, outage, "updated", "Outage updated", actor, {"changes": sorted(changed)}
        )
        emit(
            session,
            organization_id=outage.organization_id,
            event_type="outage.updated",
            entity_type="outage",
            entity_id=outage.id,
            data={**summary(outage), "changes": sorted(changed)},
        )
        await audit.record(
            session,
            organization_id=outage.organization_id,
            actor=actor,
            event_type="outage.updated",
            entity_type="outage",
            entity_id=outage.id,
            data={"changes": _jsonable(changed)},
        )
    return outage


def _apply_severity(
    session: AsyncSession,
    outage: Outage,
    severity: Severity | None,
    actor: Actor,
    changed: dict[str, Any],
) -> None:
    if severity is None or severity.value == outage.severity:
        return
    old = Severity(outage.severity)
    outage.severity = severity.value
    changed["severity"] = severity.value
    if is_escalation(old, severity):
        data = {"from": old.value, "to": severity.value}
        timeline.append(
            session,
            outage,
            "escalated",
            f"Severity raised from {old.value} to {severity.value}",
            actor,
            data,
        )
        emit(
            session,
            organization_id=outage.organization_id,
            event_type="outage.escalated",
            entity_type="outage",
            entity_id=outage.id,
            data={**summary(outage), **data},
        )


def _apply_assignment(
    session: AsyncSession,
    outage: Outage,
    changes: dict[str, Any],
    actor: Actor,
    changed: dict[str, Any],
) -> None:
    if "assigned_to" not in changes or changes["assigned_to"] == outage.assigned_to:
        return
    outage.assigned_to = changes["assigned_to"]
    changed["assigned_to"] = outage.assigned_to
    timeline.append(
        session,
        outage,
        "assigned",
        f"Assigned to {outage.assigned_to}",
        actor,
        {"assigned_to": outage.assigned_to},
    )
    emit(
        session,
        organization_id=outage.organization_id,
        event_type="outage.assigned",
        entity_type="outage",
        entity_id=outage.id,
        data={**summary(outage), "assigned_to": outage.assigned_to},
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v))
        for k, v in values.items()
    }


async def rca(
    session: AsyncSession, outage_id: str, actor: Actor, data: RcaRequest
) -> RootCauseAnalysis:
    outage = await get(session, outage_id, for_update=True)
    if outage.status != OutageStatus.resolved:
        raise Conflict(
            "A root cause analysis is attached to resolved outages only.",
            details={"outage_id": outage.id, "status": outage.status},
        )
    existing = (
        await session.execute(
            select(RootCauseAnalysis).where(RootCauseAnalysis.outage_id == outage.id)
        )
    ).scalar_one_or_none()
    now = utcnow()
    if existing is None:
        existing = RootCauseAnalysis(
            organization_id=outage.organization_id,
            outage_id=outage.id,
            created_by=actor.id,
            created_at=now,
            root_cause="",
            contributing_factors=[],
            remediation="",
        )
        session.add(existing)
        event, message = "rca_added", "Root cause analysis added"
    else:
        event, message = "rca_updated", "Root cause analysis revised"
    existing.root_cause = data.root_cause
    existing.contributing_factors = list(data.contributing_factors)
    existing.remediation = data.remediation
    existing.updated_at = now
    outage.root_cause = data.root_cause
    await session.flush()
    timeline.append(session, outage, event, message, actor, {"root_cause": data.root_cause[:200]})
    await audit.record(
        session,
        organization_id=outage.organization_id,
        actor=actor,
        event_type=f"outage.{event}",
        entity_type="outage",
        entity_id=outage.id,
    )
    return existing


async def rca_of(session: AsyncSession, outage_id: str) -> RootCauseAnalysis | None:
    return (
        await session.execute(
            select(RootCauseAnalysis).where(RootCauseAnalysis.outage_id == outage_id)
        )
    ).scalar_one_or_none()
