"""The application's routes are one flat table (app/core/route_table.py) serving exactly what
FastAPI's inclusion of the same routers would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.routing import Route

from app.api import FEATURE_ROUTERS
from app.compat.noc.router import NOC_ROUTERS
from app.core.route_table import add_routes
from app.main import create_app

pytestmark = pytest.mark.unit


def _served(app: FastAPI) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    routes = [
        (
            context.path,
            sorted(getattr(context.route, "methods", None) or ()),
            context.name,
            type(context.route).__name__,
            getattr(context.route, "endpoint", None),
        )
        for context in iter_route_contexts(app.routes)
    ]
    return get_openapi(title="t", version="1", routes=app.routes), routes


@pytest.mark.parametrize(
    ("routers", "prefix"), [(FEATURE_ROUTERS, "/api/v1"), (NOC_ROUTERS, "/noc/v3")]
)
def test_the_flat_table_serves_what_including_the_routers_would(
    routers: tuple[APIRouter, ...], prefix: str
) -> None:
    included, flat = FastAPI(openapi_url=None), FastAPI(openapi_url=None)
    for router in routers:
        included.include_router(router, prefix=prefix)
    add_routes(flat, routers, prefix=prefix)

    document, routes = _served(flat)
    assert (document, routes) == _served(included)  # paths, order, operations, schemas
    assert len(routes) > 20


def test_every_route_of_the_application_is_a_leaf_of_its_own_table() -> None:
    app = create_app()
    assert len(app.routes) == len(list(iter_route_contexts(app.routes)))


def _streaming() -> APIRouter:
    router = APIRouter()

    @router.get("/items")
    async def items() -> AsyncIterator[Item]:
        yield Item(a=1)

    return router


def _plain_route() -> APIRouter:
    router = APIRouter()
    router.routes.append(Route("/plain", endpoint=lambda request: None))
    return router


class Item(BaseModel):
    a: int


@pytest.mark.parametrize(
    "router",
    [_plain_route(), _streaming(), APIRouter(form_limits={"max_fields": 2})],
    ids=["a plain route", "a streamed route", "form limits of its own"],
)
def test_what_a_flat_table_would_lose_is_refused_at_start(router: APIRouter) -> None:
    app = FastAPI(openapi_url=None)
    with pytest.raises(TypeError, match=r"flat|include it instead"):
        add_routes(app, (router,))
    assert app.routes == []
