from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from app.core.schemas import (
    AwareDatetime,
    InputModel,
    OutputModel,
    UTCTimestamp,
    not_in_future,
)


class PauseStart(InputModel):
    reason: Annotated[str, Field(min_length=3, max_length=2000)] = Field(
        examples=["Waiting for site access: the landlord holds the keys"]
    )
    started_at: AwareDatetime | None = Field(
        default=None,
        description="Defaults to now. Further back than MTTR_CLAIM_TOLERANCE_MINUTES, the "
        "pause counts only once a second person approves it.",
    )

    _started = field_validator("started_at")(not_in_future)


class PauseEnd(InputModel):
    ended_at: AwareDatetime | None = Field(default=None, description="Defaults to now.")

    _ended = field_validator("ended_at")(not_in_future)


class PauseDecision(InputModel):
    notes: Annotated[str, Field(min_length=1, max_length=5000)] | None = None


class PauseOut(OutputModel):
    id: str
    outage_id: str
    reason: str
    started_at: UTCTimestamp
    ended_at: UTCTimestamp | None
    status: Literal["active", "counted", "pending", "approved", "rejected"] = Field(
        description="`active`: the clock is stopped now; `counted`: taken off the MTTR as "
        "recorded; `pending`: waits for a second person (longer than "
        "CLOCK_PAUSE_APPROVAL_MINUTES, or backdated); `approved`/`rejected`: decided."
    )
    approval_reason: Literal["long", "backdated"] | None
    started_by: str | None
    ended_by: str | None
    recorded_at: UTCTimestamp
    decided_by: str | None
    decided_at: UTCTimestamp | None
    notes: str | None
