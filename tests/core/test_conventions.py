"""The error envelope, correlation ids and validation on every kind of failure."""

from typing import Any

from app.core.routing import APIRouter
from tests.helpers import assert_error, make_app, make_client


async def test_unknown_route_is_404_in_the_envelope(client: Any) -> None:
    error = assert_error(await client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
    assert error["timestamp"].endswith("Z")


async def test_wrong_method_is_405_in_the_envelope(client: Any) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


async def test_validation_error_lists_each_problem_without_echoing_input(client: Any) -> None:
    secret = "a" * 40
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": secret}
    )
    error = assert_error(response, 422, "VALIDATION_ERROR")
    locs = [tuple(item["loc"]) for item in error["details"]["errors"]]
    assert ("body", "email") in locs and ("body", "password") in locs
    for item in error["details"]["errors"]:
        assert set(item) == {"loc", "msg", "type"}
    assert secret not in response.text


async def test_malformed_json_is_422(client: Any) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_correlation_id_is_echoed_when_sane(client: Any) -> None:
    response = await client.get("/health", headers={"X-Correlation-ID": "req-123.abc"})
    assert response.headers["x-correlation-id"] == "req-123.abc"


async def test_correlation_id_is_generated_when_absent_or_insane(client: Any) -> None:
    generated = await client.get("/health")
    assert len(generated.headers["x-correlation-id"]) == 36
    for bad in ("x" * 129, "has spaces", "<script>"):
        response = await client.get("/health", headers={"X-Correlation-ID": bad})
        assert response.headers["x-correlation-id"] != bad


async def test_error_body_carries_the_callers_correlation_id(client: Any) -> None:
    response = await client.get("/api/v1/nowhere", headers={"X-Correlation-ID": "trace-42"})
    assert response.json()["error"]["correlation_id"] == "trace-42"


async def test_an_unexpected_exception_is_a_500_envelope_without_details() -> None:
    app = make_app()
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(router)
    async with make_client(app) as http:
        response = await http.get("/boom", headers={"X-Correlation-ID": "boom-1"})
    error = assert_error(response, 500, "INTERNAL_SERVER_ERROR")
    assert "secret internals" not in response.text
    assert error["correlation_id"] == "boom-1"


async def test_times_without_offset_are_refused(api: Any) -> None:
    owner = await api.owner()
    response = await api.get("/audit", owner, params={"start": "2026-01-16T09:30:00"})
    assert_error(response, 422, "VALIDATION_ERROR")
    ok = await api.get("/audit", owner, params={"start": "2026-01-16T09:30:00+01:00"})
    assert ok.status_code == 200
