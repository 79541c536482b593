"""The application's routes in one flat table.

FastAPI (since 0.137) keeps an included router as a node of a tree: a request walks every
included router before its match, once to find the match and once more to hand it over, and
each walk re-counts the routes of every router below to see whether they changed. With 27
feature routers under the API prefix that was 130 µs to reach `GET /api/v1/outages` and
460 µs to reach the audit routes, on every request (record 0029).

`add_routes` puts a router's routes into the application's own table instead, each rebuilt
with the prefix in its path, so a request is matched by Starlette's single pass over one list.
A route is rebuilt from everything FastAPI's inclusion would carry over. Only what an
inclusion with nothing but a prefix would produce can be flattened: a router with what a
route does not carry (form limits of its own, frontend routes, a streamed or non-API route)
is refused at start, not half-copied.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def add_routes(app: FastAPI, routers: Iterable[APIRouter], prefix: str = "") -> None:
    """What `app.include_router(router, prefix=prefix)` of each router serves, in order, as
    leaves of the app's table."""
    for router in routers:
        for route in _api_routes_of(router):
            _add(app, route, prefix)


def _api_routes_of(router: APIRouter) -> list[APIRoute]:
    """The router's routes when a flat table carries all of them whole, else a refusal: what
    `include_router` applies from the router rather than its routes (its form limits, its
    frontend routes) has no place in a flat table; nor has a route of another kind, or a
    streamed one (`add_api_route` does not take its item type)."""
    if router.form_limits or getattr(router, "_low_priority_routes", None):
        raise TypeError(f"{router!r} has form limits or frontend routes: include it instead")
    routes: list[APIRoute] = []
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.stream_item_type is not None:
            raise TypeError(f"only API routes that do not stream can be added flat, not {route!r}")
        routes.append(route)
    return routes


def _add(app: FastAPI, route: APIRoute, prefix: str) -> None:
    app.router.add_api_route(
        prefix + route.path,
        route.endpoint,
        route_class_override=type(route),
        response_model=route.response_model,
        status_code=route.status_code,
        tags=list(route.tags),
        dependencies=list(route.dependencies),
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses=dict(route.responses),
        deprecated=route.deprecated,
        methods=route.methods,
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema,
        response_class=route.response_class,
        name=route.name,
        callbacks=route.callbacks,
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=route.generate_unique_id_function,
        strict_content_type=route.strict_content_type,
        max_body_size=route.max_body_size,
        form_limits=route.form_limits,
    )
