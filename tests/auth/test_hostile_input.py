"""SQL metacharacters and oversized strings in every field: a 4xx, never a 500, nothing
changed."""

from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import PASSWORD, Api

NASTY = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '" UNION SELECT * FROM users --',
    "%00\x00null",
    "x" * 100_000,
    "🙂" * 3000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
async def test_auth_fields(api: Api, value: str) -> None:
    for path, body in (
        ("/auth/register", {"email": value, "password": PASSWORD}),
        ("/auth/register", {"email": "ok@example.com", "password": value}),
        (
            "/auth/register",
            {
                "email": "ok2@example.com",
                "password": PASSWORD,
                "full_name": value,
                "organization_name": value,
            },
        ),
        ("/auth/login", {"email": value, "password": value}),
        ("/auth/refresh", {"refresh_token": value}),
    ):
        response = await api.post(path, json=body)
        assert response.status_code < 500, (path, response.text[:200])


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
async def test_admin_fields_and_paths(api: Api, value: str) -> None:
    owner = await api.owner()
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("post", "/users", {"email": value, "password": PASSWORD}),
        ("post", "/users", {"email": "m@example.com", "password": PASSWORD, "role": value}),
        ("post", "/api-keys", {"name": value}),
        ("patch", f"/users/{quote(value[:500], safe='')}", {"full_name": value}),
        ("delete", f"/api-keys/{quote(value[:500], safe='')}", None),
        ("get", "/audit", None),
    ]
    for method, path, body in calls:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        if method == "get":
            kwargs = {"params": {"event_type": value[:2000], "correlation_id": value[:2000]}}
        response = await getattr(api, method)(path, owner, **kwargs)
        assert response.status_code < 500, (method, path, response.text[:200])
    users = (await api.get("/users", owner)).json()
    assert users["total"] <= 2
    assert (await api.get("/audit/verify", owner)).json()["valid"] is True
