"""Payments: reading them, and the manual paths (process, trigger, execute, signed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.loading import get_or_404
from app.core.locks import transaction_lock
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change
from app.outages.models import Outage
from app.payments import envelopes, payout, states
from app.payments.models import Payment, PaymentAttempt, PaymentOrigin, PaymentStatus
from app.payments.planning import (
    EXECUTE,
    QUEUED,
    SUPERSEDED,
    assign_parties,
    outage_payments,
    plan_for_result,
)
from app.sla import service as sla
from app.sla.models import SlaResult
from app.stellar import errors as stellar_errors
from app.stellar.errors import StellarTimeout
from app.stellar.port import LedgerUnavailable
from app.stellar.runtime import Stellar, stellar_of
from app.wallets import service as wallets


async def get(session: AsyncSession, payment_id: str, *, lock: bool = False) -> Payment:
    return await get_or_404(session, Payment, payment_id, "Payment not found.", for_update=lock)


async def attempts_of(session: AsyncSession, payment_id: str) -> list[PaymentAttempt]:
    return list(
        (
            await session.execute(
                select(PaymentAttempt)
                .where(PaymentAttempt.payment_id == payment_id)
                .order_by(PaymentAttempt.id)
            )
        ).scalars()
    )


async def for_result(session: AsyncSession, result_id: str) -> Payment | None:
    return (
        await session.execute(select(Payment).where(Payment.sla_result_id == result_id))
    ).scalar_one_or_none()


async def latest_for_outage(session: AsyncSession, outage_id: str) -> Payment | None:
    return (
        await session.execute(
            select(Payment)
            .where(Payment.outage_id == outage_id)
            .order_by(Payment.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class PaymentFilters:
    start: datetime | None = None
    end: datetime | None = None
    type: str | None = None
    status: str | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.start is not None:
            stmt = stmt.where(Payment.created_at >= self.start)
        if self.end is not None:
            stmt = stmt.where(Payment.created_at <= self.end)
        if self.type == "manual":
            stmt = stmt.where(Payment.origin == PaymentOrigin.manual)
        elif self.type is not None:
            stmt = stmt.where(Payment.type == self.type)
        if self.status is not None:
            stmt = stmt.where(Payment.status == self.status)
        return stmt


async def summary(session: AsyncSession, filters: PaymentFilters) -> dict[str, Decimal]:
    """Confirmed money only: what actually moved."""
    confirmed = Payment.status == PaymentStatus.confirmed
    stmt = filters.apply(
        select(
            func.sum(case((confirmed & (Payment.type == "penalty"), Payment.amount), else_=0)),
            func.sum(case((confirmed & (Payment.type == "reward"), Payment.amount), else_=0)),
        )
    )
    penalties, rewards = (await session.execute(stmt)).one()
    penalties, rewards = Decimal(penalties or 0), Decimal(rewards or 0)
    return {
        "total_penalties": penalties,
        "total_rewards": rewards,
        "net_amount": rewards - penalties,
    }


async def process_outage(
    session: AsyncSession, outage: Outage, actor: Actor
) -> tuple[SlaResult, Payment | None]:
    """The outage's SLA result (computed if needed) and its payment (planned if needed)."""
    result = await sla.calculate(session, outage, actor)
    payment = await for_result(session, result.id) or await plan_for_result(
        session, outage, result, actor, origin=PaymentOrigin.manual
    )
    return result, payment


async def execute_for_result(
    session: AsyncSession, result: SlaResult, actor: Actor
) -> Payment | None:
    """Idempotent: the result's payment if it has one."""
    existing = await for_result(session, result.id)
    if existing is not None:
        return existing
    if not result.is_latest:
        raise Conflict(
            "This SLA result was superseded; pay the outage's latest result.",
            details={"sla_result_id": result.id},
        )
    outage = await get_or_404(
        session, Outage, result.outage_id, "Outage not found.", for_update=True
    )
    return await plan_for_result(session, outage, result, actor, origin=PaymentOrigin.manual)


async def _register_given(
    session: AsyncSession, organization_id: str, entity: str, address: str | None, actor: Actor
) -> None:
    """A wallet given to trigger must be the registered one; with none registered, the given
    one is registered (audited), so the retry and later payouts use it."""
    if address is None:
        return
    registered = await wallets.wallet_of(session, entity)
    if registered is None:
        await wallets.register(session, organization_id, entity, address, actor)
    elif registered.address != address:
        raise Conflict(
            f"{entity} already has another wallet registered; change it with POST /wallets.",
            details={"entity_id": entity},
        )


async def adopt_wallets(
    session: AsyncSession,
    organization_id: str,
    actor: Actor,
    operator_wallet: str | None,
    ops_team_wallet: str | None,
) -> None:
    """Wallets a payment call names: each must be the registered one (409 otherwise), or is
    registered when its entity has none."""
    await _register_given(session, organization_id, wallets.OPERATOR, operator_wallet, actor)
    await _register_given(session, organization_id, wallets.OPS_TEAM, ops_team_wallet, actor)


async def trigger(
    session: AsyncSession,
    outage: Outage,
    actor: Actor,
    operator_wallet: str | None,
    ops_team_wallet: str | None,
) -> tuple[SlaResult, Payment | None]:
    """Manual trigger, or retry of a failed payout of the outage's latest result."""
    await adopt_wallets(session, outage.organization_id, actor, operator_wallet, ops_team_wallet)
    result, payment = await process_outage(session, outage, actor)
    for earlier in await outage_payments(session, outage.id):
        if earlier.status == PaymentStatus.failed and earlier.failure_code != SUPERSEDED:
            await retry(session, earlier, actor)
        elif earlier.status == PaymentStatus.pending:
            # Its job may be dead; another run is harmless (it looks the hash up first).
            _enqueue(session, earlier)
    return result, payment


def _enqueue(session: AsyncSession, payment: Payment) -> None:
    payment.pending_reason = QUEUED
    jobs.enqueue(
        session, EXECUTE, {"payment_id": payment.id}, organization_id=payment.organization_id
    )


async def retry(session: AsyncSession, payment: Payment, actor: Actor) -> None:
    if payment.failure_code == SUPERSEDED:
        raise Conflict("This payment was superseded by a later SLA result.")
    before = {"from_address": payment.from_address, "to_address": payment.to_address}
    if payment.failure_code != stellar_errors.TIMEOUT:
        # The old envelope either never applied or landed as failed: a new one is built, to
        # and from the wallets registered now (the one the failure made someone fix). A
        # timed-out one may still land, so it is kept, and looked up before anything new.
        states.move(payment, PaymentStatus.pending)
        await assign_parties(session, payment)
        if payment.status == PaymentStatus.failed:
            raise Conflict(payment.failure_message or "A wallet is not registered.")
        payment.envelope_xdr = payment.transaction_hash = payment.valid_until = None
        payment.batch_id = payment.batch_index = None
        payment.envelope_signed = False
    states.move(payment, PaymentStatus.pending)
    payout.clear_failure(payment)
    after = {"from_address": payment.from_address, "to_address": payment.to_address}
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=actor,
            kind="payment.retried",
            entity_type="payment",
            entity_id=payment.id,
            data={
                "payment_id": payment.id,
                **after,
                **({"previous": before} if before != after else {}),
            },
        ),
    )
    _enqueue(session, payment)


async def retry_now(session: AsyncSession, payment_id: str, actor: Actor) -> Payment:
    """An operator's retry: a failed payment goes again (from the wallets registered now); a
    pending one is tried now rather than at its backoff (a new job if its job died). One that
    waits for a signature, or settled, cannot be retried (409)."""
    payment = await get(session, payment_id, lock=True)
    if payment.status == PaymentStatus.failed:
        await retry(session, payment, actor)
        return payment
    if payment.status != PaymentStatus.pending:
        what = {
            PaymentStatus.awaiting_signature: "It waits for the payer's signature "
            "(POST /payments/{id}/signed).",
            PaymentStatus.confirmed: "It is confirmed on the ledger.",
        }[PaymentStatus(payment.status)]
        raise Conflict(
            f"This payment cannot be retried. {what}", details={"status": payment.status}
        )
    job = await jobs.waiting_for(
        session, payment.organization_id, EXECUTE, "payment_id", payment.id
    )
    if job is None:
        _enqueue(session, payment)
    elif job.status == "queued":
        job.run_at = utcnow()
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=actor,
            kind="payment.retried",
            entity_type="payment",
            entity_id=payment.id,
            data={"payment_id": payment.id, "status": payment.status},
        ),
    )
    return payment


async def next_attempt(session: AsyncSession, payment: Payment) -> Any:
    """The job that will next try a pending payment, if one waits."""
    if payment.status != PaymentStatus.pending:
        return None
    return await jobs.waiting_for(
        session, payment.organization_id, EXECUTE, "payment_id", payment.id
    )


async def _reissue(session: AsyncSession, stellar: Stellar, payment: Payment) -> NoReturn:
    """An expired envelope can no longer land: a new one is issued (and kept: committed with
    the 409). Its sequence number is chosen among the payer's other outstanding envelopes, so
    the payer's lock is held for the transaction, as a payout job holds it."""
    assert payment.from_address is not None
    await transaction_lock(session, f"stellar-source:{payment.from_address}")
    try:
        await payout.issue(session, stellar, payment)
    except LedgerUnavailable:
        raise StellarTimeout("The ledger did not answer; try again shortly.") from None
    if payment.status == PaymentStatus.failed:
        raise Conflict(
            "The issued envelope has expired and no new one could be built.",
            details={
                "payment_id": payment.id,
                "failure_code": payment.failure_code,
                "reason": payment.failure_reason,
            },
            persist=True,
        )
    raise Conflict(
        "The issued envelope has expired. A new one was issued: sign its unsigned_xdr.",
        details={"payment_id": payment.id, "unsigned_xdr": payment.envelope_xdr},
        persist=True,
    )


async def accept_signed(
    session: AsyncSession, payment_id: str, signed_xdr: str, actor: Actor
) -> Payment:
    payment = await get(session, payment_id, lock=True)
    if payment.status != PaymentStatus.awaiting_signature:
        raise Conflict(
            "This payment is not waiting for a signature.",
            details={"payment_id": payment.id, "status": payment.status},
        )
    assert payment.transaction_hash is not None and payment.from_address is not None
    stellar = stellar_of(session)
    try:
        signed = envelopes.check_signed(
            signed_xdr,
            network=stellar.network,
            issued_hash=payment.transaction_hash,
            payer=payment.from_address,
        )
    except envelopes.EnvelopeRefused as exc:
        raise ValidationFailed(
            str(exc),
            details={
                "errors": [{"loc": ["body", "signed_xdr"], "msg": str(exc), "type": "value_error"}]
            },
        ) from None
    if payout.expired(payment):
        await _reissue(session, stellar, payment)
    payment.envelope_xdr = signed.to_xdr()
    payment.envelope_signed = True
    states.move(payment, PaymentStatus.pending)
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=actor,
            kind="payment.signed",
            entity_type="payment",
            entity_id=payment.id,
            data={"payment_id": payment.id, "transaction_hash": payment.transaction_hash},
        ),
    )
    _enqueue(session, payment)
    return payment
