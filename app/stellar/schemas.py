"""What a client needs to build and sign transactions for this instance's network."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.config import StellarNetwork


class StellarNetworkOut(BaseModel):
    network: StellarNetwork = Field(
        description="`local` (the embedded ledger), `testnet` or `public`."
    )
    passphrase: str = Field(description="Sign with this network passphrase (penalties).")
    horizon_url: str | None = Field(description="Null on the local ledger (served in-process).")
    rpc_url: str | None = Field(description="Soroban RPC; null on the local ledger.")
    usdc_code: str
    usdc_issuer: str
    pool_address: str = Field(description="The platform's pool: pays rewards, receives penalties.")
    explorer_url: str | None = Field(
        description="Base URL of a block explorer for transactions; null on the local ledger."
    )
