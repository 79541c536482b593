"""What an import takes and answers, and its history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.core.schemas import AwareDatetime, InputModel, OutputModel, UTCTimestamp, not_in_future
from app.outages.schemas import Description, OutageCreate

OnError = Literal["reject", "skip"]


class OutageImportRecord(OutageCreate):
    """An outage as for `POST /outages`, or one already over: with `resolved_at` (and
    `detected_at`) it is recorded resolved, its SLA outcome computed on those times for
    reports, and never paid (the service did not measure it)."""

    resolved_at: AwareDatetime | None = Field(
        default=None,
        description="When it ended: the outage is imported resolved. Needs `detected_at`.",
    )
    resolution_notes: Description | None = None
    root_cause: Annotated[str, Field(max_length=5000)] | None = None

    @field_validator("resolved_at")
    @classmethod
    def _ended_after_it_began(cls, value: Any, info: ValidationInfo) -> Any:
        value = not_in_future(value)
        if value is None:
            return value
        detected = info.data.get("detected_at")
        if detected is None:
            raise ValueError("an outage imported resolved needs its detected_at")
        if value < detected:
            raise ValueError("resolved_at is before detected_at")
        return value


class BulkImportRequest(InputModel):
    # Read as plain objects (each item is validated on its own, so one bad record is reported
    # with its index); the document declares each as an OutageImportRecord (outages/router.py).
    outages: list[dict[str, Any]] = Field(
        description="Outage records, each as for POST /outages (or already over, with "
        "`resolved_at`); at most MAX_BULK_OUTAGES_COUNT.",
        json_schema_extra={"minItems": 1},
    )


class ImportRecordError(BaseModel):
    index: int | None = Field(description="The record's place in the file or list, from 0.")
    loc: list[str | int] = Field(description="The field within the record.")
    msg: str
    type: str


class BulkImportResult(BaseModel):
    import_id: str = Field(description="This import in the history (`GET /outages/imports`).")
    imported: int = Field(description="Outages created.")
    closed: int = Field(description="Of those, how many arrived already resolved.")
    skipped: int = Field(description="Records refused (`on_error=skip` only; else 0).")
    ids: list[str]
    errors: list[ImportRecordError] = Field(
        description="Why each skipped record was refused (every error, by record index)."
    )


class OutageImportOut(OutputModel):
    id: str
    created_at: UTCTimestamp
    created_by: str | None
    source: Literal["json", "csv_file", "json_file"]
    filename: str | None
    on_error: OnError
    received: int = Field(description="Records in the request.")
    imported: int
    closed: int
    skipped: int
    error_count: int
    errors: list[ImportRecordError] = Field(description="The first 100 errors.")
    outage_ids: list[str]
