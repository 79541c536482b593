"""Prometheus instruments of one application instance (a registry of its own, so several
apps in one process, as in the test suite, do not collide)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Instruments:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "apexchainx_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "apexchainx_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.jobs = Gauge(
            "apexchainx_jobs", "Jobs by queue and status", ["queue", "status"], registry=r
        )
        self.job_age = Gauge(
            "apexchainx_jobs_oldest_queued_age_seconds",
            "Age of the oldest due queued job",
            ["queue"],
            registry=r,
        )
        self.payments = Gauge(
            "apexchainx_payments", "Payments by status and type", ["status", "type"], registry=r
        )
        self.webhook_deliveries = Gauge(
            "apexchainx_webhook_deliveries", "Webhook deliveries by status", ["status"], registry=r
        )
        self.webhook_failed_attempts = Gauge(
            "apexchainx_webhook_failed_attempts_last_hour",
            "Webhook delivery attempts that failed in the last hour",
            registry=r,
        )
        self.webhooks_disabled = Gauge(
            "apexchainx_webhooks_disabled", "Webhook subscriptions disabled", registry=r
        )
        self.rate_limiter_degraded = Gauge(
            "apexchainx_rate_limiter_degraded",
            "1 while Redis is unreachable (sign-in and payment limits per process, others open)",
            registry=r,
        )
        self.rate_limiter_failures = Gauge(
            "apexchainx_rate_limiter_redis_failures",
            "Redis calls of the rate limiter that failed since start",
            registry=r,
        )


def route_template(scope: Scope) -> str:
    """The matched route's template: its whole path, since every route sits in the app's own
    table (app/core/route_table.py)."""
    path = getattr(scope.get("route"), "path", None)
    return path or "unmatched"


class MetricsMiddleware:
    """Counts every request and times it, labelled by route template (not the raw path, so
    ids do not explode the label set)."""

    def __init__(self, app: ASGIApp, instruments: Instruments) -> None:
        self.app = app
        self.instruments = instruments
        # The labelled series by (method, template, status): prometheus_client checks the
        # labels and takes a lock on every `labels()`; the set of keys is bounded by the routes.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            elapsed = time.perf_counter() - started
            method, template = scope["method"], route_template(scope)
            key = (method, template, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    self.instruments.requests.labels(method, template, str(status)),
                    self.instruments.latency.labels(method, template),
                )
            series[0].inc()
            series[1].observe(elapsed)
