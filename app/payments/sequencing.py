"""Sequence numbers of a payer's envelopes: penalties are issued in order, so a payer who
signs all of them settles all of them, whatever order the signed envelopes come back in.

Stellar applies a payer's transactions in sequence order, each exactly one above the last.
A new envelope takes the lowest number above the payer's ledger sequence that no outstanding
envelope of that payer holds (so a withdrawn penalty's number is reused, not left as a gap).
A signed envelope whose number is not next waits while every number below it is held by an
outstanding envelope; it is sent when the one before it lands. If a number below it will
never be used (its penalty was withdrawn and nothing took its place), the envelope is issued
again and waits for a new signature.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.jobs import service as jobs
from app.payments import crossings
from app.payments.models import Payment, PaymentStatus

OUTSTANDING = (PaymentStatus.awaiting_signature, PaymentStatus.pending)
# As the payout's: the network's clock may trail ours.
EXPIRY_GRACE = timedelta(seconds=120)
WAITING = "waiting_for_earlier_payment"
EXECUTE = "payments.execute"


class Turn(Enum):
    now = "now"  # its number is next (or it has none): send it
    later = "later"  # an earlier envelope of the payer, still outstanding, goes first
    never = "never"  # a number below it will not be used: issue it again


async def held(session: AsyncSession, payer: str, above: int, *, besides: str) -> set[int]:
    """Sequence numbers above `above` that outstanding envelopes of `payer` hold (an expired
    one can no longer land: it holds nothing). Every organization's: the account's sequence
    is one, whoever issued the envelopes."""
    return await crossings.payer_sequences(
        session,
        payer,
        above,
        besides=besides,
        statuses=[status.value for status in OUTSTANDING],
        alive_after=utcnow() - EXPIRY_GRACE,
    )


async def next_free(
    session: AsyncSession, payer: str, ledger_sequence: int, payment_id: str
) -> int:
    taken = await held(session, payer, ledger_sequence, besides=payment_id)
    number = ledger_sequence + 1
    while number in taken:
        number += 1
    return number


async def turn(session: AsyncSession, payment: Payment, ledger_sequence: int) -> Turn:
    if payment.sequence is None or payment.sequence <= ledger_sequence + 1:
        return Turn.now  # next, or already passed (the ledger's answer says which)
    taken = await held(session, payment.from_address or "", ledger_sequence, besides=payment.id)
    earlier = range(ledger_sequence + 1, payment.sequence)
    return Turn.later if all(n in taken for n in earlier) else Turn.never


async def wake_successors(session: AsyncSession, payment: Payment) -> int:
    """A payer's envelope landed, or was withdrawn: the signed ones waiting behind it go now
    (or, behind a number that will not be used, are issued again). Every organization's."""
    if payment.sequence is None:
        return 0
    waiting = await crossings.payer_waiting(
        session, payment.from_address or "", payment.sequence, WAITING
    )
    for payment_id, organization_id in ((w.id, w.organization_id) for w in waiting):
        jobs.enqueue(session, EXECUTE, {"payment_id": payment_id}, organization_id=organization_id)
    return len(waiting)
