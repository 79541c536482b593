from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.core.schemas import AwareDatetime, InputModel, OutputModel, UTCTimestamp

SiteRef = Annotated[str, Field(min_length=1, max_length=255)]
WindowStatus = Literal["scheduled", "active", "ended", "cancelled"]


class WindowCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    sites: Annotated[list[SiteRef], Field(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="Site names or ids, as outages and faults name them. Leave it out (or "
        "null) for every site of the organization.",
    )
    starts_at: AwareDatetime = Field(
        description="Ahead of time: not before now (less MTTR_CLAIM_TOLERANCE_MINUTES). A "
        "window cannot be booked after the fact to take time off an outage."
    )
    ends_at: AwareDatetime
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> WindowCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class WindowOut(OutputModel):
    id: str
    name: str
    sites: list[str] | None = Field(description="Null: every site.")
    starts_at: UTCTimestamp
    ends_at: UTCTimestamp
    reason: str | None
    status: WindowStatus
    created_by: str | None
    created_at: UTCTimestamp
    cancelled_at: UTCTimestamp | None
    cancelled_by: str | None

    @classmethod
    def of(cls, window: object, now: datetime) -> WindowOut:
        return cls.model_validate(
            {
                **{name: getattr(window, name) for name in cls.model_fields if name != "status"},
                "status": window.status_at(now),  # type: ignore[attr-defined]
            }
        )
