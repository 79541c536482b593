"""Bulk import: every record is validated before any is written; one error anywhere and
nothing is written (422 listing each error by record index)."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
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

LIST_SEPARATORS = (";", "|")
NUMBER_COLUMNS = ("latitude", "longitude", "affected_subscribers")


def _csv_record(row: dict[str, Any]) -> dict[str, Any]:
    """CSV columns are the JSON field names; `services_affected` is `;`- or `|`-separated;
    `latitude`/`longitude` columns make the location; empty cells are absent."""
    record: dict[str, Any] = {k: v for k, v in row.items() if v not in ("", None)}
    for name in ("services_affected", "affected_services"):
        if name in record:
            text = str(record.pop(name))
            separator = next((s for s in LIST_SEPARATORS if s in text), ";")
            record["services_affected"] = [p.strip() for p in text.split(separator) if p.strip()]
    for name in NUMBER_COLUMNS:
        if name in record:
            record[name] = _number(record[name])
    if "latitude" in record or "longitude" in record:
        record["location"] = {
            "latitude": record.pop("latitude", None),
            "longitude": record.pop("longitude", None),
        }
    return record


def _number(cell: Any) -> Any:
    """A CSV cell is text; JSON bodies take numbers. A cell that is not a number stays text,
    for validation to report."""
    text = str(cell).strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return cell


def parse_file(filename: str, content: bytes) -> list[Any]:
    text = content.decode("utf-8-sig", errors="strict")
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        parsed = orjson.loads(text)
        records = parsed.get("outages") if isinstance(parsed, dict) else parsed
        if not isinstance(records, list):
            raise ValueError('a JSON file holds a list of outages or {"outages": [...]}')
        return records
    try:
        rows = list(csv.DictReader(io.StringIO(text), restkey="_unexpected_columns"))
    except csv.Error as exc:  # a malformed file, or a field over the csv module's limit
        raise ValueError(f"not a readable CSV file ({exc})") from None
    return [_csv_record(row) for row in rows]


def validate(records: list[Any], max_count: int) -> list[OutageCreate]:
    if len(records) > max_count:
        raise ValidationFailed(
            f"At most {max_count} outages per import; got {len(records)}.",
            details={
                "errors": [
                    {
                        "index": None,
                        "loc": ["outages"],
                        "msg": f"at most {max_count} records",
                        "type": "too_long",
                    }
                ]
            },
        )
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
