"""Recording SLA outcomes on the Soroban contract and comparing them with the local result."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import signed_amount
from app.core.actors import Actor
from app.core.db import database_of
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.journal import journal
from app.journal.entries import Change
from app.sla.models import SlaResult
from app.sla.service import RECORD_ON_CONTRACT
from app.stellar.runtime import source_lock, stellar_of
from app.stellar.soroban import ContractFailed
from app.wallets import service as wallets

log = structlog.get_logger(__name__)
SYSTEM = Actor("system", "soroban")
FINAL = {"matched", "mismatch", "failed"}


@job_handler(RECORD_ON_CONTRACT, queue="sla", max_attempts=6)
async def record_on_contract(session: AsyncSession, job: Job) -> dict[str, Any]:
    """No verdict from the RPC raises, so the job retries; a refusal is final (`failed`)."""
    result = await session.get(SlaResult, job.payload["sla_result_id"], with_for_update=True)
    if result is None or result.contract_status in FINAL:
        return {"status": result.contract_status if result else "missing"}
    stellar = stellar_of(session)
    if stellar.contract is None:
        result.contract_status = None
        return {"status": "not_configured"}
    operator = await wallets.wallet_of(session, wallets.OPERATOR)
    operator_address = operator.address if operator else stellar.network.pool_address
    try:
        # The pool signs contract calls, so they share its sequence with payouts.
        async with source_lock(database_of(session), stellar.network.pool_address):
            outcome = await stellar.contract.calculate_sla(
                operator_address, result.outage_id, result.severity, result.mttr_minutes
            )
    except ContractFailed as exc:
        result.contract_status = "failed"
        await _audit(session, result, "sla.contract_failed", {"error": str(exc)[:300]})
        return {"status": "failed"}
    expected = signed_amount(result.payment_type, result.amount)
    matched = outcome.status == result.status and outcome.amount == expected
    result.contract_status = "matched" if matched else "mismatch"
    result.contract_tx_hash = outcome.tx_hash
    result.contract_amount = outcome.amount
    result.contract_outcome = outcome.status
    if not matched:
        log.warning("sla_contract_mismatch", sla_result_id=result.id, contract=outcome.status)
        await _audit(
            session,
            result,
            "sla.contract_mismatch",
            {
                "contract_status": outcome.status,
                "contract_amount": str(outcome.amount),
                "local_status": result.status,
                "local_amount": str(expected),
            },
        )
    return {"status": result.contract_status, "tx_hash": outcome.tx_hash}


async def invocation_of(session: AsyncSession, result: SlaResult) -> dict[str, Any] | None:
    """What the contract is (or was) asked about `result`, and what it answered."""
    contract = stellar_of(session).contract
    if contract is None:
        return None
    operator = await wallets.wallet_of(session, wallets.OPERATOR)
    answered = result.contract_outcome is not None and result.contract_amount is not None
    return {
        "contract_id": contract.contract_id,
        "arguments": {
            "operator": operator.address if operator else contract.network.pool_address,
            "outage_id": result.outage_id,
            "severity": result.severity,
            "mttr_minutes": result.mttr_minutes,
        },
        "status": result.contract_status,
        "tx_hash": result.contract_tx_hash,
        "result": (
            {"status": result.contract_outcome, "amount": result.contract_amount}
            if answered
            else None
        ),
    }


async def _audit(
    session: AsyncSession, result: SlaResult, event: str, data: dict[str, Any]
) -> None:
    journal.record(
        session,
        Change(
            organization_id=result.organization_id,
            actor=SYSTEM,
            kind=event,
            entity_type="sla_result",
            entity_id=result.id,
            data={"sla_result_id": result.id, **data},
        ),
    )
