"""Importing outages (a JSON body or a CSV/JSON file) and the history of imports."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Annotated, Any

from anyio import to_thread
from fastapi import Path, Query, Request, status
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.db import SessionDep
from app.core.errors import PayloadTooLarge, ValidationFailed, validation_details
from app.core.json_shape import ShapeLimits, json_shape_limits
from app.core.loading import get_or_404
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal, EngineerPrincipal, Principal
from app.lifecycle import importer
from app.lifecycle import upload as upload_reader
from app.lifecycle.import_schemas import (
    BulkImportRequest,
    BulkImportResult,
    ImportRecordError,
    OnError,
    OutageImportOut,
    OutageImportRecord,
)
from app.outages.models import OutageImport

router = APIRouter(prefix="/outages", tags=["Outages"])

ImportId = Annotated[str, Path(max_length=64, description="An import (`imp_...`).")]
OnErrorQuery = Annotated[
    OnError,
    Query(
        description="`reject` (default): one invalid record and nothing is imported (422). "
        "`skip`: the valid records are imported and each invalid one is reported."
    ),
]


def _import_schema() -> dict[str, Any]:
    """The JSON body, each record declared as what it must be: an OutageImportRecord (its
    nested models are the document's own components)."""
    schema = BulkImportRequest.model_json_schema()
    record = OutageImportRecord.model_json_schema(ref_template="#/components/schemas/{model}")
    record.pop("$defs", None)
    schema["properties"]["outages"]["items"] = record
    return schema


_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _import_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A .csv or .json file, at most 10 MB",
                        }
                    },
                }
            },
        },
    }
}


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=BulkImportResult,
    summary="Import many outages at once",
    openapi_extra=_IMPORT_BODY,
)
@router.post(
    "/bulk",
    name="bulk_import_outages",
    status_code=status.HTTP_201_CREATED,
    response_model=BulkImportResult,
    summary="Import many outages at once (the seed-era path)",
    openapi_extra=_IMPORT_BODY,
)
async def import_outages(
    request: Request,
    principal: EngineerPrincipal,
    session: SessionDep,
    on_error: OnErrorQuery = "reject",
) -> BulkImportResult:
    """A JSON body `{"outages": [...]}` or a multipart upload of a CSV or JSON file (field
    `file`). At most 1000 records. Every record is validated before any is written; what an
    invalid one does is `on_error`'s. A record with `resolved_at` (and `detected_at`) is an
    outage already over: imported resolved, its SLA outcome computed for reports, never paid.
    The import is kept in `GET /outages/imports`."""
    checked, source = await read_import(request, request.app.state.settings, on_error)
    return await run_import(session, principal, checked, source, on_error)


async def run_import(
    session: AsyncSession,
    principal: Principal,
    checked: importer.Checked,
    source: importer.Source,
    on_error: OnError,
) -> BulkImportResult:
    history = await importer.import_outages(
        session,
        principal.organization_id,
        principal.actor,
        checked,
        source=source,
        on_error=on_error,
    )
    return BulkImportResult(
        import_id=history.id,
        imported=history.imported,
        closed=history.closed,
        skipped=history.skipped,
        ids=history.outage_ids,
        errors=[ImportRecordError.model_validate(e) for e in checked.errors],
    )


@router.get("/imports", response_model=Page[OutageImportOut], summary="Past imports")
async def list_imports(
    principal: CurrentPrincipal, session: SessionDep, page: CursorPageParamsDep
) -> Page[OutageImportOut]:
    """Newest first: who imported what, how many records were imported, closed, skipped, and
    why each refused record was refused."""
    rows, result = await paginate(session, select(OutageImport), page, id_column=OutageImport.id)
    result.results = [OutageImportOut.model_validate(row) for row in rows]
    return result


@router.get("/imports/{import_id}", response_model=OutageImportOut, summary="One import")
async def get_import(
    import_id: ImportId, principal: CurrentPrincipal, session: SessionDep
) -> OutageImportOut:
    """What it received and what became of each record."""
    row = await get_or_404(session, OutageImport, import_id, "Import not found.")
    return OutageImportOut.model_validate(row)


Adapt = Callable[[dict[str, Any]], dict[str, Any]]


def _adapted(records: list[Any], adapt: Adapt | None) -> list[Any]:
    if adapt is None:
        return records
    return [adapt(r) if isinstance(r, dict) else r for r in records]


async def read_import(
    request: Request, settings: Settings, on_error: OnError, adapt: Adapt | None = None
) -> tuple[importer.Checked, importer.Source]:
    """Parsing and validating up to a thousand records is CPU work of tens of milliseconds:
    it runs in a worker thread, so other requests are answered meanwhile. `adapt` renames a
    record's fields before validation (another client's columns)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _read_upload(request, settings, on_error, adapt)
    body = await request.body()  # its size and JSON shape were bounded as it arrived
    checked = await to_thread.run_sync(
        _validate_body, body, settings.max_bulk_outages_count, on_error, adapt
    )
    return checked, importer.Source("json")


def _validate_body(
    body: bytes, max_count: int, on_error: OnError, adapt: Adapt | None
) -> importer.Checked:
    try:
        records = BulkImportRequest.model_validate_json(body).outages
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc.errors())) from None
    return importer.validate(_adapted(records, adapt), max_count, on_error)


async def _read_upload(
    request: Request, settings: Settings, on_error: OnError, adapt: Adapt | None
) -> tuple[importer.Checked, importer.Source]:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed("Send the file in a form field named `file`.")
    limit = settings.max_upload_size_bytes  # the middleware allowed the form's framing on top
    if (upload.size or 0) > limit:
        await upload.close()
        raise PayloadTooLarge(f"File exceeds {limit // (1024 * 1024)} MB limit")
    filename = (upload.filename or "")[:255]
    try:
        checked, kind = await to_thread.run_sync(
            _validate_file,
            upload.file,
            filename,
            settings.max_bulk_outages_count,
            json_shape_limits(settings),
            on_error,
            adapt,
        )
    finally:
        await upload.close()
    return checked, importer.Source(kind, filename or None)


def _validate_file(
    file: IO[bytes],
    filename: str,
    max_count: int,
    limits: ShapeLimits,
    on_error: OnError,
    adapt: Adapt | None,
) -> tuple[importer.Checked, str]:
    try:
        records, kind = upload_reader.read_records(file, filename, max_count, limits)
    except upload_reader.UnreadableFile as exc:
        raise ValidationFailed(f"The file could not be read: {str(exc)[:200]}") from None
    return importer.validate(_adapted(records, adapt), max_count, on_error), kind
