"""Bulk import: every record is validated before any is written. With `on_error=reject` (the
default) one error anywhere and nothing is written (422 listing each error by record index);
with `on_error=skip` the valid records are imported and each refused one is reported. Every
import that writes is kept in the history (`outage_imports`) with what became of each record.

A record with `resolved_at` is an outage already over: it is recorded resolved and its SLA
outcome computed on the times it gives, for reports; it is never paid (`sla/holds.py`): those
times were typed, not measured by this service, and money moves only on what both parties can
check (record 0023).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import service as contracts
from app.core.actors import Actor
from app.core.clock import isoformat, utcnow
from app.core.errors import ValidationFailed
from app.journal import journal
from app.journal.entries import Change, Note, event_row, timeline_row
from app.lifecycle.import_schemas import OnError, OutageImportRecord
from app.lifecycle.upload import too_many
from app.outages import service
from app.outages.models import Outage, OutageImport, OutageStatus
from app.sla import settlement

KEPT_ERRORS = 100  # in the history; the response carries every error


@dataclass(slots=True)
class Checked:
    """What validation made of the records: the valid ones (with their index) and the errors."""

    received: int
    valid: list[tuple[int, OutageImportRecord]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len({e["index"] for e in self.errors})


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # json | csv_file | json_file
    filename: str | None = None


def validate(records: list[Any], max_count: int, on_error: OnError = "reject") -> Checked:
    """Pure CPU (up to a thousand models): the router runs it in a worker thread."""
    if len(records) > max_count:
        raise too_many(max_count, got=len(records))
    if not records:
        raise ValidationFailed(
            "Nothing to import.",
            details={
                "errors": [
                    {"index": None, "loc": ["outages"], "msg": "no records", "type": "too_short"}
                ]
            },
        )
    checked = Checked(received=len(records))
    for index, record in enumerate(records):
        try:
            checked.valid.append((index, OutageImportRecord.model_validate(record)))
        except ValidationError as exc:
            checked.errors += [
                {"index": index, "loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ]
    if checked.errors and on_error == "reject":
        raise ValidationFailed(
            f"{checked.refused} of {len(records)} records are invalid; nothing was imported "
            "(`on_error=skip` imports the valid ones).",
            details={"errors": checked.errors},
        )
    return checked


async def import_outages(
    session: AsyncSession,
    organization_id: str,
    actor: Actor,
    checked: Checked,
    *,
    source: Source,
    on_error: OnError = "reject",
) -> OutageImport:
    """Three multi-row INSERTs (outages, timeline, events) and one audit row: a thousand
    outages in one round trip each, not three thousand ORM objects. The closed ones are then
    settled one by one (their outcome needs their contract's terms and excluded time)."""
    now = utcnow()
    history = OutageImport(
        organization_id=organization_id,
        created_by=actor.id,
        created_at=now,
        source=source.kind,
        filename=source.filename,
        on_error=on_error,
        received=checked.received,
        imported=0,
        closed=0,
        skipped=checked.refused,
        error_count=len(checked.errors),
        errors=checked.errors[:KEPT_ERRORS],
    )
    session.add(history)
    await session.flush()
    records = [record for _, record in checked.valid]
    rows = [_values(record, organization_id, actor, now, history.id) for record in records]
    if rows:
        await _insert(session, organization_id, actor, rows)
    closed = [row["id"] for row in rows if row["imported_closed"]]
    await _settle_closed(session, closed, actor)
    history.outage_ids = [row["id"] for row in rows]
    history.imported, history.closed = len(rows), len(closed)
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="outages.imported",
            entity_type="outage_import",
            entity_id=history.id,
            data={
                "count": len(rows),
                "closed": len(closed),
                "skipped": history.skipped,
                "ids": history.outage_ids,
            },
        ),
    )
    return history


def _values(
    record: OutageImportRecord, organization_id: str, actor: Actor, now: datetime, import_id: str
) -> dict[str, Any]:
    row = service.outage_values(record, organization_id, actor, now)
    closed = record.resolved_at is not None
    # Every row has the same keys: one multi-row INSERT takes them all.
    row.update(
        import_id=import_id,
        imported_closed=closed,
        status=OutageStatus.resolved if closed else row["status"],
        resolved_at=record.resolved_at,
        resolved_by=actor.id if closed else None,
        resolution_notes=record.resolution_notes,
        root_cause=record.root_cause,
    )
    return row


async def _insert(
    session: AsyncSession, organization_id: str, actor: Actor, rows: list[dict[str, Any]]
) -> None:
    known = await contracts.contracts(session)
    for row in rows:  # each under the contract in force for its site at its detection
        row["contract_id"] = contracts.choose(known, row).id
    await session.execute(insert(Outage), rows)
    created = Change(organization_id=organization_id, actor=actor, kind="outage.created")
    entries = [
        timeline_row(
            created, Note(row["id"], "created", "Outage detected", {"severity": row["severity"]})
        )
        for row in rows
    ]
    entries += [
        timeline_row(
            created,
            Note(
                row["id"],
                "resolved",
                "Outage imported already resolved",
                {"resolved_at": isoformat(row["resolved_at"]), "imported": True},
            ),
        )
        for row in rows
        if row["imported_closed"]
    ]
    events = [
        event_row(
            Change(
                organization_id=organization_id,
                actor=actor,
                kind="outage.created",
                entity_type="outage",
                entity_id=row["id"],
                publish=service.summary(row),
            )
        )
        for row in rows
    ]
    journal.record_rows(session, timeline=entries, events=events)


async def _settle_closed(session: AsyncSession, ids: list[str], actor: Actor) -> None:
    if not ids:
        return
    outages = (await session.execute(select(Outage).where(Outage.id.in_(ids)))).scalars()
    for outage in outages:
        await settlement.settle(session, outage, actor, trigger="import")
