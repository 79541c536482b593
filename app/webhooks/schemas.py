from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator

from app.core.schemas import WITHHELD_ON_REPLAY, InputModel, OutputModel
from app.journal.catalog import EVENT_TYPES
from app.webhooks import signing
from app.webhooks.fanout import ALL_EVENTS


def _events(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - {*EVENT_TYPES, ALL_EVENTS})
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)} (see GET /webhooks/events)")
    return list(dict.fromkeys(values))


def _secret(value: str | None) -> str | None:
    if value is not None:
        signing.key_of(value)  # never echoed: the message names the format only
    return value


_PORT = (
    r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]"
    r"|6553[0-5]))?"
)
# An http(s) URL with a host name (production takes https only); a literal address is accepted
# too, when its range is. Names are resolved, and checked, at each delivery.
URL_SCHEMA: dict[str, Any] = {
    "format": "uri",
    "pattern": r"^https?://[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9.-]*"
    + _PORT
    + r"(?:/(?:[A-Za-z0-9\-._~:/@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?"
    + r"(?:\?(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?"
    + r"(?:#(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$",
    "description": "http(s) URL of your receiver (https only in production).",
}
# `whsec_` and the base64 of 24 to 63 bytes, unpadded (the server also takes padded ones).
SECRET_SHAPE = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,21}$"  # noqa: S105 - a pattern, not a secret

EventList = Annotated[
    list[
        Annotated[
            str,
            Field(max_length=64, json_schema_extra={"enum": [ALL_EVENTS, *sorted(EVENT_TYPES)]}),
        ]
    ],
    AfterValidator(_events),
]
Secret = Annotated[
    str | None,
    Field(default=None, max_length=200, json_schema_extra={"pattern": SECRET_SHAPE}),
    AfterValidator(_secret),
]


class WebhookCreate(InputModel):
    name: str = Field(min_length=1, max_length=255)
    url: str = Field(
        min_length=1,
        max_length=2048,
        examples=["https://hooks.example.com/apex"],
        json_schema_extra=URL_SCHEMA,
    )
    events: EventList = Field(min_length=1, max_length=50, examples=[["outage.resolved"]])
    secret: Secret = None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip() or value


class WebhookUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    url: str | None = Field(
        default=None, min_length=1, max_length=2048, json_schema_extra=URL_SCHEMA
    )
    events: EventList | None = Field(default=None, min_length=1, max_length=50)
    status: Literal["active", "disabled"] | None = None
    secret: Secret = None


class WebhookOut(OutputModel):
    id: str
    name: str
    url: str
    events: list[str]
    status: str
    consecutive_failures: int
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret_fields: ClassVar[tuple[str, ...]] = ("secret",)

    secret: str | None = Field(
        description="Shown now only; store it to verify signatures." + WITHHELD_ON_REPLAY
    )


class DeliveryAttemptOut(OutputModel):
    number: int
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    duration_ms: int
    created_at: datetime


class DeliveryOut(OutputModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[DeliveryAttemptOut]


class WebhookEventCatalogOut(OutputModel):
    events: list[str] = Field(description="Every event type a webhook may subscribe to.")
    wildcard: list[Literal["*"]] = Field(description="`*` subscribes to every event type.")
