from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.contracts.engine import MAX_MTTR_MINUTES, Severity
from app.core.schemas import (
    AwareDatetime,
    ExactNumber,
    InputModel,
    OutputModel,
    UsdcOut,
    UTCTimestamp,
    WholeNumber,
    integer_only,
)
from app.wallets.schemas import StellarAddress

Name = Annotated[str, Field(min_length=1, max_length=255)]
Mttr = Annotated[int, Field(ge=0, le=MAX_MTTR_MINUTES, description="Whole minutes."), integer_only]


# USDC amounts in a request: JSON numbers, at most 7 decimal places, within a bound.
PenaltyPerMinute = Annotated[
    ExactNumber,
    Field(ge=0, le=100_000, max_digits=17, decimal_places=7),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100_000, "multipleOf": 1e-7}),
]
RewardBase = Annotated[
    ExactNumber,
    Field(ge=0, le=1_000_000, max_digits=17, decimal_places=7),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1_000_000, "multipleOf": 1e-7}),
]


class PolicyUpdate(InputModel):
    threshold_minutes: WholeNumber = Field(ge=1, le=10_080, description="1 minute .. 7 days.")
    penalty_per_minute: PenaltyPerMinute
    reward_base: RewardBase

    @field_validator("penalty_per_minute", "reward_base", mode="before")
    @classmethod
    def _no_floats_with_noise(cls, value: Any) -> Any:
        # 0.1 as a JSON float is 0.1000000000000000055...; read it as the decimal it reads as.
        return Decimal(repr(value)) if isinstance(value, float) else value


class PolicyOut(OutputModel):
    threshold_minutes: int
    penalty_per_minute: UsdcOut
    reward_base: UsdcOut
    version: int
    policy_id: str = Field(validation_alias="id")
    created_at: UTCTimestamp


SiteRef = Annotated[str, Field(min_length=1, max_length=255)]
Kind = Literal["contractor", "customer", "internal"]


class CounterpartyCreate(InputModel):
    name: Name
    kind: Kind = "contractor"
    wallet_address: StellarAddress | None = Field(
        default=None,
        description="Its Stellar account: rewards are paid to it, penalties charged from it "
        "(an envelope it signs). Without one, the organization's `ops_team` and `operator` "
        "wallets are used.",
    )


class CounterpartyUpdate(InputModel):
    # Optional, never null (leave it out to keep it); a null wallet goes back to the
    # organization's wallets.
    name: Name | SkipJsonSchema[None] = None
    wallet_address: StellarAddress | None = None


class CounterpartyOut(OutputModel):
    id: str
    name: str
    kind: Kind
    wallet_address: str | None
    is_default: bool
    created_at: UTCTimestamp
    updated_at: UTCTimestamp


class TermsIn(InputModel):
    critical: PolicyUpdate | None = None
    high: PolicyUpdate | None = None
    medium: PolicyUpdate | None = None
    low: PolicyUpdate | None = None


class ContractCreate(InputModel):
    counterparty_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Name
    sites: Annotated[list[SiteRef], Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="Site names or ids; leave it out for every site."
    )
    effective_from: AwareDatetime
    effective_to: AwareDatetime | None = Field(
        default=None, description="Exclusive; leave it out for open-ended."
    )
    terms: TermsIn = Field(
        default_factory=TermsIn,
        description="Per-severity terms; a severity left out takes the default contract's.",
    )

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> ContractCreate:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self


class ContractUpdate(InputModel):
    name: Name | None = None
    effective_to: AwareDatetime | None = Field(
        default=None,
        description="End the contract (exclusive). Outages detected from then on "
        "are settled under whatever contract covers them next.",
    )


class ContractTerms(OutputModel):
    critical: PolicyOut
    high: PolicyOut
    medium: PolicyOut
    low: PolicyOut


class ContractOut(OutputModel):
    id: str
    counterparty_id: str
    name: str
    sites: list[str] | None = Field(description="Null: every site.")
    effective_from: UTCTimestamp
    effective_to: UTCTimestamp | None
    is_default: bool
    version: int = Field(description="The latest version of its terms.")
    terms: ContractTerms
    created_at: UTCTimestamp
    updated_at: UTCTimestamp


class TermsVersionOut(PolicyOut):
    severity: Severity
    is_current: bool
    created_by: str | None
