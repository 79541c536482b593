from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator

from app.core.schemas import WITHHELD_ON_REPLAY, InputModel, OutputModel, WholeNumber
from app.stellar.network import is_public_key, is_secret_seed

ENTITY_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# A Stellar account id: `G` and 55 base32 characters, the last two a checksum (CRC16) that
# JSON Schema cannot state; `format: stellar-public-key` names it for tools that can.
PUBLIC_KEY_SCHEMA: dict[str, Any] = {
    "pattern": r"^G[A-Z2-7]{55}$",
    "format": "stellar-public-key",
    "description": "A Stellar public key (G..., 56 characters, with a valid checksum).",
}
# `unavailable`: the ledger did not answer and nothing is cached (funded etc. are unknown).
CacheStatus = Literal["fresh", "stale", "live", "unavailable"]


def public_key(value: str) -> str:
    # Never echo the value: it may be a secret seed pasted by mistake.
    if is_secret_seed(value):
        raise ValueError(
            "this is a secret seed (S...); private keys are never accepted. "
            "Register the account's public key (G...) and keep the seed to yourself"
        )
    if not is_public_key(value):
        raise ValueError("not a valid Stellar public key (a G... StrKey of 56 characters)")
    return value


# A Stellar public key field: shape in the document, checksum and "never a secret" on input.
StellarAddress = Annotated[
    str,
    Field(max_length=128, json_schema_extra=PUBLIC_KEY_SCHEMA),
    AfterValidator(public_key),
]


class WalletRegister(InputModel):
    entity_id: str = Field(pattern=ENTITY_PATTERN, examples=["ops_team"])
    address: str = Field(
        max_length=128,
        examples=["GDQP2KPQGKIHYJGXNUIYOMHARUARCA7DJT5FO2FFOOKY3B2WSQHG4W37"],
        json_schema_extra=PUBLIC_KEY_SCHEMA,
    )

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        return public_key(value)


class WalletCreate(InputModel):
    user_id: str = Field(max_length=64)


class WalletFund(InputModel):
    xlm: WholeNumber = Field(
        default=10_000, ge=1, le=1_000_000, description="XLM for fees and reserves."
    )
    usdc: WholeNumber = Field(
        default=100_000, ge=0, le=1_000_000, description="USDC credited by the issuer."
    )


class AssetBalance(OutputModel):
    balance: str
    asset_type: str
    asset_code: str | None = None
    asset_issuer: str | None = None


class CacheMeta(OutputModel):
    cache_status: CacheStatus
    cached_at: datetime | None
    cache_ttl_seconds: int


class WalletOut(CacheMeta):
    entity_id: str
    user_id: str = Field(description="The seed's name for `entity_id` (a user's or a team's).")
    address: str
    public_key: str
    created_at: datetime
    last_updated: datetime
    funded: bool | None
    active: bool | None
    trustline_ready: bool | None


class WalletCreated(OutputModel):
    secret_fields: ClassVar[tuple[str, ...]] = ("secret_seed",)

    user_id: str
    entity_id: str
    public_key: str
    secret_seed: str | None = Field(
        description="Shown once. Never stored: keep it safe." + WITHHELD_ON_REPLAY
    )
    created_at: datetime
    funded: bool
    message: str


class BalanceOut(CacheMeta):
    address: str
    network: str
    funded: bool
    balances: dict[str, AssetBalance]
    usdc_balance: str
    xlm_balance: str
    last_updated: datetime
