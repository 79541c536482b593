"""The SLA formula, as pure functions: no I/O, no clock, exact decimals.

Used by resolve, calculate, preview, recalculate, disputes and the SLA clock alike, so every
path computes the same outcome for the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, NamedTuple

# One year: anything longer is a data-entry error, not an outage.
MAX_MTTR_MINUTES: Final = 525_600
USDC_PLACES: Final = Decimal("0.0000001")
AT_RISK_SHARE: Final = Decimal("0.8")


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2, "critical": 3}[self.value]


class SlaStatus(StrEnum):
    in_progress = "in_progress"
    met = "met"
    violated = "violated"


class Rating(StrEnum):
    exceptional = "exceptional"
    excellent = "excellent"
    good = "good"
    poor = "poor"


class PaymentType(StrEnum):
    reward = "reward"
    penalty = "penalty"
    none = "none"


@dataclass(frozen=True, slots=True)
class PolicyTerms:
    threshold_minutes: int
    penalty_per_minute: Decimal
    reward_base: Decimal


DEFAULT_TERMS: Final = {
    Severity.critical: PolicyTerms(15, Decimal(100), Decimal(750)),
    Severity.high: PolicyTerms(30, Decimal(50), Decimal(750)),
    Severity.medium: PolicyTerms(60, Decimal(25), Decimal(750)),
    Severity.low: PolicyTerms(120, Decimal(10), Decimal(600)),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    mttr_minutes: int
    threshold_minutes: int
    status: SlaStatus
    rating: Rating
    multiplier: Decimal
    payment_type: PaymentType
    amount: Decimal  # what changes hands, >= 0

    @property
    def penalty_amount(self) -> Decimal:
        return self.amount if self.payment_type is PaymentType.penalty else Decimal(0)

    @property
    def reward_amount(self) -> Decimal:
        return self.amount if self.payment_type is PaymentType.reward else Decimal(0)

    @property
    def signed_amount(self) -> Decimal:
        """Positive for a reward to the ops team, negative for a penalty."""
        return -self.amount if self.payment_type is PaymentType.penalty else self.amount


def _usdc(value: Decimal) -> Decimal:
    return value.quantize(USDC_PLACES)


def evaluate(mttr_minutes: int, terms: PolicyTerms) -> Outcome:
    """`mttr > threshold`: violated, penalty `(mttr - threshold) * penalty_per_minute`.
    Otherwise met, reward `reward_base * m`, m = 2 under 50% of the threshold, 1.5 under 75%,
    else 1."""
    if not 0 <= mttr_minutes <= MAX_MTTR_MINUTES:
        raise ValueError(f"mttr_minutes must be within 0..{MAX_MTTR_MINUTES}")
    threshold = terms.threshold_minutes
    if mttr_minutes > threshold:
        amount = _usdc((mttr_minutes - threshold) * terms.penalty_per_minute)
        return Outcome(
            mttr_minutes,
            threshold,
            SlaStatus.violated,
            Rating.poor,
            Decimal(0),
            PaymentType.penalty if amount else PaymentType.none,
            amount,
        )
    # Integer comparisons: exact at the 50% and 75% boundaries.
    if mttr_minutes * 2 < threshold:
        rating, multiplier = Rating.exceptional, Decimal(2)
    elif mttr_minutes * 4 < threshold * 3:
        rating, multiplier = Rating.excellent, Decimal("1.5")
    else:
        rating, multiplier = Rating.good, Decimal(1)
    amount = _usdc(terms.reward_base * multiplier)
    return Outcome(
        mttr_minutes,
        threshold,
        SlaStatus.met,
        rating,
        multiplier,
        PaymentType.reward if amount else PaymentType.none,
        amount,
    )


def mttr_between(detected_at: datetime, resolved_at: datetime) -> int:
    """Whole minutes, rounded up: 15 minutes and 1 second is 16, so a threshold is never met
    by rounding."""
    seconds = (resolved_at - detected_at).total_seconds()
    if seconds < 0:
        raise ValueError("resolved_at is before detected_at")
    return math.ceil(seconds / 60)


class Clock(NamedTuple):
    """Where an open outage stands against its threshold at a moment (a tuple: a page builds
    one per open row)."""

    elapsed_minutes: int
    threshold_minutes: int
    status: SlaStatus
    at_risk: bool
    time_remaining_minutes: int


# At risk from AT_RISK_SHARE of the threshold, compared in whole numbers (4/5: exact, and
# no Decimal arithmetic per row of a page).
_RISK_PARTS, _RISK_WHOLE = AT_RISK_SHARE.as_integer_ratio()
_VIOLATED, _IN_PROGRESS = SlaStatus.violated, SlaStatus.in_progress


def clock(
    detected_at: datetime, now: datetime, threshold_minutes: int, excluded_seconds: float = 0
) -> Clock:
    """`excluded_seconds`: time the clock did not count so far (maintenance windows, pauses)."""
    elapsed = max(0, int(((now - detected_at).total_seconds() - excluded_seconds) // 60))
    return Clock(
        elapsed,
        threshold_minutes,
        _VIOLATED if elapsed > threshold_minutes else _IN_PROGRESS,
        elapsed * _RISK_WHOLE >= _RISK_PARTS * threshold_minutes,
        max(0, threshold_minutes - elapsed),
    )


def is_escalation(old: Severity, new: Severity) -> bool:
    return new.rank > old.rank


def signed_amount(payment_type: str, amount: Decimal) -> Decimal:
    """Money towards the ops team is positive, towards the pool negative."""
    if payment_type in (PaymentType.reward, "reward"):
        return amount
    if payment_type in (PaymentType.penalty, "penalty"):
        return -amount
    return Decimal(0)
