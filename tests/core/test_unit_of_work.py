"""Each route is a unit of work: one transaction, committed by the route (never by a
service) once the response is rendered, before it is sent."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select

from app.core.db import SessionDep
from app.core.errors import Conflict
from app.core.routing import APIRouter, UnitOfWorkRoute
from app.identity.dependencies import EngineerPrincipal
from app.outages import service as outages
from app.outages.models import Outage
from app.outages.schemas import OutageCreate
from tests.helpers import Api, make_app, make_client

BODY = OutageCreate(site_name="Probe", severity="low")


def test_every_api_route_is_a_unit_of_work() -> None:
    app = make_app()
    routes = [
        (context.path, context.route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
    ]
    assert len(routes) > 80
    assert [path for path, route in routes if not isinstance(route, UnitOfWorkRoute)] == []


async def _outages(session: Any) -> int:
    return int((await session.execute(select(func.count()).select_from(Outage))).scalar_one())


async def test_a_service_commit_is_refused_and_a_persisting_error_keeps_its_effects() -> None:
    app = make_app()
    probe = APIRouter()

    @probe.post("/probe/commits")
    async def commits(principal: EngineerPrincipal, session: SessionDep) -> dict[str, int]:
        await outages.create(session, principal.organization_id, principal.actor, BODY)
        await session.commit()  # what a service must never do
        return {}

    @probe.post("/probe/fails")
    async def fails(principal: EngineerPrincipal, session: SessionDep) -> dict[str, int]:
        await outages.create(session, principal.organization_id, principal.actor, BODY)
        raise Conflict("refused, effects rolled back")

    @probe.post("/probe/fails-keeping")
    async def fails_keeping(principal: EngineerPrincipal, session: SessionDep) -> dict[str, int]:
        await outages.create(session, principal.organization_id, principal.actor, BODY)
        raise Conflict("refused, effects kept", persist=True)

    @probe.get("/probe/count")
    async def count(principal: EngineerPrincipal, session: SessionDep) -> dict[str, int]:
        return {"outages": await _outages(session)}

    app.include_router(probe, prefix="/api/v1")
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        assert (await api.post("/probe/commits", owner)).status_code == 500
        assert (await api.post("/probe/fails", owner)).status_code == 409
        assert (await api.get("/probe/count", owner)).json() == {"outages": 0}
        assert (await api.post("/probe/fails-keeping", owner)).status_code == 409
        assert (await api.get("/probe/count", owner)).json() == {"outages": 1}
