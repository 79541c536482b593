"""Executing a payment on the ledger, so that it can never be paid twice.

The envelope, its hash and its last valid moment are committed before the envelope is sent.
Every later run starts by looking the hash up: a payment that landed while nobody was
listening (a worker killed after submitting, a Horizon 504) is found and recorded, never sent
again. A new envelope is built only when the stored one can no longer land: refused without
applying (`tx_bad_seq`), or past its time bounds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import database_of
from app.jobs.models import Job
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages.models import Outage
from app.payments import envelopes, sequencing, states
from app.payments.models import Payment, PaymentAttempt, PaymentStatus, PaymentType
from app.payments.planning import emit_outcome, payment_event_data
from app.stellar import errors as stellar_errors
from app.stellar.port import LedgerUnavailable, Submission
from app.stellar.runtime import Stellar, source_lock, stellar_of

SYSTEM = Actor("system", "payouts")
# The network's clock may trail ours: an envelope counts as dead only this long after its
# last valid moment.
EXPIRY_GRACE = timedelta(seconds=120)
# A penalty's unsigned envelope waits this long for the payer's signature.
SIGNATURE_WINDOW_SECONDS = 7 * 24 * 3600
REBUILD_CODES = {"tx_bad_seq", "tx_too_late"}
# Why a pending payment waits (`pending_reason`), besides `queued` and `sequencing.WAITING`.
UNREACHABLE = "ledger_unreachable"  # no verdict from the ledger: retried with backoff
CONFIRMING = "confirming"  # sent without an answer: looked up by hash until it shows or dies
MAX_REBUILDS = 3


async def load(session: AsyncSession, payment_id: str, *, lock: bool = False) -> Payment | None:
    query = (
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def execute(session: AsyncSession, job: Job) -> dict[str, Any]:
    """The `payments.execute` job. Re-running it is always safe."""
    payment_id = job.payload["payment_id"]
    payment = await load(session, payment_id)
    if payment is None or payment.status != PaymentStatus.pending or payment.from_address is None:
        return {"payment_id": payment_id, "status": payment.status if payment else "missing"}
    async with source_lock(database_of(session), payment.from_address):
        payment = await load(session, payment_id, lock=True)
        assert payment is not None
        if payment.status != PaymentStatus.pending:
            return {"payment_id": payment_id, "status": payment.status}
        try:
            status = await _advance(session, stellar_of(session), payment, job)
        except LedgerUnavailable:
            if job.attempts < job.max_attempts:
                # The job retries with backoff, and looks the hash up first; meanwhile the
                # payment says why it waits.
                if payment.pending_reason != CONFIRMING:
                    payment.pending_reason = UNREACHABLE
                await session.commit()
                raise
            # Out of attempts with no verdict: failed, but the envelope is kept, so a
            # retry (POST /payments/trigger) looks it up before anything new is built.
            await fail(session, payment, stellar_errors.TIMEOUT, None)
            status = payment.status
        await session.commit()
    return {
        "payment_id": payment_id,
        "status": status,
        "transaction_hash": payment.transaction_hash,
    }


async def _may_have_landed(session: AsyncSession, payment: Payment) -> bool:
    """Sent before without a verdict, and still within its time bounds (plus grace)."""
    if expired(payment):
        return False
    unknown = await session.execute(
        select(PaymentAttempt.id).where(
            PaymentAttempt.payment_id == payment.id,
            PaymentAttempt.transaction_hash == payment.transaction_hash,
            PaymentAttempt.outcome == "unknown",
        )
    )
    return unknown.first() is not None


def expired(payment: Payment) -> bool:
    return payment.valid_until is None or utcnow() > payment.valid_until + EXPIRY_GRACE


async def _advance(session: AsyncSession, stellar: Stellar, payment: Payment, job: Job) -> str:
    if payment.transaction_hash is not None:
        found = await stellar.ledger.find(payment.transaction_hash)
        if found is not None:
            return await _record(session, payment, found, "found")
        if not expired(payment) and payment.envelope_signed:
            order = await _turn(session, stellar, payment)
            if order is sequencing.Turn.later:
                payment.pending_reason = sequencing.WAITING  # sent when the one before lands
                return payment.status
            if order is sequencing.Turn.now:
                return await _submit(session, stellar, payment, job, rebuilds=0)
    if not await _issue_and_store(session, stellar, payment):
        return payment.status
    return await _submit(session, stellar, payment, job, rebuilds=0)


def _pool_pays(stellar: Stellar, payment: Payment) -> bool:
    return payment.from_address == stellar.network.pool_address


async def _turn(session: AsyncSession, stellar: Stellar, payment: Payment) -> sequencing.Turn:
    """The pool's envelopes are built under its lock with its next number: always its turn.
    A payer's signed envelope may have to wait for an earlier one (`sequencing`)."""
    if _pool_pays(stellar, payment) or payment.from_address is None:
        return sequencing.Turn.now
    payer = await stellar.ledger.account(payment.from_address)
    if payer is None:
        return sequencing.Turn.now  # the submission says what is wrong
    return await sequencing.turn(session, payment, payer.sequence)


async def _issue_and_store(session: AsyncSession, stellar: Stellar, payment: Payment) -> bool:
    """A new envelope is committed before it can ever be sent."""
    ready = await issue(session, stellar, payment)
    await session.commit()
    return ready


async def issue(session: AsyncSession, stellar: Stellar, payment: Payment) -> bool:
    """Builds the payment's envelope with the payer's next sequence number and stores it.
    True when it is signed (the pool pays) and ready to submit; a penalty's envelope waits
    for the payer's signature (`awaiting_signature`)."""
    assert payment.from_address is not None and payment.to_address is not None
    payer = await stellar.ledger.account(payment.from_address)
    if payer is None:
        await fail(
            session,
            payment,
            stellar_errors.INSUFFICIENT_BALANCE,
            None,
            reason=stellar_errors.SOURCE_ACCOUNT_MISSING,
        )
        return False
    pool_pays = _pool_pays(stellar, payment)
    # The pool builds under its lock with its next number; a payer's envelope takes the lowest
    # number its other outstanding envelopes leave free (`sequencing`).
    number = (
        payer.sequence + 1
        if pool_pays
        else await sequencing.next_free(session, payer.account_id, payer.sequence, payment.id)
    )
    envelope = envelopes.build_payment(
        stellar.network,
        payment_id=payment.id,
        source=payment.from_address,
        sequence=number - 1,  # the builder uses the next one
        destination=payment.to_address,
        amount=payment.amount,
        now=utcnow(),
        valid_seconds=stellar.network.tx_timeout_seconds if pool_pays else SIGNATURE_WINDOW_SECONDS,
    )
    if pool_pays:
        envelope.sign(stellar.network.pool)
    built = envelopes.describe(envelope)
    payment.envelope_xdr, payment.transaction_hash = built.xdr, built.hash
    payment.valid_until, payment.envelope_signed = built.valid_until, pool_pays
    payment.sequence = envelope.transaction.sequence
    if payment.type == PaymentType.penalty and not pool_pays:
        states.move(payment, PaymentStatus.awaiting_signature)
        payment.pending_reason = None
    attempt(session, payment, "issued")
    return pool_pays


def attempt(
    session: AsyncSession,
    payment: Payment,
    outcome: str,
    submission: Submission | None = None,
    error_code: str | None = None,
) -> None:
    codes = [submission.transaction_code, *submission.operation_codes] if submission else []
    session.add(
        PaymentAttempt(
            organization_id=payment.organization_id,
            payment_id=payment.id,
            number=payment.attempts,
            transaction_hash=payment.transaction_hash,
            outcome=outcome,
            result_codes=codes,
            error_code=error_code,
            created_at=utcnow(),
        )
    )


async def _submit(
    session: AsyncSession, stellar: Stellar, payment: Payment, job: Job, *, rebuilds: int
) -> str:
    assert payment.envelope_xdr is not None
    payment.attempts += 1
    payment.submitted_at = utcnow()
    try:
        verdict = await stellar.ledger.submit(payment.envelope_xdr)
    except LedgerUnavailable:
        attempt(session, payment, "unknown", error_code=stellar_errors.TIMEOUT)
        payment.pending_reason = UNREACHABLE
        await session.commit()
        raise
    if verdict.landed:
        return await _record(session, payment, verdict, "submitted")
    if verdict.transaction_code in REBUILD_CODES and await _may_have_landed(session, payment):
        # An earlier send of this envelope got no answer: `tx_bad_seq` may mean it landed
        # and the lookup has not caught up. Look again later; rebuild only once it is dead.
        attempt(session, payment, "refused", verdict)
        payment.pending_reason = CONFIRMING
        await session.commit()
        raise LedgerUnavailable("the envelope may have landed; looking it up again later")
    if verdict.transaction_code in REBUILD_CODES and rebuilds < MAX_REBUILDS:
        attempt(session, payment, "refused", verdict)
        if not await _issue_and_store(session, stellar, payment):
            return payment.status
        return await _submit(session, stellar, payment, job, rebuilds=rebuilds + 1)
    await fail(session, payment, stellar_errors.failure_code(verdict), verdict)
    return payment.status


async def _record(session: AsyncSession, payment: Payment, verdict: Submission, how: str) -> str:
    # Landed (applied, or failed: its number is used either way): a payer's signed envelopes
    # waiting behind it may go.
    await sequencing.wake_successors(session, payment)
    if not verdict.successful:
        await fail(session, payment, stellar_errors.failure_code(verdict), verdict)
        return payment.status
    await confirm(session, payment, verdict, how)
    return payment.status


async def confirm(session: AsyncSession, payment: Payment, verdict: Submission, how: str) -> None:
    states.move(payment, PaymentStatus.confirmed)
    payment.ledger = verdict.ledger
    payment.confirmed_at = utcnow()
    clear_failure(payment)
    attempt(session, payment, "confirmed" if how == "submitted" else "found", verdict)
    await settled(session, payment, f"Payment confirmed on the ledger ({payment.transaction_hash})")


def clear_failure(payment: Payment) -> None:
    """A payment on its way again (or confirmed): its last failure no longer stands."""
    payment.failure_code = payment.failure_message = payment.failure_reason = None
    payment.pending_reason = None


async def fail(
    session: AsyncSession,
    payment: Payment,
    code: str,
    verdict: Submission | None,
    message: str | None = None,
    *,
    reason: str | None = None,
) -> None:
    states.move(payment, PaymentStatus.failed)
    payment.pending_reason = None
    payment.failure_code = code
    payment.failure_reason = reason or stellar_errors.failure_reason(verdict)
    payment.failure_message = message or stellar_errors.failure_message(
        code, verdict, payment.failure_reason
    )
    attempt(session, payment, "failed", verdict, code)
    await settled(session, payment, f"Payment failed: {code}")


async def settled(session: AsyncSession, payment: Payment, message: str) -> None:
    """The outcome, final for now: audit, timeline and the event webhooks deliver."""
    data = payment_event_data(payment)
    outage = await session.get(Outage, payment.outage_id)
    assert outage is not None
    event = "payment_confirmed" if payment.status == PaymentStatus.confirmed else "payment_failed"
    journal.record(
        session,
        Change(
            organization_id=payment.organization_id,
            actor=SYSTEM,
            kind="payment.completed" if event == "payment_confirmed" else "payment.failed",
            entity_type="payment",
            entity_id=payment.id,
            data=data,
            note=Note(outage.id, event, message, data),
        ),
    )
    emit_outcome(session, payment)
