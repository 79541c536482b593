"""Shared pydantic bases: strict inputs, UTC-only datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

from app.core.clock import isoformat


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must include a UTC offset, e.g. 2026-01-16T09:30:00Z")
    return value.astimezone(UTC)


# Inputs without an offset are refused (422); everything is normalised to UTC.
AwareDatetime = Annotated[datetime, AfterValidator(_require_offset)]
# Outputs always end in `Z`.
UTCTimestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so `role` or `organization_id` smuggled into
    a body is a 422, never silently applied."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Message(OutputModel):
    message: str
