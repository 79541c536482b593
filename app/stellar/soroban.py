"""The Soroban adapter: records an SLA outcome with the contract's
`calculate_sla(operator, outage_id, severity, mttr)` through stellar-sdk's `SorobanServer`
(simulate, assemble, sign, send, poll), and reads back the contract's own outcome.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal

from stellar_sdk import SorobanServer, TransactionBuilder, scval
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import (
    BadResponseError,
    ConnectionError,
    PrepareTransactionException,
    SorobanRpcErrorResponse,
)
from stellar_sdk.soroban_rpc import GetTransactionStatus, SendTransactionStatus

from app.stellar.network import NetworkConfig, from_stroops
from app.stellar.port import LedgerUnavailable

POLL_SECONDS = 1.0


class ContractFailed(Exception):
    """The contract refused the call or the transaction failed: STELLAR_CONTRACT_ERROR."""


@dataclass(frozen=True, slots=True)
class ContractOutcome:
    tx_hash: str
    status: str
    amount: Decimal  # signed: a penalty is negative


def decode_outcome(value: stellar_xdr.SCVal) -> tuple[str, Decimal]:
    """The contract returns `{status: Symbol, amount: i128 stroops}`."""
    entries = {scval.from_symbol(k): v for k, v in scval.from_map(value).items()}
    return scval.from_symbol(entries["status"]), from_stroops(scval.from_int128(entries["amount"]))


class SorobanContract:
    def __init__(
        self, rpc_url: str, contract_id: str, network: NetworkConfig, timeout_seconds: float
    ) -> None:
        self.contract_id = contract_id
        self.network = network
        self.timeout = timeout_seconds
        self.server = SorobanServer(
            rpc_url,
            client=RequestsClient(
                num_retries=0,
                request_timeout=int(max(1, timeout_seconds)),
                post_timeout=timeout_seconds,
            ),
        )

    async def calculate_sla(
        self, operator: str, outage_id: str, severity: str, mttr: int
    ) -> ContractOutcome:
        try:
            return await asyncio.to_thread(self._invoke, operator, outage_id, severity, mttr)
        except (ConnectionError, BadResponseError) as exc:
            raise LedgerUnavailable(f"Stellar RPC did not answer: {type(exc).__name__}") from exc
        except (PrepareTransactionException, SorobanRpcErrorResponse) as exc:
            raise ContractFailed(str(exc)) from exc

    def _invoke(self, operator: str, outage_id: str, severity: str, mttr: int) -> ContractOutcome:
        source = self.server.load_account(self.network.pool_address)
        tx = (
            TransactionBuilder(source, self.network.passphrase, self.network.base_fee)
            .append_invoke_contract_function_op(
                self.contract_id,
                "calculate_sla",
                [
                    scval.to_address(operator),
                    scval.to_symbol(outage_id),
                    scval.to_symbol(severity),
                    scval.to_uint32(mttr),
                ],
            )
            .set_timeout(self.network.tx_timeout_seconds)
            .build()
        )
        simulation = self.server.simulate_transaction(tx)
        if simulation.error or not simulation.results:
            raise ContractFailed(simulation.error or "the simulation returned no result")
        status, amount = decode_outcome(stellar_xdr.SCVal.from_xdr(simulation.results[0].xdr))
        prepared = self.server.prepare_transaction(tx, simulation)
        prepared.sign(self.network.pool)
        sent = self.server.send_transaction(prepared)
        if sent.status == SendTransactionStatus.ERROR:
            raise ContractFailed("the network refused the contract call")
        if sent.status == SendTransactionStatus.TRY_AGAIN_LATER:
            raise LedgerUnavailable("Stellar RPC asked to try again later")
        self._wait(sent.hash)
        return ContractOutcome(sent.hash, status, amount)

    def _wait(self, tx_hash: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            result = self.server.get_transaction(tx_hash)
            if result.status == GetTransactionStatus.SUCCESS:
                return
            if result.status == GetTransactionStatus.FAILED:
                raise ContractFailed(f"the contract call {tx_hash} failed")
            time.sleep(POLL_SECONDS)
        raise LedgerUnavailable(f"the contract call {tx_hash} was not confirmed in time")
