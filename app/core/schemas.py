"""Shared pydantic bases: strict inputs, UTC-only datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, model_validator

from app.core.clock import isoformat

MIN_YEAR, MAX_YEAR = 1970, 9998


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must include a UTC offset, e.g. 2026-01-16T09:30:00Z")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year must be within {MIN_YEAR}..{MAX_YEAR}")
    return value.astimezone(UTC)


# Inputs without an offset are refused (422); everything is normalised to UTC.
AwareDatetime = Annotated[datetime, AfterValidator(_require_offset)]
# Outputs always end in `Z`.
UTCTimestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]


def usdc_number(value: Decimal) -> float:
    """USDC goes out as a JSON number (the contract's `1500.0`). Exact decimals are kept
    everywhere inside; a double carries up to 15 significant digits, so every amount below
    10^8 USDC at full 7-place precision is shown exactly."""
    return float(value)


# Exact Decimal in Python, a number in JSON.
UsdcOut = Annotated[Decimal, PlainSerializer(usdc_number, return_type=float, when_used="json")]


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so `role` or `organization_id` smuggled into
    a body is a 422, never silently applied. NUL characters are refused everywhere: no
    database stores them in text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Message(OutputModel):
    message: str


WITHHELD_ON_REPLAY = (
    " On an idempotent replay it is null (`Idempotent-Secret-Withheld: true`): a secret shown "
    "once is never stored."
)
