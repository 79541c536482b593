"""Planner methods a route declares (app/core/planner.py) are switched off by the request's first
statement, for its transaction only, and nothing else can be set that way (migration 0028)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core import planner
from app.identity import queries
from app.identity.tokens import decode_access_token
from tests.helpers import Api


async def _setting(session: Any, name: str) -> str:
    return str((await session.execute(text(f"SHOW {name}"))).scalar_one())


async def test_the_callers_lookup_switches_off_what_the_route_declared_for_its_transaction(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    claims = decode_access_token(app.state.settings, owner.access_token)
    assert claims is not None
    who = (claims.organization_id, claims.user_id, claims.session_id)
    async with app.state.database.sessionmaker() as session:
        row = await queries.principal_row(session, *who, planner_off=("enable_sort",))
        assert row is not None and row.email == owner.email
        assert await _setting(session, "enable_sort") == "off"
        assert await _setting(session, "enable_hashjoin") == "on"
        assert planner.switched_off(session) == {"enable_sort"}
        await session.commit()
        assert planner.switched_off(session) == frozenset()  # it ended with its transaction
        assert await _setting(session, "enable_sort") == "on"
        await session.rollback()
        row = await queries.principal_row(session, *who)
        assert await _setting(session, "enable_sort") == "on"
        assert planner.switched_off(session) == frozenset()


async def test_only_planner_methods_can_be_switched_off(app: Any, api: Api) -> None:
    owner = await api.owner()
    claims = decode_access_token(app.state.settings, owner.access_token)
    assert claims is not None
    async with app.state.database.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="not a planner method"):
            await queries.principal_row(
                session,
                claims.organization_id,
                claims.user_id,
                claims.session_id,
                planner_off=("row_security",),
            )
    with pytest.raises(ValueError, match="not a planner method"):
        planner.switches_off("work_mem")


def test_the_outage_list_declares_its_walk_and_the_search_does_not() -> None:
    from starlette.requests import Request

    from app.lifecycle.router import list_outages, search_outages

    def routed_to(endpoint: Any) -> Request:
        return Request({"type": "http", "endpoint": endpoint})

    assert planner.declared(routed_to(list_outages)) == ("enable_sort",)
    # A rare word's page starts from its few matches and sorts them: no walk to force.
    assert planner.declared(routed_to(search_outages)) == ()
