from typing import Any

import pytest

from tests.helpers import assert_error, make_app, make_client

DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
async def test_health_routes_at_root_and_under_the_prefix(client: Any, prefix: str) -> None:
    assert (await client.get(f"{prefix}/health")).json() == {"status": "ok"}
    assert (await client.get(f"{prefix}/health/live")).status_code == 200
    ready = await client.get(f"{prefix}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_database_down_is_503_from_ready_and_from_data_routes() -> None:
    app = make_app(database_url=DEAD_DATABASE)
    async with make_client(app) as http:
        ready = await http.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")
        login = await http.post(
            "/api/v1/auth/login", json={"email": "a@example.com", "password": "Whatever-123!"}
        )
        assert_error(login, 503, "SERVICE_UNAVAILABLE")
        assert "retry-after" in login.headers


async def test_redis_down_is_503_from_ready_naming_redis() -> None:
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    async with make_client(app) as http:
        ready = await http.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["redis"].startswith("unavailable")


async def test_swagger_ui_and_redoc_load_their_assets_from_the_app(client: Any) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assert "/static/" in html
        assert "cdn.jsdelivr" not in html and "fonts.googleapis" not in html
    for asset in (
        "/static/swagger/swagger-ui-bundle.js",
        "/static/swagger/swagger-ui.css",
        "/static/redoc/redoc.standalone.js",
    ):
        response = await client.get(asset)
        assert response.status_code == 200 and len(response.content) > 10_000


async def test_openapi_lists_the_routes_and_the_bearer_scheme(client: Any) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
