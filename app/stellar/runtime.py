"""The Stellar pieces of one running instance (network, ledger adapter, contract), built once
per database, and reached from a session so handlers and services need no globals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import StellarNetwork
from app.core.db import Database, database_of
from app.core.locks import advisory_lock
from app.stellar.horizon import HorizonLedger
from app.stellar.local import LocalLedger
from app.stellar.network import NetworkConfig, network_config
from app.stellar.port import Ledger
from app.stellar.soroban import SorobanContract


@dataclass
class Stellar:
    network: NetworkConfig
    ledger: Ledger
    contract: SorobanContract | None
    local: LocalLedger | None


def stellar_for(database: Database) -> Stellar:
    existing: Stellar | None = getattr(database, "stellar", None)
    if existing is not None:
        return existing
    settings = database.settings
    network = network_config(settings)
    local: LocalLedger | None = None
    ledger: Ledger
    if settings.stellar_network is StellarNetwork.local:
        ledger = local = LocalLedger(database, network)
    else:
        ledger = HorizonLedger(
            settings.stellar_horizon_url,
            network.passphrase,
            settings.stellar_request_timeout_seconds,
        )
    contract = (
        SorobanContract(
            settings.stellar_rpc_url,
            settings.soroban_contract_id,
            network,
            settings.stellar_request_timeout_seconds,
        )
        if settings.soroban_contract_id
        else None
    )
    built = Stellar(network, ledger, contract, local)
    database.stellar = built
    return built


def stellar_of(session: AsyncSession) -> Stellar:
    return stellar_for(database_of(session))


def source_lock(database: Database, account_id: str) -> Any:
    """One payout at a time per paying account: a transaction's sequence number is the payer's
    next one, so two envelopes built at once would collide."""
    return advisory_lock(database, f"stellar-source:{account_id}")
