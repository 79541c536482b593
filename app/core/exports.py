"""Exports over HTTP: a list's rows as CSV or JSON, streamed as they are read.

Rows are read a batch at a time (keyset on the id, newest first) in a session of the export's
own, scoped to the caller's organization, while the response streams: memory stays at one
batch whatever the size, and the first bytes leave at once. CSV cells that a spreadsheet would
run as formulas are quoted (app/core/spreadsheet.py). At most MAX_ROWS rows: narrow the
filters for more (the last line of a CSV, or the JSON's `truncated`, says it was cut).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from fastapi.responses import StreamingResponse
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.core.clock import isoformat, utcnow
from app.core.db import Database
from app.core.spreadsheet import spreadsheet_safe
from app.core.tenancy import scope_session_to

BATCH = 500
MAX_ROWS = 100_000
ExportFormat = Literal["csv", "json"]

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A file download, streamed.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def _rows(
    database: Database,
    organization_id: str,
    statement: Select[Any],
    id_column: InstrumentedAttribute[str],
    to_row: Callable[[Any, Any], dict[str, Any]],
) -> AsyncIterator[dict[str, Any]]:
    last: str | None = None
    sent = 0
    while sent < MAX_ROWS:
        page = statement.order_by(id_column.desc()).limit(min(BATCH, MAX_ROWS - sent))
        if last is not None:
            page = page.where(id_column < last)
        async with database.sessionmaker() as session:
            await scope_session_to(session, organization_id)
            batch = list((await session.execute(page)).scalars())
            rows = [to_row(session, item) for item in batch]
        for row in rows:
            yield row
        sent += len(rows)
        if len(batch) < BATCH:
            return
        last = batch[-1].id


async def _csv(rows: AsyncIterator[dict[str, Any]], columns: Sequence[str]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    count = 0
    async for row in rows:
        writer.writerow({k: spreadsheet_safe(_cell(v)) for k, v in row.items()})
        count += 1
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if count >= MAX_ROWS:
        buffer.write(f"# truncated at {MAX_ROWS} rows: narrow the filters\r\n")
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    if isinstance(value, datetime):
        return isoformat(value)
    return value


def plain(item: Any, columns: Sequence[str]) -> dict[str, Any]:
    """A row of an ORM object's columns, JSON-ready (times in UTC ISO 8601, money as text)."""
    row: dict[str, Any] = {}
    for name in columns:
        value = getattr(item, name)
        if isinstance(value, datetime):
            value = isoformat(value)
        elif isinstance(value, Decimal):
            value = str(value)
        row[name] = value
    return row


async def _json(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    yield b'{"rows":['
    count = 0
    async for row in rows:
        yield (b"," if count else b"") + orjson.dumps(row, option=orjson.OPT_UTC_Z)
        count += 1
    yield b'],"truncated":' + (b"true" if count >= MAX_ROWS else b"false") + b"}"


def stream_export(
    *,
    database: Database,
    organization_id: str,
    statement: Select[Any],
    id_column: InstrumentedAttribute[str],
    to_row: Callable[[Any, Any], dict[str, Any]],
    columns: Sequence[str],
    format: ExportFormat,
    name: str,
) -> StreamingResponse:
    rows = _rows(database, organization_id, statement, id_column, to_row)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    filename = f"{name}-{stamp}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "json":
        return StreamingResponse(_json(rows), media_type="application/json", headers=headers)
    return StreamingResponse(_csv(rows, columns), media_type="text/csv", headers=headers)
