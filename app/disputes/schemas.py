from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, computed_field

from app.contracts.schemas import Mttr
from app.core.schemas import InputModel, OutputModel, UsdcOut, UTCTimestamp

Id = Annotated[str, Field(min_length=1, max_length=64)]
Notes = Annotated[str, Field(max_length=5000)]


class DisputeCreate(InputModel):
    outage_id: Id
    sla_result_id: Id
    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    claimed_mttr_minutes: Mttr | None = Field(
        default=None,
        validation_alias=AliasChoices("claimed_mttr_minutes", "proposed_mttr_minutes"),
        description="The MTTR the filer claims is right, if any: accepting the dispute without "
        "`adjusted_mttr_minutes` recomputes with it. (`proposed_mttr_minutes`, its former "
        "name, is still read.)",
    )


class DisputeResolve(InputModel):
    resolution: Literal["accepted", "rejected"]
    notes: Notes | None = None
    adjusted_mttr_minutes: Mttr | None = Field(
        default=None,
        description="Accepted: the MTTR to recompute with; wins over the dispute's "
        "`claimed_mttr_minutes`. Accepting needs one of the two.",
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
    proposed_mttr_minutes: int | None = Field(
        description="The same as `claimed_mttr_minutes` (its former name).",
        json_schema_extra={"deprecated": True},
    )
    status: str
    resolution: str | None
    notes: str | None
    filed_by: str | None
    resolved_by: str | None
    created_at: UTCTimestamp
    resolved_at: UTCTimestamp | None
    new_sla_result_id: str | None
    payment_difference: UsdcOut | None

    @computed_field(description="The MTTR the filer claimed, if any.")  # type: ignore[prop-decorator]
    @property
    def claimed_mttr_minutes(self) -> int | None:
        return self.proposed_mttr_minutes


class BulkResolveOut(BaseModel):
    resolved: list[DisputeOut]
    errors: list[dict[str, str]]
