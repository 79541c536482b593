"""Payments as clients see them, shared by the payments routes and the outage detail."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.payments.models import Payment, PaymentStatus
from app.payments.schemas import PaymentOut, payment_fields
from app.stellar.runtime import stellar_of


def present(session: AsyncSession, payment: Payment) -> PaymentOut:
    """`explorer_url` only once the transaction is on the ledger."""
    confirmed = payment.status == PaymentStatus.confirmed
    url = stellar_of(session).network.explorer_url(payment.transaction_hash if confirmed else None)
    return PaymentOut.model_validate(payment_fields(payment, url))
