"""Requests at the edges: per-IP limits, forwarded addresses, idempotency keys, calendar dates.

Each test failed before its fix."""

import uuid

from tests.helpers import (
    Api,
    assert_error,
    make_app,
    make_client,
    start_of_a_fresh_window,
)


async def test_random_api_keys_do_not_escape_the_per_ip_limit() -> None:
    app = make_app(rate_limit_unauthenticated_per_minute=5)
    async with app.router.lifespan_context(app), make_client(app) as http:
        statuses = [
            (
                await http.get("/api/v1/users", headers={"X-API-Key": f"acx_{uuid.uuid4()}"})
            ).status_code
            for _ in range(7)
        ]
    assert statuses == [401] * 5 + [429] * 2


async def test_forwarded_for_uses_the_proxy_appended_address() -> None:
    app = make_app(trusted_proxies=["127.0.0.0/8"])  # the test clients' own addresses
    async with app.router.lifespan_context(app), make_client(app) as http:
        bad = {"email": "nobody@example.com", "password": "Wrong-pass-1!"}
        start_of_a_fresh_window()
        statuses = [
            (
                await http.post(
                    "/api/v1/auth/login",
                    json=bad,
                    headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.9"},
                )
            ).status_code
            for i in range(11)
        ]
    assert statuses[-1] == 429


async def test_idempotency_keys_never_replay_to_another_user(api: Api) -> None:
    owner = await api.owner()
    other_admin = await api.member(owner, "admin")
    body = {"name": "fleet"}
    first = await api.post("/api-keys", owner, json=body, headers={"Idempotency-Key": "same"})
    second = await api.post(
        "/api-keys", other_admin, json=body, headers={"Idempotency-Key": "same"}
    )
    assert first.status_code == 201
    assert_error(second, 422, "VALIDATION_ERROR")
    assert first.json()["key"] not in second.text


async def test_dates_at_the_edge_of_the_calendar_are_422(api: Api) -> None:
    owner = await api.owner()
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = await api.get("/audit", owner, params={"start": value})
        assert_error(response, 422, "VALIDATION_ERROR")
