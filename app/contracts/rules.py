"""Which contract settles an outage, and which contracts may not coexist: pure functions.

The contract in force for a site at a moment: among the contracts effective then (from
`effective_from`, up to but excluding `effective_to`) that cover the site, one naming the site
wins over one for every site, and any wins over the default contract. Two contracts that could
both claim an outage (overlapping dates, and the same site, or both for every site) are
refused when the second is saved, so the choice is never a tie.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar


class Scoped(Protocol):
    id: str
    sites: list[str] | None
    effective_from: datetime
    effective_to: datetime | None
    is_default: bool


def effective_at(contract: Scoped, at: datetime) -> bool:
    return contract.effective_from <= at and (
        contract.effective_to is None or at < contract.effective_to
    )


def covers(contract: Scoped, sites: Iterable[str]) -> bool:
    return contract.sites is None or not set(contract.sites).isdisjoint(sites)


def rank(contract: Scoped) -> tuple[int, int]:
    """Lower wins: naming the site first, then any contract before the default."""
    return (contract.sites is None, contract.is_default)


C = TypeVar("C", bound=Scoped)


def in_force(contracts: Sequence[C], sites: Iterable[str], at: datetime) -> C | None:
    names = list(sites)
    fitting = [c for c in contracts if effective_at(c, at) and covers(c, names)]
    return min(fitting, key=lambda c: (*rank(c), -c.effective_from.timestamp(), c.id), default=None)


def _dates_overlap(a: Scoped, b: Scoped) -> bool:
    a_end, b_end = a.effective_to, b.effective_to
    return (b_end is None or a.effective_from < b_end) and (
        a_end is None or b.effective_from < a_end
    )


def clashes(new: Scoped, existing: Iterable[Scoped]) -> list[Scoped]:
    """The contracts `new` could tie with for some outage."""
    found = []
    for other in existing:
        if other.is_default or other.id == new.id or not _dates_overlap(new, other):
            continue
        both_all = new.sites is None and other.sites is None
        shared = (
            new.sites is not None
            and other.sites is not None
            and not set(new.sites).isdisjoint(other.sites)
        )
        if both_all or shared:
            found.append(other)
    return found
