"""The outage as the API shows it: its fields, SLA status, timeline, pauses, override and
payment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from app.contracts.engine import Severity
from app.core.schemas import OutputModel, UsdcOut, UTCTimestamp
from app.overrides.schemas import OverrideOut
from app.pauses.schemas import PauseOut
from app.payments.schemas import PaymentOut
from app.sla.schemas import MTTR_SOURCE_DOC, MttrSource, SlaResultOut, SlaStatusOut


class LocationOut(BaseModel):
    latitude: float
    longitude: float


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
