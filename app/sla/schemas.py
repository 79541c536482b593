from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool

from app.contracts.engine import Rating, Severity, SlaStatus
from app.contracts.schemas import Mttr, PolicyOut
from app.core.schemas import (
    InputModel,
    OutputModel,
    UsdcOut,
    UTCTimestamp,
)

OutageIdField = Annotated[str, Field(min_length=1, max_length=64)]

MttrSource = Literal["clock", "approved_override", "reported", "imported"]
MTTR_SOURCE_DOC = (
    "Which MTTR the outcome used: `clock` (measured: resolved_at - detected_at less excluded "
    "time), `approved_override` (a claim a second person approved), `reported` (typed by the "
    "resolver, on results from before the clock was measured)."
)


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


class SlaConfigOut(OutputModel):
    """The terms in force for each severity, each with the version that introduced them."""

    critical: PolicyOut
    high: PolicyOut
    medium: PolicyOut
    low: PolicyOut
    policy_version: int = Field(description="The latest version of the policy as a whole.")


class CalculateRequest(InputModel):
    outage_id: OutageIdField


class PreviewRequest(InputModel):
    outage_id: OutageIdField | None = None
    severity: Severity
    mttr_minutes: Mttr


class PreviewOut(BaseModel):
    outage_id: str | None
    severity: str
    mttr_minutes: int
    threshold_minutes: int
    status: str
    rating: str
    payment_type: str
    amount: UsdcOut
    signed_amount: UsdcOut
    policy_version: int
    persisted: bool = False


class ContractResultOut(BaseModel):
    status: str = Field(description="The outcome the contract computed (`met`, `violated`...).")
    amount: UsdcOut = Field(description="Signed: a penalty is negative.")


class ContractInvocationOut(BaseModel):
    contract_id: str
    function: Literal["calculate_sla"] = "calculate_sla"
    arguments: dict[str, Any] = Field(
        description="`operator` (the operator wallet, or the pool when none is registered), "
        "`outage_id`, `severity`, `mttr_minutes`."
    )
    status: str | None = Field(
        description="`pending` until the call is confirmed (a background job makes it), then "
        "`matched` (the contract agrees with the result), `mismatch` or `failed`."
    )
    tx_hash: str | None
    result: ContractResultOut | None = Field(description="Null until the call is confirmed.")


class CalculatedResultOut(SlaResultOut):
    """The result as the seed's calculate answers it: `amount` signed."""

    outcome: Literal["penalty", "reward", "none"] = Field(
        description="`penalty`, `reward` or `none` (amount zero)."
    )
    amount: UsdcOut = Field(
        description="Signed, as the seed's calculate answers: negative for a penalty, positive "
        "for a reward (every other SLA result shows it unsigned, with `outcome`)."
    )
    payment_type: Literal["penalty", "reward", "none"] = Field(
        description="The seed's name for `outcome`."
    )

    @classmethod
    def of(cls, result: Any) -> CalculatedResultOut:
        plain = SlaResultOut.model_validate(result)
        sign = -1 if plain.outcome == "penalty" else 1
        fields = {**dict(plain), "amount": sign * plain.amount, "payment_type": plain.outcome}
        return cls.model_validate(fields)


class CalculateOut(BaseModel):
    outage_id: str
    sla_result: CalculatedResultOut
    contract_invocation: ContractInvocationOut | None = Field(
        description="The Soroban contract call that records this result; null when no "
        "contract is configured (`SOROBAN_CONTRACT_ID`)."
    )


class RecalculateRequest(InputModel):
    outage_ids: Annotated[list[OutageIdField], Field(max_length=10_000)] = Field(
        default_factory=list
    )
    all: StrictBool = Field(default=False, description="Every resolved outage (runs as a job).")


class RecalculateOut(BaseModel):
    updated: list[dict[str, Any]]
    unchanged: list[str]
    errors: list[dict[str, str]]


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"


class SlaStatusReport(BaseModel):
    outage_id: str
    severity: str
    status: str
    threshold_minutes: int
    mttr_minutes: int | None
    elapsed_minutes: int | None
    time_remaining_minutes: int | None
    penalty_amount: UsdcOut
    reward_amount: UsdcOut
    performance_rating: str | None
    payment_type: str | None
    policy_version: int | None
    sla_result_id: str | None
    smart_contract_invoked: bool = False
    contract_status: str | None = None
    contract_tx_hash: str | None = None
    payment_id: str | None = None
    payment_status: str | None = None
    payment_executed: bool = False
    payment_tx_hash: str | None = None
