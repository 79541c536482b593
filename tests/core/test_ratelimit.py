"""Rate limits: numbers, headers, 429, and counters shared through Redis."""

from typing import Any

import pytest
from redis.asyncio import Redis

from app.core.ratelimit import MemoryRateLimiter, RedisRateLimiter
from tests.conftest import TEST_REDIS_URL
from tests.helpers import Api, assert_error, make_app, make_client, start_of_a_fresh_window

# The general limits count per clock minute: a burst that straddles a minute's edge counts in
# two windows, so a burst test starts where it fits in one. Redis gets a timeout a loaded test
# machine cannot miss (a timed-out call fails open and would not be counted): these tests are
# about counting; test_hardening.py covers the timeout.
MINUTE = 60
COUNTING = {"redis_timeout_seconds": 5.0}


async def _limiters() -> list[Any]:
    return [MemoryRateLimiter(), RedisRateLimiter(Redis.from_url(TEST_REDIS_URL), "t")]


async def test_both_limiters_allow_the_limit_then_refuse() -> None:
    start_of_a_fresh_window(MINUTE, needed=5)
    for limiter in await _limiters():
        decisions = [await limiter.hit("k", 3, 60) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[-1].retry_after >= 1


async def test_every_response_carries_the_headers(api: Api) -> None:
    owner = await api.owner()
    response = await api.get("/auth/me", owner)
    assert response.headers["x-ratelimit-limit"] == "100"
    assert int(response.headers["x-ratelimit-remaining"]) == 99
    assert int(response.headers["x-ratelimit-reset"]) > 1_700_000_000
    anonymous = await api.get("/no-such-route")
    assert anonymous.headers["x-ratelimit-limit"] == "20"


async def test_a_burst_over_the_limit_gets_429_with_retry_after() -> None:
    app = make_app(rate_limit_authenticated_per_minute=5, **COUNTING)
    start_of_a_fresh_window(MINUTE, needed=5)
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        statuses = [(await api.get("/auth/me", owner)).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        response = await api.get("/auth/me", owner)
        assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["x-ratelimit-remaining"] == "0"


async def test_unauthenticated_callers_are_limited_per_ip() -> None:
    app = make_app(rate_limit_unauthenticated_per_minute=3, **COUNTING)
    start_of_a_fresh_window(MINUTE, needed=5)
    async with app.router.lifespan_context(app), make_client(app) as http:
        statuses = [(await http.get("/api/v1/nowhere")).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


async def test_health_is_never_limited() -> None:
    app = make_app(rate_limit_unauthenticated_per_minute=1)
    async with app.router.lifespan_context(app), make_client(app) as http:
        statuses = {(await http.get("/health/live")).status_code for _ in range(5)}
    assert statuses == {200}


async def test_counters_are_shared_by_instances_through_redis() -> None:
    first = make_app(rate_limit_unauthenticated_per_minute=4, **COUNTING)
    second = make_app(rate_limit_unauthenticated_per_minute=4, **COUNTING)
    start_of_a_fresh_window(MINUTE, needed=5)
    async with make_client(first, ip="10.9.8.7") as a, make_client(second, ip="10.9.8.7") as b:
        results = []
        for http in (a, b, a, b, a):
            results.append((await http.get("/api/v1/nowhere")).status_code)
    assert results == [404, 404, 404, 404, 429]


@pytest.mark.parametrize("redis_url", [None])
async def test_without_redis_counters_live_in_memory(redis_url: Any) -> None:
    app = make_app(redis_url=redis_url, rate_limit_unauthenticated_per_minute=2)
    assert isinstance(app.state.rate_limiter, MemoryRateLimiter)
    start_of_a_fresh_window(MINUTE, needed=5)
    async with make_client(app) as http:
        statuses = [(await http.get("/api/v1/nowhere")).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
