from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, UTCTimestamp

Notes = Annotated[str, Field(min_length=1, max_length=5000)]


class OverrideDecision(InputModel):
    notes: Notes | None = Field(default=None, description="Why, for the timeline and audit.")


class OverrideOut(OutputModel):
    id: str
    outage_id: str
    source: Literal["resolve", "dispute"] = Field(
        description="`resolve`: claimed when the outage was resolved (`mttr_minutes`, or a "
        "`resolved_at` the clock does not bear out); `dispute`: a dispute accepted with a "
        "corrected MTTR."
    )
    dispute_id: str | None
    claimed_mttr_minutes: int
    measured_mttr_minutes: int = Field(description="The clock when the claim was made.")
    claimed_resolved_at: UTCTimestamp | None
    reason: str | None
    status: Literal["pending", "approved", "rejected"]
    requested_by: str | None
    requested_at: UTCTimestamp
    decided_by: str | None
    decided_at: UTCTimestamp | None
    notes: str | None
    sla_result_id: str | None = Field(description="The SLA result the approval produced.")
