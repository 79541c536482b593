from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.config import get_settings
from app.contracts.engine import Rating, Severity, SlaStatus
from app.contracts.schemas import Mttr
from app.core.schemas import (
    AwareDatetime,
    InputModel,
    Number,
    OutputModel,
    UsdcOut,
    UTCTimestamp,
    integer_only,
    not_in_future,
)
from app.overrides.schemas import OverrideOut
from app.pauses.schemas import PauseOut
from app.payments.schemas import PaymentOut

_limits = get_settings()
SiteName = Annotated[str, Field(min_length=1, max_length=_limits.max_site_name_length)]
Description = Annotated[str, Field(max_length=_limits.max_description_length)]
ServiceName = Annotated[str, Field(min_length=1, max_length=100)]
Services = Annotated[list[ServiceName], Field(max_length=_limits.max_affected_services_count)]
ShortText = Annotated[str, Field(min_length=1, max_length=128)]
Subscribers = Annotated[int, Field(ge=0, le=1_000_000_000), integer_only]
MttrSource = Literal["clock", "approved_override", "reported", "imported"]
MTTR_SOURCE_DOC = (
    "Which MTTR the outcome used: `clock` (measured: resolved_at - detected_at less excluded "
    "time), `approved_override` (a claim a second person approved), `reported` (typed by the "
    "resolver, on results from before the clock was measured)."
)


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


class LocationOut(BaseModel):
    latitude: float
    longitude: float


class SlaStatusOut(BaseModel):
    status: SlaStatus
    severity: Severity
    threshold_minutes: int
    mttr_minutes: int | None = None
    elapsed_minutes: int | None = None
    time_remaining_minutes: int | None = None
    at_risk: bool | None = None
    penalty_amount: UsdcOut | None = None
    reward_amount: UsdcOut | None = None
    performance_rating: str | None = None
    payment_type: str | None = None
    policy_version: int | None = None
    sla_result_id: str | None = None
    mttr_source: MttrSource | None = None
    smart_contract_invoked: bool | None = Field(
        default=None,
        description="Whether the SLA contract (Soroban) was asked to record this result; null "
        "until there is a result.",
    )
    contract_tx_hash: str | None = Field(
        default=None, description="The contract call's transaction, once it has one."
    )


# Every key of the SLA status, present (null where it does not apply) in lists as in details.
SLA_STATUS_KEYS = tuple(SlaStatusOut.model_fields)


class TimelineOut(OutputModel):
    id: str
    event: str
    message: str
    actor_type: str
    actor_id: str | None
    timestamp: UTCTimestamp = Field(validation_alias="occurred_at")
    data: dict[str, Any]
    schema_version: int

    @computed_field(description="Who: a user's id, else the kind of actor (the seed's field).")
    def user(self) -> str:
        return self.actor_id if self.actor_type == "user" and self.actor_id else self.actor_type


class RcaOut(OutputModel):
    root_cause: str
    contributing_factors: list[str]
    remediation: str
    created_by: str | None
    created_at: UTCTimestamp
    updated_at: UTCTimestamp


class SlaResultOut(OutputModel):
    id: str
    outage_id: str
    status: SlaStatus
    outcome: Literal["penalty", "reward", "none"] = Field(
        validation_alias="payment_type", description="`penalty`, `reward` or `none` (amount zero)."
    )
    mttr_minutes: int
    mttr_source: MttrSource = Field(description=MTTR_SOURCE_DOC)
    measured_mttr_minutes: int | None = Field(description="The clock, whatever was used.")
    excluded_minutes: int = Field(
        description="Minutes the clock did not count (maintenance windows, approved pauses)."
    )
    override_id: str | None = Field(description="The approved override, when one was used.")
    contract_id: str = Field(description="The contract the outage was settled under.")
    counterparty_id: str = Field(description="Who is paid (reward) or charged (penalty).")
    threshold_minutes: int
    amount: UsdcOut
    rating: Rating
    multiplier: UsdcOut
    severity: Severity
    policy_version: int
    is_latest: bool
    trigger: str
    computed_at: UTCTimestamp


class OutageOut(OutputModel):
    id: str
    site_name: str
    site_id: str | None
    severity: Severity
    status: Literal["open", "investigating", "resolved"]
    description: str | None
    services_affected: list[str]
    affected_subscribers: int | None
    location: LocationOut | None = None
    region: str | None
    assigned_to: str | None
    created_by: str | None
    detected_at: UTCTimestamp
    sla_sites: list[str] = Field(
        description="The site as named at detection (id and name): its contract and "
        "maintenance windows follow these, whatever the outage is renamed to later."
    )
    contract_id: str = Field(
        description="The SLA contract in force for its site at detection (`GET /sla/contracts`)."
    )
    resolved_at: UTCTimestamp | None = Field(description="Where the clock stopped.")
    mttr_minutes: int | None = Field(description="The MTTR the SLA outcome used.")
    measured_mttr_minutes: int | None = Field(
        description="resolved_at - detected_at less excluded time, rounded up."
    )
    excluded_minutes: int | None
    mttr_source: MttrSource | None = Field(description=MTTR_SOURCE_DOC)
    resolved_by: str | None
    root_cause: str | None
    resolution_notes: str | None
    correlation_id: str | None
    created_at: UTCTimestamp
    updated_at: UTCTimestamp
    sla_status: SlaStatusOut | None = None


class StellarPaymentOut(OutputModel):
    transaction_hash: str | None
    amount: UsdcOut
    asset_code: str
    from_address: str | None
    to_address: str | None
    status: str
    created_at: UTCTimestamp
    confirmed_at: UTCTimestamp | None


class OutageDetail(OutageOut):
    sla_result: SlaResultOut | None = None
    rca: RcaOut | None = None
    payment: PaymentOut | None = Field(default=None, description="The outage's latest payment.")
    stellar_payment: StellarPaymentOut | None = Field(
        default=None, description="The seed's summary of `payment` (its ledger side)."
    )
    settlement_hold: (
        Literal["awaiting_override_approval", "awaiting_pause_approval", "imported_history"] | None
    ) = Field(
        default=None,
        description="Why no payment is planned: a decision a second person has not taken yet "
        "(its request is in `overrides` or `pauses`), or `imported_history`: the outage was "
        "imported already over, its outcome is for reports and is never paid.",
    )
    overrides: list[OverrideOut] = Field(
        default_factory=list, description="MTTR claims made on this outage and their decisions."
    )
    pauses: list[PauseOut] = Field(
        default_factory=list, description="Its clock pauses, oldest first."
    )
    timeline: list[TimelineOut] = Field(default_factory=list)


class OutageCreated(OutageDetail):
    """A new outage, with the seed's confirmation line."""

    message: str = "Outage created successfully"


class OutageUpdated(OutageDetail):
    """A changed (or resolved) outage, with the seed's confirmation line."""

    message: str = "Outage updated successfully"
    sla_triggered: bool = Field(
        description="True when this request resolved the outage: its SLA result was computed "
        "(`sla_result`) and the payout that follows was queued."
    )
