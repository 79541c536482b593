from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import orjson
from pydantic import Field, StrictBool, field_validator

from app.core.schemas import InputModel, OutputModel
from app.journal.catalog import EVENT_TYPES

MAX_UI_BYTES = 16_384
LISTS = Literal["outages", "payments", "disputes", "incidents", "faults", "audit"]
FilterValue = Annotated[str, Field(max_length=200)]
_ZONES = frozenset(available_timezones())


class NotificationChoices(InputModel):
    email: StrictBool = Field(default=False, description="Mail me what `events` name.")
    in_app: StrictBool = Field(default=True, description="Show them in the web app.")
    events: list[
        Annotated[str, Field(max_length=64, json_schema_extra={"enum": sorted(EVENT_TYPES)})]
    ] = Field(
        default_factory=list,
        max_length=50,
        description="Event types (`GET /webhooks/event-types`).",
    )

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown[:5])}")
        return sorted(set(value))


class Preferences(InputModel):
    """A person's settings, the whole document (PUT replaces it)."""

    time_zone: str = Field(default="UTC", max_length=64, description="An IANA zone.")
    language: str = Field(
        default="en", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="BCP 47: `en`, `fr-FR`."
    )
    default_filters: dict[LISTS, dict[Annotated[str, Field(max_length=64)], FilterValue]] = Field(
        default_factory=dict,
        description="Per list, the query parameters a page starts with (`status`, ...).",
    )
    notifications: NotificationChoices = Field(default_factory=NotificationChoices)
    ui: dict[str, Any] = Field(
        default_factory=dict,
        description=f"The web app's own settings (table density, columns...), at most "
        f"{MAX_UI_BYTES} bytes as JSON.",
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in _ZONES:
            raise ValueError("not an IANA time zone (e.g. `Africa/Lagos`, `UTC`)")
        return value

    @field_validator("default_filters")
    @classmethod
    def _few(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if any(len(filters) > 20 for filters in value.values()):
            raise ValueError("at most 20 filters per list")
        return value

    @field_validator("ui")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(orjson.dumps(value))
        except orjson.JSONEncodeError:  # an integer past 64 bits: no database stores it
            raise ValueError("numbers must fit in 64 bits") from None
        if size > MAX_UI_BYTES:
            raise ValueError(f"at most {MAX_UI_BYTES} bytes as JSON")
        return value


class PreferencesOut(OutputModel):
    time_zone: str
    language: str
    default_filters: dict[str, dict[str, str]]
    notifications: dict[str, Any]
    ui: dict[str, Any]
