"""Bulk import: every record is validated before any is written; one error anywhere and
nothing is written (422 listing each error by record index)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import Actor
from app.contracts import service as contracts
from app.core.clock import utcnow
from app.errors import ValidationFailed
from app.events.service import emit_many, event_values
from app.outages import service, timeline
from app.outages.models import Outage, TimelineEntry
from app.outages.schemas import OutageCreate
from app.outages.upload import too_many


def validate(records: list[Any], max_count: int) -> list[OutageCreate]:
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
    valid: list[OutageCreate] = []
    errors: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            valid.append(OutageCreate.model_validate(record))
        except ValidationError as exc:
            errors += [
                {"index": index, "loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ]
    if errors:
        raise ValidationFailed(
            f"{len({e['index'] for e in errors})} of {len(records)} records are invalid; "
            "nothing was imported.",
            details={"errors": errors},
        )
    return valid


async def import_outages(
    session: AsyncSession, organization_id: str, actor: Actor, records: list[OutageCreate]
) -> list[str]:
    """Three multi-row INSERTs (outages, timeline, events) and one audit row: a thousand
    outages in one round trip each, not three thousand ORM objects."""
    now = utcnow()
    rows = [service.outage_values(data, organization_id, actor, now) for data in records]
    known = await contracts.contracts(session)
    for row in rows:  # each under the contract in force for its site at its detection
        row["contract_id"] = contracts.choose(known, row).id
    await session.execute(insert(Outage), rows)
    await session.execute(
        insert(TimelineEntry),
        [
            timeline.entry_values(
                organization_id,
                row["id"],
                "created",
                "Outage detected",
                actor,
                {"severity": row["severity"]},
            )
            for row in rows
        ],
    )
    await emit_many(
        session,
        [
            event_values(
                organization_id=organization_id,
                event_type="outage.created",
                entity_type="outage",
                entity_id=row["id"],
                data=service.summary(row),
            )
            for row in rows
        ],
    )
    ids = [row["id"] for row in rows]
    await audit.record(
        session,
        organization_id=organization_id,
        actor=actor,
        event_type="outages.imported",
        entity_type="outage",
        entity_id=None,
        data={"count": len(ids), "ids": ids},
    )
    return ids
