from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator

from app.core.schemas import WITHHELD_ON_REPLAY, InputModel, OutputModel
from app.events.catalog import EVENT_TYPES
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


EventList = Annotated[list[Annotated[str, Field(max_length=64)]], AfterValidator(_events)]
Secret = Annotated[str | None, Field(default=None, max_length=200), AfterValidator(_secret)]


class WebhookCreate(InputModel):
    name: str = Field(min_length=1, max_length=255)
    url: str = Field(min_length=1, max_length=2048, examples=["https://hooks.example.com/apex"])
    events: EventList = Field(min_length=1, max_length=50, examples=[["outage.resolved"]])
    secret: Secret = None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip() or value


class WebhookUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    url: str | None = Field(default=None, min_length=1, max_length=2048)
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


class AttemptOut(OutputModel):
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
    attempt_log: list[AttemptOut]
