"""Reads across organizations a payer's envelopes need: sequence numbers are the payer
account's, whoever issued them (SECURITY DEFINER functions on PostgreSQL, migration 0022;
app/core/crossings.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crossings import Owner, call, postgres
from app.core.tenancy import cross_tenant
from app.payments.models import Payment, PaymentStatus


async def payer_sequences(
    session: AsyncSession,
    payer: str,
    above: int,
    *,
    besides: str,
    statuses: Sequence[str],
    alive_after: datetime,
) -> set[int]:
    """Sequence numbers above `above` that the payer's envelopes in `statuses` hold."""
    if postgres(session):
        query = call(
            "apexchainx_payer_sequences",
            ("sequence",),
            payer,
            above,
            besides,
            array(list(statuses), type_=String),
            alive_after,
        )
        rows = (await session.execute(query)).all()
    else:
        alive = or_(Payment.valid_until.is_(None), Payment.valid_until > alive_after)
        async with cross_tenant(session, "sequence numbers a payer's envelopes hold"):
            rows = (
                await session.execute(
                    select(Payment.sequence).where(
                        Payment.from_address == payer,
                        Payment.status.in_(list(statuses)),
                        Payment.sequence > above,
                        Payment.id != besides,
                        alive,
                    )
                )
            ).all()
    return {int(n) for (n,) in rows if n is not None}


async def payer_waiting(
    session: AsyncSession, payer: str, sequence: int, reason: str
) -> list[Owner]:
    """The payer's pending envelopes waiting (`reason`) behind `sequence`."""
    if postgres(session):
        query = call("apexchainx_payer_waiting", ("id", "organization_id"), payer, sequence, reason)
        rows = (await session.execute(query)).all()
    else:
        async with cross_tenant(session, "a payer's envelopes waiting behind one"):
            rows = (
                await session.execute(
                    select(Payment.id, Payment.organization_id).where(
                        Payment.from_address == payer,
                        Payment.status == PaymentStatus.pending,
                        Payment.pending_reason == reason,
                        Payment.sequence > sequence,
                    )
                )
            ).all()
    return [Owner(*row) for row in rows]
