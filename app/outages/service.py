"""Outages: create, read, list, search, update. Resolve and import live beside this file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import service as contracts
from app.contracts.engine import Severity, is_escalation
from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.correlation import get_correlation_id
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.loading import get_or_404
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages import queries
from app.outages.models import Outage, OutageStatus, RootCauseAnalysis
from app.outages.schemas import OutageCreate, OutageUpdate, RcaRequest

STATUS_ALIASES = {"active": OutageStatus.open}


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


async def create(
    session: AsyncSession, organization_id: str, actor: Actor, data: OutageCreate
) -> Outage:
    """The outage, its timeline entry, event and audit row in one write that also chooses the
    contract in force for the site (written into the outage), reads the severity's current
    threshold under it (for the response) and whether the organization has an active webhook
    (when none, the fan-out at commit skips its query): app/outages/queries.py."""
    values = outage_values(data, organization_id, actor, utcnow())
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="outage.created",
            entity_type="outage",
            entity_id=values["id"],
            data=summary(values),
            publish=summary(values),
            note=Note(values["id"], "created", "Outage detected", {"severity": values["severity"]}),
        ),
    )
    threshold, subscribed, values["contract_id"] = await journal.write_with(
        session, (Outage, values), queries.creation_reads(values), column_reads={"contract_id": 2}
    )
    state = journal.journal_of(session)
    if not subscribed:
        state.unsubscribed.add(organization_id)
    state.read_along[values["id"]] = threshold
    return Outage(**values)


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
        journal.record(
            session,
            Change(
                organization_id=outage.organization_id,
                actor=actor,
                kind="outage.updated",
                entity_type="outage",
                entity_id=outage.id,
                data={"changes": _jsonable(changed)},
                publish={**summary(outage), "changes": sorted(changed)},
                note=Note(outage.id, "updated", "Outage updated", {"changes": sorted(changed)}),
            ),
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
        journal.record(
            session,
            Change(
                organization_id=outage.organization_id,
                actor=actor,
                kind="outage.escalated",
                entity_type="outage",
                entity_id=outage.id,
                publish={**summary(outage), **data},
                note=Note(
                    outage.id,
                    "escalated",
                    f"Severity raised from {old.value} to {severity.value}",
                    data,
                ),
                audited=False,
            ),
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
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind="outage.assigned",
            entity_type="outage",
            entity_id=outage.id,
            publish={**summary(outage), "assigned_to": outage.assigned_to},
            note=Note(
                outage.id,
                "assigned",
                f"Assigned to {outage.assigned_to}",
                {"assigned_to": outage.assigned_to},
            ),
            audited=False,
        ),
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
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=actor,
            kind=f"outage.{event}",
            entity_type="outage",
            entity_id=outage.id,
            note=Note(outage.id, event, message, {"root_cause": data.root_cause[:200]}),
        ),
    )
    return existing


async def rca_of(session: AsyncSession, outage_id: str) -> RootCauseAnalysis | None:
    return (
        await session.execute(
            select(RootCauseAnalysis).where(RootCauseAnalysis.outage_id == outage_id)
        )
    ).scalar_one_or_none()


async def reassign_open(session: AsyncSession) -> int:
    """After a contract's scope or dates change: open outages move to the contract now in
    force for them (resolved ones keep the contract they were settled under)."""
    known = await contracts.contracts(session)
    moved = 0
    open_outages = await session.execute(
        select(Outage)
        .where(Outage.status != OutageStatus.resolved)
        .order_by(Outage.id)
        .with_for_update()
    )
    for outage in open_outages.scalars():  # locked in id order, as every writer of outages
        found = contracts.choose(known, outage)
        if found.id != outage.contract_id:
            outage.contract_id = found.id
            moved += 1
    return moved
