"""The edges of issue 24 (points 5 to 8), each played as the attacker played it: a proxy's
second `X-Forwarded-For` line, an API key presented as Bearer, database connections dropped
under API-key traffic, caches keeping sign-in answers, a stranger exhausting the anonymous
payment bucket, and one NUL character in a fault batch."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL
from tests.faults.test_faults import SEED
from tests.helpers import PASSWORD, Api, assert_error, make_app, make_client, unique_email

FAULT = {**SEED, "resource_id": "dev_1", "resource_ancestry_path": "region_1|site_1|dev_1"}


async def test_a_forged_first_forwarded_for_line_does_not_escape_the_sign_in_limit() -> None:
    """HAProxy appends a line of its own rather than extending the client's: the client's
    forged line comes first, the proxy's (the real address) last."""
    app = make_app(trusted_proxies=["127.0.0.0/8"], auth_ip_max_attempts=10)
    async with app.router.lifespan_context(app), make_client(app, ip="127.0.0.2") as proxy:
        statuses = []
        for n in range(25):
            headers = [
                ("X-Forwarded-For", f"198.51.100.{n}"),  # what the client wrote
                ("X-Forwarded-For", "192.0.2.7"),  # what the proxy saw
            ]
            body = {"email": f"forged-{n}@example.com", "password": "Wrong-pass-123!"}
            response = await proxy.post("/api/v1/auth/login", json=body, headers=headers)
            statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429] * 15


async def test_an_api_key_presented_as_bearer_gets_the_keys_own_limits(api: Api) -> None:
    owner = await api.owner()
    key = (await api.post("/api-keys", owner, json={"name": "probe", "role": "engineer"})).json()
    for headers in ({"X-API-Key": key["key"]}, {"Authorization": f"Bearer {key['key']}"}):
        response = await api.post("/faults", json=FAULT, headers=headers)
        assert response.status_code in {200, 201}, response.text
        assert response.headers["x-ratelimit-limit"] == "100"  # not the address's 20
    # Both count in the one bucket of the key: 100 - 2.
    assert response.headers["x-ratelimit-remaining"] == "98"


async def _drop_every_connection() -> None:
    admin = create_async_engine(TEST_DATABASE_URL)
    async with admin.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()


async def test_requests_by_api_key_answer_503_not_500_when_connections_drop(api: Api) -> None:
    owner = await api.owner()
    key = (await api.post("/api-keys", owner, json={"name": "probe", "role": "engineer"})).json()
    batch = {"faults": [FAULT]}
    for headers in ({"X-API-Key": key["key"]}, {"Authorization": f"Bearer {key['key']}"}):
        statuses = []
        for _ in range(3):
            await _drop_every_connection()
            # Each dead connection in the pool costs one request a 503; then it is replaced.
            for _ in range(12):
                response = await api.post("/faults/batch", json=batch, headers=headers)
                statuses.append(response.status_code)
                if response.status_code != 503:
                    break
                assert response.headers["retry-after"]
            assert statuses[-1] == 200, statuses
        assert 503 in statuses and set(statuses) <= {200, 503}, statuses


async def test_sign_in_answers_and_refusals_are_never_cached(api: Api) -> None:
    email = unique_email()
    registered = await api.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201
    owner = await api.login(email)
    answers = [
        registered,
        await api.get("/auth/me", owner),
        await api.get("/auth/me"),  # 401
        await api.post("/auth/login", json={"email": email, "password": "Wrong-pass-123!"}),
        await api.get("/outages", owner),
    ]
    assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * len(answers)


async def test_a_stranger_cannot_turn_everyones_401_on_payments_into_429() -> None:
    app = make_app(rate_limit_payments_per_minute=2, rate_limit_unauthenticated_per_minute=50)
    async with app.router.lifespan_context(app):
        async with make_client(app) as stranger:
            for _ in range(5):
                await stranger.post("/api/v1/payments/process-sla", json={})
        async with make_client(app) as someone_else:
            response = await someone_else.post("/api/v1/payments/process-sla", json={})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_a_nul_character_refuses_its_fault_alone(api: Api) -> None:
    owner = await api.owner()
    poisoned = {**FAULT, "resource_id": "dev_2", "resource_ancestry_path": "r|s|dev\x00_2"}
    response = await api.post("/faults/batch", owner, json={"faults": [FAULT, poisoned]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "refused"]
    assert "NUL" in body["results"][1]["errors"][0]["msg"]
