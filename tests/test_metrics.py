"""Prometheus metrics: request rate and latency by route template, and business gauges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.helpers import Api, assert_error, make_app, make_client
from tests.payments.conftest import open_wallets, register_wallets, resolve


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    """An application of its own (not the worker's): the request counters are the process's,
    counted from its start."""
    application = make_app()
    async with application.router.lifespan_context(application):
        yield application


async def test_requests_jobs_and_payments_are_exposed(app: Any, api: Api) -> None:
    owner = await api.owner()
    await register_wallets(api, owner, await open_wallets(app))
    outage = await resolve(api, owner, mttr=5)  # a payout job is queued
    await api.get(f"/outages/{outage['id']}", owner)
    await api.get("/outages/out_00000000000000000000000000", owner)
    text = (await api.client.get("/metrics")).text
    route = 'route="/api/v1/outages/{outage_id}"'
    assert f'apexchainx_http_requests_total{{method="GET",{route},status="200"}} 1.0' in text
    assert 'route="/api/v1/outages/{outage_id}",status="404"} 1.0' in text
    assert 'apexchainx_http_request_duration_seconds_bucket{le="0.005",method="POST"' in text
    assert 'apexchainx_jobs{queue="payouts",status="queued"} 1.0' in text
    assert 'apexchainx_jobs_oldest_queued_age_seconds{queue="payouts"}' in text
    assert 'apexchainx_payments{status="pending",type="reward"} 1.0' in text
    await app.state.executor.drain()
    text = (await api.client.get("/metrics")).text
    assert 'apexchainx_payments{status="confirmed",type="reward"} 1.0' in text
    assert "apexchainx_webhook_failed_attempts_last_hour 0.0" in text


async def test_a_metrics_token_protects_the_endpoint() -> None:
    app = make_app(metrics_token="scrape-secret-123")
    async with make_client(app) as http:
        assert_error(await http.get("/metrics"), 401, "UNAUTHORIZED")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401, "UNAUTHORIZED")
        ok = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert ok.status_code == 200 and "apexchainx_jobs" in ok.text
    await app.state.database.dispose()
