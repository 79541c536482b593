from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.config import get_settings
from app.contracts.engine import Severity
from app.contracts.schemas import Mttr
from app.core.schemas import (
    AwareDatetime,
    InputModel,
    Number,
    integer_only,
    not_in_future,
)

_limits = get_settings()
SiteName = Annotated[str, Field(min_length=1, max_length=_limits.max_site_name_length)]
Description = Annotated[str, Field(max_length=_limits.max_description_length)]
ServiceName = Annotated[str, Field(min_length=1, max_length=100)]
Services = Annotated[list[ServiceName], Field(max_length=_limits.max_affected_services_count)]
ShortText = Annotated[str, Field(min_length=1, max_length=128)]
Subscribers = Annotated[int, Field(ge=0, le=1_000_000_000), integer_only]


class Location(InputModel):
    latitude: Number = Field(ge=-90, le=90)
    longitude: Number = Field(ge=-180, le=180)


class OutageCreate(InputModel):
    site_name: SiteName
    site_id: ShortText | None = None
    severity: Severity
    description: Description | None = None
    services_affected: Services = Field(
        default_factory=list,
        validation_alias=AliasChoices("services_affected", "affected_services"),
    )
    affected_subscribers: Subscribers | None = None
    location: Location | None = None
    region: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    assigned_to: ShortText | None = None
    detected_at: AwareDatetime | None = None

    _detected = field_validator("detected_at")(not_in_future)


_NOT_NULLABLE = ("site_name", "severity", "services_affected", "affected_services", "status")


class OutageUpdate(InputModel):
    # `X | SkipJsonSchema[None]`: optional, never null (leave it out to keep the value).
    site_name: SiteName | SkipJsonSchema[None] = None
    site_id: ShortText | None = None
    severity: Severity | SkipJsonSchema[None] = None
    description: Description | None = None
    services_affected: Services | SkipJsonSchema[None] = Field(
        default=None, validation_alias=AliasChoices("services_affected", "affected_services")
    )
    affected_subscribers: Subscribers | None = None
    location: Location | None = None
    region: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    assigned_to: ShortText | None = None
    status: Literal["open", "active", "investigating", "resolved"] | SkipJsonSchema[None] = Field(
        default=None,
        description="`active` is accepted for `open`. `resolved` resolves the outage as `POST "
        "/outages/{id}/resolve` does, in the same transaction as the other changes, with the "
        "resolve fields below.",
    )
    mttr_minutes: Mttr | None = Field(
        default=None, description="With `status: resolved`: a claim, as for /resolve."
    )
    resolved_at: AwareDatetime | None = Field(
        default=None, description="With `status: resolved`: defaults to now."
    )
    resolution_notes: Description | None = Field(
        default=None, description="With `status: resolved`."
    )
    root_cause: Annotated[str, Field(max_length=5000)] | None = Field(
        default=None, description="With `status: resolved`."
    )

    _resolved = field_validator("resolved_at")(not_in_future)

    @model_validator(mode="before")
    @classmethod
    def _required_fields_are_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [name for name in _NOT_NULLABLE if name in data and data[name] is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out instead")
        return data

    @model_validator(mode="after")
    def _resolve_fields_need_resolved(self) -> OutageUpdate:
        given = [name for name in RESOLVE_FIELDS if getattr(self, name) is not None]
        if given and self.status != "resolved":
            raise ValueError(f"{', '.join(given)} only go with status 'resolved'")
        return self

    def resolution(self) -> ResolveRequest:
        return ResolveRequest(**{name: getattr(self, name) for name in RESOLVE_FIELDS})

    def changes(self) -> OutageUpdate:
        """The update without its resolution (status and resolve fields left out)."""
        kept = self.model_dump(exclude_unset=True, exclude={"status", *RESOLVE_FIELDS})
        return OutageUpdate.model_validate(kept)


RESOLVE_FIELDS = ("mttr_minutes", "resolved_at", "resolution_notes", "root_cause")


class ResolveRequest(InputModel):
    mttr_minutes: Mttr | None = Field(
        default=None,
        description="A claimed MTTR. The outcome uses the measured clock (resolved_at - "
        "detected_at less excluded time, rounded up); a claim further from it than "
        "MTTR_CLAIM_TOLERANCE_MINUTES becomes an override request for a second person.",
    )
    resolved_at: AwareDatetime | None = Field(
        default=None,
        description="Defaults to now. A moment further back than the tolerance is a claim: "
        "the clock stops now and the claim waits for approval, as with `mttr_minutes`.",
    )
    resolution_notes: Description | None = None
    root_cause: Annotated[str, Field(max_length=5000)] | None = None

    _resolved = field_validator("resolved_at")(not_in_future)


class RcaRequest(InputModel):
    root_cause: Annotated[str, Field(min_length=1, max_length=5000)]
    contributing_factors: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=500)]], Field(max_length=50)
    ] = Field(default_factory=list)
    remediation: Annotated[str, Field(min_length=1, max_length=5000)]
