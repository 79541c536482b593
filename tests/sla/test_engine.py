"""The SLA formula: the seed's figures, and properties over the whole input range."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.contracts.engine import (
    AT_RISK_SHARE,
    DEFAULT_TERMS,
    MAX_MTTR_MINUTES,
    PaymentType,
    PolicyTerms,
    Rating,
    Severity,
    SlaStatus,
    clock,
    evaluate,
    mttr_between,
)

CRITICAL = DEFAULT_TERMS[Severity.critical]


@pytest.mark.parametrize(
    ("severity", "mttr", "status", "payment", "amount", "rating"),
    [
        # The seed's examples: 25 min on a critical outage is a 1000 penalty; 15 min meets
        # the 15 min threshold for 750 ("good"); the process-sla example pays 1500.
        (Severity.critical, 25, SlaStatus.violated, PaymentType.penalty, "1000", Rating.poor),
        (Severity.critical, 15, SlaStatus.met, PaymentType.reward, "750", Rating.good),
        (Severity.critical, 7, SlaStatus.met, PaymentType.reward, "1500", Rating.exceptional),
        (Severity.high, 95, SlaStatus.violated, PaymentType.penalty, "3250", Rating.poor),
        (Severity.medium, 44, SlaStatus.met, PaymentType.reward, "1125", Rating.excellent),
        (Severity.low, 0, SlaStatus.met, PaymentType.reward, "1200", Rating.exceptional),
        (Severity.low, 121, SlaStatus.violated, PaymentType.penalty, "10", Rating.poor),
    ],
)
def test_seed_figures(
    severity: Severity,
    mttr: int,
    status: SlaStatus,
    payment: PaymentType,
    amount: str,
    rating: Rating,
) -> None:
    outcome = evaluate(mttr, DEFAULT_TERMS[severity])
    assert (outcome.status, outcome.payment_type, outcome.rating) == (status, payment, rating)
    assert outcome.amount == Decimal(amount)


def test_multiplier_boundaries_are_exact() -> None:
    terms = PolicyTerms(60, Decimal(25), Decimal(750))
    assert evaluate(29, terms).rating is Rating.exceptional  # < 50%
    assert evaluate(30, terms).rating is Rating.excellent  # exactly 50%: not under it
    assert evaluate(44, terms).rating is Rating.excellent
    assert evaluate(45, terms).rating is Rating.good  # exactly 75%
    assert evaluate(60, terms).rating is Rating.good  # exactly the threshold: met
    assert evaluate(61, terms).rating is Rating.poor


@pytest.mark.parametrize("mttr", [-1, MAX_MTTR_MINUTES + 1])
def test_absurd_mttr_is_refused(mttr: int) -> None:
    with pytest.raises(ValueError):
        evaluate(mttr, CRITICAL)


terms_strategy = st.builds(
    PolicyTerms,
    threshold_minutes=st.integers(1, 10_080),
    penalty_per_minute=st.decimals(0, 100_000, places=7),
    reward_base=st.decimals(0, 1_000_000, places=7),
)
mttr_strategy = st.integers(0, MAX_MTTR_MINUTES)


@given(mttr_strategy, terms_strategy)
def test_amount_sign_matches_the_outcome(mttr: int, terms: PolicyTerms) -> None:
    outcome = evaluate(mttr, terms)
    assert outcome.amount >= 0
    if outcome.status is SlaStatus.violated:
        assert mttr > terms.threshold_minutes
        assert outcome.signed_amount <= 0 and outcome.reward_amount == 0
        assert outcome.payment_type in (PaymentType.penalty, PaymentType.none)
    else:
        assert mttr <= terms.threshold_minutes
        assert outcome.signed_amount >= 0 and outcome.penalty_amount == 0
        assert outcome.payment_type in (PaymentType.reward, PaymentType.none)
    assert (outcome.amount == 0) == (outcome.payment_type is PaymentType.none)
    assert outcome.amount == outcome.amount.quantize(Decimal("0.0000001"))


@given(mttr_strategy, mttr_strategy, terms_strategy)
def test_signed_amount_never_improves_as_mttr_grows(a: int, b: int, terms: PolicyTerms) -> None:
    low, high = sorted((a, b))
    assert evaluate(low, terms).signed_amount >= evaluate(high, terms).signed_amount


@given(terms_strategy)
def test_crossing_the_threshold_turns_a_reward_into_a_penalty(terms: PolicyTerms) -> None:
    at = evaluate(terms.threshold_minutes, terms)
    past = evaluate(terms.threshold_minutes + 1, terms)
    assert at.status is SlaStatus.met and past.status is SlaStatus.violated
    assert past.amount == terms.penalty_per_minute.quantize(Decimal("0.0000001"))
    assert at.amount == terms.reward_base.quantize(Decimal("0.0000001"))


def test_mttr_from_timestamps_rounds_up_to_whole_minutes() -> None:
    start = datetime(2026, 1, 16, 9, 30, tzinfo=UTC)
    assert mttr_between(start, start) == 0
    assert mttr_between(start, start + timedelta(minutes=15)) == 15
    assert mttr_between(start, start + timedelta(minutes=15, seconds=1)) == 16
    with pytest.raises(ValueError):
        mttr_between(start, start - timedelta(seconds=1))


def test_clock_of_an_open_outage() -> None:
    start = datetime(2026, 1, 16, 9, 30, tzinfo=UTC)
    early = clock(start, start + timedelta(minutes=3), 15)
    assert (early.status, early.time_remaining_minutes, early.at_risk) == (
        SlaStatus.in_progress,
        12,
        False,
    )
    risky = clock(start, start + timedelta(minutes=12), 15)
    assert risky.at_risk and risky.status is SlaStatus.in_progress
    late = clock(start, start + timedelta(minutes=16), 15)
    assert late.status is SlaStatus.violated and late.time_remaining_minutes == 0


def test_at_risk_starts_exactly_at_the_share_of_the_threshold() -> None:
    start = datetime(2026, 1, 16, 9, 30, tzinfo=UTC)
    for threshold in range(1, 241):
        for elapsed in range(threshold + 2):
            state = clock(start, start + timedelta(minutes=elapsed, seconds=59), threshold)
            assert state.at_risk is (elapsed >= AT_RISK_SHARE * threshold), (threshold, elapsed)
