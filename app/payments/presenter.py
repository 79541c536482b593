"""Payments as clients see them, shared by the payments routes and the outage detail."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.payments.models import Payment, PaymentStatus
from app.payments.schemas import PaymentAttemptOut, PaymentDetail, PaymentOut, payment_fields
from app.stellar.runtime import stellar_of


async def present_detail(session: AsyncSession, payment: Payment) -> PaymentDetail:
    """With its attempts and, while pending, the job that tries it next."""
    from app.payments import service

    attempts = await service.attempts_of(session, payment.id)
    job = await service.next_attempt(session, payment)
    return PaymentDetail(
        **present(session, payment).model_dump(),
        attempt_log=[PaymentAttemptOut.model_validate(a, from_attributes=True) for a in attempts],
        next_attempt_at=job.run_at if job is not None and job.status == "queued" else None,
        last_error=job.last_error if job is not None else None,
    )


def present(session: AsyncSession, payment: Payment) -> PaymentOut:
    """`explorer_url` only once the transaction is on the ledger."""
    confirmed = payment.status == PaymentStatus.confirmed
    url = stellar_of(session).network.explorer_url(payment.transaction_hash if confirmed else None)
    return PaymentOut.model_validate(payment_fields(payment, url))
