"""Planning payments: what an SLA result leaves to settle, between whom, in the transaction
that records the result."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import signed_amount
from app.contracts.models import Counterparty
from app.core.actors import SYSTEM, Actor
from app.core.correlation import get_correlation_id
from app.core.errors import Conflict
from app.jobs import service as jobs
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages.models import Outage
from app.payments import sequencing, states
from app.payments.models import Payment, PaymentOrigin, PaymentStatus, PaymentType
from app.sla.holds import hold_reason
from app.sla.models import SlaResult
from app.stellar.runtime import stellar_of
from app.wallets import service as wallets

EXECUTE = "payments.execute"
QUEUED = "queued"  # a pending payment's reason: its job has not run yet
WALLET_NOT_REGISTERED = "wallet_not_registered"
SUPERSEDED = "superseded"
TIMED_OUT = "STELLAR_TIMEOUT"


def committed(payment: Payment) -> bool:
    """Payments that moved, or may still move, money: what they carry counts as settled. A
    timed-out one may have landed (its envelope is kept and looked up on retry)."""
    return payment.status in (PaymentStatus.pending, PaymentStatus.confirmed) or (
        payment.status == PaymentStatus.failed and payment.failure_code == TIMED_OUT
    )


async def outage_payments(session: AsyncSession, outage_id: str) -> list[Payment]:
    return list(
        (
            await session.execute(
                select(Payment).where(Payment.outage_id == outage_id).order_by(Payment.id)
            )
        ).scalars()
    )


async def _withdraw_unsettled(
    session: AsyncSession, payments: list[Payment], result: SlaResult
) -> None:
    """Payments of earlier results that never moved money are withdrawn: the new result's
    payment settles the whole difference instead."""
    for payment in payments:
        if payment.sla_result_id == result.id:
            continue
        if payment.status == PaymentStatus.awaiting_signature or (
            payment.status == PaymentStatus.failed
            and payment.failure_code not in (SUPERSEDED, TIMED_OUT)
        ):
            withdrawn = payment.status == PaymentStatus.awaiting_signature
            states.move(payment, PaymentStatus.failed)
            payment.failure_code = SUPERSEDED
            payment.failure_message = f"Superseded by the SLA result {result.id}."
            if withdrawn:  # its sequence number will not be used: the ones behind it move
                await sequencing.wake_successors(session, payment)


async def plan_for_result(
    session: AsyncSession,
    outage: Outage,
    result: SlaResult,
    actor: Actor,
    *,
    origin: PaymentOrigin = PaymentOrigin.automatic,
) -> Payment | None:
    """The result's payment: the outcome minus what earlier payments of the outage settled.
    None when nothing is left to settle. While a decision a second person has not taken waits
    on the outage (a claimed MTTR, a long pause), nothing is planned, on any path: 409."""
    existing = (
        await session.execute(select(Payment).where(Payment.sla_result_id == result.id))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    held = await hold_reason(session, outage.id)
    if held is not None:
        raise Conflict(
            "This outage's payment waits for a decision a second person has not taken yet "
            "(GET /sla/overrides?status=pending, GET /sla/pauses?status=pending).",
            details={"outage_id": outage.id, "settlement_hold": held},
        )
    payments = await outage_payments(session, outage.id)
    await _withdraw_unsettled(session, payments, result)
    settled = sum((signed_amount(p.type, p.amount) for p in payments if committed(p)), Decimal(0))
    difference = signed_amount(result.payment_type, result.amount) - settled
    if difference == 0:
        return None
    payment_type = PaymentType.reward if difference > 0 else PaymentType.penalty
    parent = next((p for p in payments if committed(p)), None)
    payment = Payment(
        organization_id=outage.organization_id,
        outage_id=outage.id,
        sla_result_id=result.id,
        counterparty_id=result.counterparty_id,
        parent_payment_id=parent.id if parent else None,
        type=payment_type,
        origin=origin,
        amount=abs(difference),
        status=PaymentStatus.pending,
        correlation_id=get_correlation_id(),
    )
    await assign_parties(session, payment)
    session.add(payment)
    await session.flush()
    await _announce(session, outage, payment, actor)
    return payment


async def _counterpart(session: AsyncSession, payment: Payment) -> tuple[str, str | None]:
    """(who, address) on the other side of the pool: the counterparty's own wallet, else the
    organization's registered `ops_team` (rewards) or `operator` (penalties) wallet."""
    counterparty = (
        await session.get(Counterparty, payment.counterparty_id)
        if payment.counterparty_id
        else None
    )
    if counterparty is not None and counterparty.wallet_address:
        return f"counterparty {counterparty.name}", counterparty.wallet_address
    entity = wallets.OPS_TEAM if payment.type == PaymentType.reward else wallets.OPERATOR
    wallet = await wallets.wallet_of(session, entity)
    return entity, wallet.address if wallet else None


async def assign_parties(session: AsyncSession, payment: Payment) -> None:
    """Reward: pool -> the counterparty (or the ops team). Penalty: the counterparty (or the
    operator) -> pool. A missing wallet fails the payment with `wallet_not_registered`;
    `POST /payments/trigger` retries it later."""
    pool = stellar_of(session).network.pool_address
    entity, counterpart = await _counterpart(session, payment)
    if payment.type == PaymentType.reward:
        payment.from_address, payment.to_address = pool, counterpart
    else:
        payment.from_address, payment.to_address = counterpart, pool
    if counterpart is None:
        states.move(payment, PaymentStatus.failed)
        payment.failure_code = WALLET_NOT_REGISTERED
        payment.failure_message = (
            f"No wallet is registered for '{entity}'; register it with POST /wallets, "
            "then retry with POST /payments/trigger."
        )


async def _announce(session: AsyncSession, outage: Outage, payment: Payment, actor: Actor) -> None:
    data = payment_event_data(payment)
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=actor,
            kind="payment.created",
            entity_type="payment",
            entity_id=payment.id,
            data=data,
            note=Note(
                outage.id,
                "payment_triggered",
                f"Payment {payment.type} {payment.amount} USDC ({payment.status})",
                data,
            ),
        ),
    )
    if payment.status == PaymentStatus.failed:
        emit_outcome(session, payment)
    else:
        payment.pending_reason = QUEUED
        jobs.enqueue(
            session, EXECUTE, {"payment_id": payment.id}, organization_id=payment.organization_id
        )


def payment_event_data(payment: Payment) -> dict[str, object]:
    return {
        "payment_id": payment.id,
        "outage_id": payment.outage_id,
        "sla_result_id": payment.sla_result_id,
        "type": payment.type,
        "amount": str(payment.amount),
        "asset_code": payment.asset_code,
        "from_address": payment.from_address,
        "to_address": payment.to_address,
        "status": payment.status,
        "transaction_hash": payment.transaction_hash,
        "failure_code": payment.failure_code,
        "failure_reason": payment.failure_reason,
    }


def emit_outcome(session: AsyncSession, payment: Payment) -> None:
    """`payment.completed` or `payment.failed`, for webhooks."""
    event = "payment.completed" if payment.status == PaymentStatus.confirmed else "payment.failed"
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=SYSTEM,
            kind=event,
            entity_type="payment",
            entity_id=payment.id,
            publish=payment_event_data(payment),
            audited=False,
        ),
    )
