"""A payment's status, one machine: every change of it goes through `move`.

    pending --(a penalty's envelope issued)--> awaiting_signature --(signed)--> pending
    pending | awaiting_signature | failed --(landed on the ledger)--> confirmed (final)
    pending | awaiting_signature | failed --(refused, timed out, superseded, no wallet)--> failed
    failed --(retried, or detached from a batch nobody was paid by)--> pending

A confirmed payment moved money: nothing moves it again (a correction is a new payment).
"""

from __future__ import annotations

from typing import Final

from app.payments.models import Payment, PaymentStatus

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    PaymentStatus.pending: frozenset(
        {
            PaymentStatus.pending,
            PaymentStatus.awaiting_signature,
            PaymentStatus.confirmed,
            PaymentStatus.failed,
        }
    ),
    PaymentStatus.awaiting_signature: frozenset(
        {PaymentStatus.pending, PaymentStatus.confirmed, PaymentStatus.failed}
    ),
    PaymentStatus.failed: frozenset(
        {PaymentStatus.pending, PaymentStatus.confirmed, PaymentStatus.failed}
    ),
    PaymentStatus.confirmed: frozenset({PaymentStatus.confirmed}),
}


class IllegalTransition(RuntimeError):
    """A bug: code tried to move a payment where its status may not go."""


def move(payment: Payment, to: str) -> None:
    """The payment's status becomes `to`, if its machine allows it from where it stands."""
    current = payment.status or PaymentStatus.pending  # a payment being planned
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"payment {payment.id}: {current} -> {to} is not allowed")
    payment.status = to
