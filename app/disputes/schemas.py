from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.schemas import InputModel, OutputModel, UsdcOut, UTCTimestamp
from app.outages.schemas import Mttr

Id = Annotated[str, Field(min_length=1, max_length=64)]
Notes = Annotated[str, Field(max_length=5000)]


class DisputeCreate(InputModel):
    outage_id: Id
    sla_result_id: Id
    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    proposed_mttr_minutes: Mttr | None = Field(
        default=None, description="The MTTR the filer believes is right, if any."
    )


class DisputeResolve(InputModel):
    resolution: Literal["accepted", "rejected"]
    notes: Notes | None = None
    adjusted_mttr_minutes: Mttr | None = Field(
        default=None,
        description="Accepted: the MTTR to recompute with (default: the dispute's proposal).",
    )


class BulkResolve(DisputeResolve):
    dispute_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]


class DisputeCreated(BaseModel):
    dispute_id: str
    status: str
    created_at: UTCTimestamp


class DisputeOut(OutputModel):
    id: str
    outage_id: str
    sla_result_id: str
    reason: str
    proposed_mttr_minutes: int | None
    status: str
    resolution: str | None
    notes: str | None
    filed_by: str | None
    resolved_by: str | None
    created_at: UTCTimestamp
    resolved_at: UTCTimestamp | None
    new_sla_result_id: str | None
    payment_difference: UsdcOut | None


class BulkResolveOut(BaseModel):
    resolved: list[DisputeOut]
    errors: list[dict[str, str]]
