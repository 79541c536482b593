"""Planner methods a route's transaction switches off, declared on the route and applied by the
request's first statement (PostgreSQL: the caller's lookup sets them with the tenant, in the
same round trip; migration 0028).

A route whose hot statement must walk an index whatever the statistics say (a page of outages,
newest first) declares it with `@switches_off("enable_sort")`; the statement's own code asks
`switched_off(session)` and sets what is missing itself (an API key's request, or a request
whose first statement was another).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_DECLARED = "_planner_switched_off"
_APPLIED = "planner_switched_off"


def switches_off(*methods: str) -> Callable[[Endpoint], Endpoint]:
    """Declares the planner methods (`enable_sort`, ...) the route's transaction runs without."""
    for method in methods:
        if not method.startswith("enable_"):
            raise ValueError(f"not a planner method: {method}")

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _DECLARED, tuple(methods))
        return endpoint

    return declare


def declared(request: Request) -> tuple[str, ...]:
    """What the request's route declared (nothing for most routes)."""
    endpoint = request.scope.get("endpoint")
    methods: tuple[str, ...] = getattr(endpoint, _DECLARED, ())
    return methods


def mark_applied(session: AsyncSession, methods: tuple[str, ...]) -> None:
    """The current transaction runs without these (a SET LOCAL ends with its transaction)."""
    session.info[_APPLIED] = (session.get_transaction(), frozenset(methods))


def switched_off(session: AsyncSession) -> frozenset[str]:
    """What the current transaction already runs without."""
    transaction, methods = session.info.get(_APPLIED, (None, frozenset()))
    if transaction is None or transaction is not session.get_transaction():
        return frozenset()
    applied: frozenset[str] = methods
    return applied
