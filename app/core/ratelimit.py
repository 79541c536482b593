"""Fixed-window rate limits: in Redis when `REDIS_URL` is set (shared by every instance), in
process memory otherwise. When Redis does not answer, each limit fails as it was chosen to:
sign-in attempts and payment operations are counted in process memory (closed), the general
per-principal limits let requests through uncounted (open).

A fixed window (the current minute, or the current 5-minute block for auth attempts) is what
`X-RateLimit-Reset` can state exactly; its burst at a window edge is at most twice the limit,
which these limits tolerate.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.core.breaker import CircuitBreaker
from app.core.client import client_ip
from app.core.errors import error_response

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # unix seconds when the window ends
    # The shared counter could not be reached and this limit fails open: nothing was counted,
    # so no `X-RateLimit-Remaining` is claimed.
    uncounted: bool = False

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Reset": str(self.reset_at)}
        if self.uncounted:
            headers["X-RateLimit-Status"] = "unavailable"
        else:
            headers["X-RateLimit-Remaining"] = str(self.remaining)
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter(Protocol):
    async def hit(
        self, key: str, limit: int, window_seconds: int, *, fail_closed: bool = False
    ) -> RateDecision:
        """`fail_closed`: when the shared store is away, count in this process instead of
        letting the request through uncounted."""
        ...

    async def reset(self, key: str, window_seconds: int) -> None: ...

    @property
    def degraded(self) -> bool: ...


def _window(window_seconds: int) -> tuple[int, int]:
    now = int(time.time())
    start = now - now % window_seconds
    return start, start + window_seconds


def _decide(count: int, limit: int, reset_at: int) -> RateDecision:
    return RateDecision(count <= limit, limit, max(0, limit - count), reset_at)


class MemoryRateLimiter:
    """For one process (the embedded default). Old windows are dropped as new ones start."""

    degraded = False

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    async def hit(
        self, key: str, limit: int, window_seconds: int, *, fail_closed: bool = False
    ) -> RateDecision:
        start, reset_at = _window(window_seconds)
        async with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start}
            count = self._counts.get((key, start), 0) + 1
            self._counts[(key, start)] = count
        return _decide(count, limit, reset_at)

    async def reset(self, key: str, window_seconds: int) -> None:
        start, _ = _window(window_seconds)
        async with self._lock:
            self._counts.pop((key, start), None)


class RedisRateLimiter:
    """INCR on a key per window; the key expires with its window. Shared by every instance.

    Redis is behind a short timeout and a circuit breaker: a Redis that does not answer costs
    one timeout per call until a few have failed, and nothing at all while the breaker is
    open. Meanwhile each limit does what its caller chose: `fail_closed` limits (sign-in
    attempts, payment operations) count in this process, the others let requests through
    uncounted (and say so in their headers)."""

    def __init__(self, redis: Redis, prefix: str, breaker: CircuitBreaker | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.breaker = breaker or CircuitBreaker()
        self.fallback = MemoryRateLimiter()

    @property
    def degraded(self) -> bool:
        return self.breaker.is_open

    async def hit(
        self, key: str, limit: int, window_seconds: int, *, fail_closed: bool = False
    ) -> RateDecision:
        start, reset_at = _window(window_seconds)
        if self.breaker.allow():
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.incr(f"{self.prefix}:{key}:{start}")
                    pipe.expire(f"{self.prefix}:{key}:{start}", window_seconds + 1)
                    count, _ = await pipe.execute()
            except (RedisError, OSError) as exc:
                self.breaker.failed()
                log.warning("rate_limiter_unavailable", error=type(exc).__name__)
            else:
                self.breaker.succeeded()
                return _decide(int(count), limit, reset_at)
        if fail_closed:
            return await self.fallback.hit(key, limit, window_seconds)
        return RateDecision(True, limit, limit, reset_at, uncounted=True)

    async def reset(self, key: str, window_seconds: int) -> None:
        start, _ = _window(window_seconds)
        await self.fallback.reset(key, window_seconds)
        if not self.breaker.allow():
            return
        try:
            await self.redis.delete(f"{self.prefix}:{key}:{start}")
            self.breaker.succeeded()
        except (RedisError, OSError) as exc:
            self.breaker.failed()
            log.warning("rate_limiter_unavailable", error=type(exc).__name__)


class RateLimitMiddleware:
    """Per-principal limits with `X-RateLimit-*` headers on every response and `Retry-After`
    on 429. The principal is read from the credentials without touching the database
    (`identify`); a request with no valid credentials counts against its IP."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter_getter: Callable[[], RateLimiter],
        settings: Settings,
        identify: Callable[[Scope], Awaitable[str | None]],
    ) -> None:
        self.app = app
        self.limiter_getter = limiter_getter
        self.settings = settings
        self.identify = identify
        prefix = settings.api_v1_prefix
        self.exempt = (
            "/health",
            f"{prefix}/health",
            "/docs",
            "/redoc",
            "/openapi.json",
            "/static",
            "/metrics",
            "/favicon.ico",
        )
        self.payment_paths = (f"{prefix}/payments", f"{prefix}/sla/execute-payment")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.settings.rate_limit_enabled
            or scope["path"].startswith(self.exempt)
        ):
            await self.app(scope, receive, send)
            return
        principal = await self.identify(scope)
        limiter = self.limiter_getter()
        if principal is not None:
            decision = await limiter.hit(
                principal, self.settings.rate_limit_authenticated_per_minute, 60
            )
        else:
            ip = client_ip(scope, self.settings.trusted_proxies)
            decision = await limiter.hit(
                f"ip:{ip}", self.settings.rate_limit_unauthenticated_per_minute, 60
            )
        # Money moves only for a caller with credentials: one without them gets its 401 from
        # the route, counted in its address's bucket above. (A shared anonymous payment
        # bucket let one stranger turn everyone's 401 into 429.)
        if (
            decision.allowed
            and principal is not None
            and scope["method"] == "POST"
            and scope["path"].startswith(self.payment_paths)
        ):
            payments = await limiter.hit(
                f"pay:{principal}",
                self.settings.rate_limit_payments_per_minute,
                60,
                fail_closed=True,
            )
            decision = payments if not payments.allowed else decision
        if not decision.allowed:
            response = error_response(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Too many requests.",
                {"limit": decision.limit, "retry_after_seconds": decision.retry_after},
                headers=decision.headers(),
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in decision.headers().items():
                    mutable.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
