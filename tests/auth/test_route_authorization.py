"""Every route outside health, docs and login/register/refresh declares its lowest role."""

from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.identity.dependencies import RequireRole
from tests.helpers import make_app

PUBLIC = {
    "/metrics",  # internal network, or METRICS_TOKEN
    "/health",
    "/health/live",
    "/health/ready",
    "/health/liveness",
    "/health/readiness",
    "/api/v1/health",
    "/api/v1/health/live",
    "/api/v1/health/ready",
    "/api/v1/health/liveness",
    "/api/v1/health/readiness",
    "/api/v1/auth/login",
    "/api/v1/faults/shared",  # the share token is the credential
    "/api/v1/auth/register",
    "/api/v1/auth/refresh",
    "/api/v1/auth/password/reset",  # the reset token is the credential
    "/docs",
    "/redoc",
    "/docs/errors",  # the pages the fault gateway's `doc_url` points at
    "/docs/errors/{code}",
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _api_routes(app: Any) -> Iterator[tuple[str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute):
            yield context.path, context.route


def test_every_non_public_route_has_an_authorization_dependency() -> None:
    app = make_app()
    unguarded = []
    for path, route in _api_routes(app):
        guarded = any(isinstance(call, RequireRole) for call in _calls(route.dependant))
        if path in PUBLIC:
            assert not guarded, f"{path} is public but requires a role"
        elif not guarded:
            unguarded.append(f"{sorted(route.methods)} {path}")
    assert not unguarded, f"routes without RequireRole: {unguarded}"


def test_the_walk_sees_every_route() -> None:
    paths = {path for path, _ in _api_routes(make_app())}
    assert {"/api/v1/users", "/api/v1/audit", "/api/v1/jobs/{job_id}"} <= paths
