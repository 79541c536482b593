"""Shared pydantic bases: strict inputs, UTC-only datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from app.core.clock import isoformat, utcnow

MIN_YEAR, MAX_YEAR = 1970, 9998


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must include a UTC offset, e.g. 2026-01-16T09:30:00Z")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year must be within {MIN_YEAR}..{MAX_YEAR}")
    return value.astimezone(UTC)


_DATE_TIME_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _a_string(value: Any) -> Any:
    """JSON has no date-time type: a number (or a numeric string, in a query) is not one;
    Pydantic would read `0` as 1970 and `253402300799` as milliseconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME_SHAPE.match(value):
        raise ValueError("must be a date-time string with a UTC offset, e.g. 2026-01-16T09:30:00Z")
    return value


def _a_number(value: Any) -> Any:
    """A JSON number, not a boolean or a numeric string (lax parsing would take both)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return value


def _an_integer(value: Any) -> Any:
    """A JSON integer: `5` or `5.0` (JSON Schema counts both), never `false` or `"5"`."""
    if isinstance(value, bool | str):
        raise ValueError("must be an integer")
    return value


# Request scalars are what their schema says: an integer is a JSON integer (not `false` or
# `"5"`), a boolean a JSON boolean (not `0.0`: pydantic's StrictBool), a number a JSON number.
# Constraints go before the validator (`Annotated[int, Field(ge=..), integer_only]`): a Field
# applied to an alias that already holds a validator is enforced but left out of the JSON
# Schema (tests/contract/test_document.py checks the document for such leftovers).
integer_only = BeforeValidator(_an_integer)
WholeNumber = Annotated[int, integer_only]
Number = Annotated[float, BeforeValidator(_a_number)]
ExactNumber = Annotated[Decimal, BeforeValidator(_a_number)]


# The years the API admits (1970..9998), as a pattern on the date-time's year.
YEAR_PATTERN = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
# Inputs without an offset are refused (422); everything is normalised to UTC.
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_a_string),
    AfterValidator(_require_offset),
    Field(
        json_schema_extra={"pattern": YEAR_PATTERN},
        description="RFC 3339 date-time with an offset (`Z` or `+hh:mm`), years 1970-9998.",
    ),
]
# Outputs always end in `Z`.
UTCTimestamp = Annotated[
    datetime,
    PlainSerializer(isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


# How far ahead of this server's clock a client's clock may run: a moment further ahead is
# "in the future" and refused.
CLOCK_SKEW = timedelta(minutes=5)


def not_in_future(value: Any) -> Any:
    """A field validator: a reported moment cannot be ahead of the server's clock."""
    if value is not None and value > utcnow() + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value


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


# Blank characters, spelled out: `\s` differs between JSON Schema (ECMA, which counts U+FEFF),
# Python (which counts U+001C-U+001F) and pydantic's strip (Rust: Unicode White_Space).
UNICODE_BLANKS = r"\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
PYTHON_BLANKS = UNICODE_BLANKS + r"\x1c-\x1f"
# A character pydantic's `str_strip_whitespace` keeps.
NOT_BLANK = rf"[^{UNICODE_BLANKS}]"


def _non_blank(node: Any) -> None:
    """Inputs are stripped (`str_strip_whitespace`), so a string of spaces is an empty one: a
    string that must not be empty must hold a non-blank character, and the schema says so
    (an unanchored pattern: "contains")."""
    if isinstance(node, list):
        for item in node:
            _non_blank(item)
        return
    if not isinstance(node, dict):
        return
    constrained = {"pattern", "format", "enum"} & node.keys()
    if node.get("type") == "string" and node.get("minLength", 0) >= 1 and not constrained:
        node["pattern"] = NOT_BLANK
    for key, value in node.items():
        if key != "$defs":
            _non_blank(value)


def _input_schema(schema: dict[str, Any]) -> None:
    _non_blank(schema.get("properties", {}))


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so `role` or `organization_id` smuggled into
    a body is a 422, never silently applied. NUL characters are refused everywhere: no
    database stores them in text."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_input_schema
    )

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


BucketDate = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date"},
        description="The first day (UTC) of the bucket: the day, the ISO week's Monday, or the "
        "month's first day.",
    ),
]


class PeriodOut(OutputModel):
    """The requested time range; null where it is open."""

    start: UTCTimestamp | None
    end: UTCTimestamp | None
