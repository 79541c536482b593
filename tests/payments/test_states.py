"""A payment's status machine (app/payments/states.py): where each status may go."""

from __future__ import annotations

import pytest

from app.payments.models import Payment, PaymentStatus
from app.payments.states import TRANSITIONS, IllegalTransition, move

ALL = tuple(PaymentStatus)


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("to", ALL)
def test_a_payment_moves_only_where_its_machine_allows(start: str, to: str) -> None:
    payment = Payment(id="pay_x", status=start)
    if to in TRANSITIONS[start]:
        move(payment, to)
        assert payment.status == to
    else:
        with pytest.raises(IllegalTransition):
            move(payment, to)
        assert payment.status == start


def test_confirmed_is_final_and_everything_else_can_still_be_paid() -> None:
    assert TRANSITIONS[PaymentStatus.confirmed] == {PaymentStatus.confirmed}
    for status in ALL:
        assert PaymentStatus.confirmed in TRANSITIONS[status]
