"""One delivery attempt over HTTP: the signed request, and what its answer means."""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from app.core.clock import isoformat, utcnow
from app.journal.models import DomainEvent
from app.webhooks import signing, ssrf

USER_AGENT = "ApexChainX-Webhooks/1.0"
EXCERPT = 500
MAX_RETRY_AFTER_SECONDS = 24 * 3600


def payload(event: DomainEvent) -> bytes:
    return orjson.dumps(
        {
            "id": event.id,
            "event": event.event_type,
            "timestamp": isoformat(event.occurred_at),
            "schema_version": event.schema_version,
            "correlation_id": event.correlation_id,
            "data": event.data,
        }
    )


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


async def send(
    target: ssrf.Target,
    message_id: str,
    body: bytes,
    secrets: list[str],
    *,
    wait_seconds: float,
    correlation_id: str | None,
) -> Answer:
    """POSTs to the checked address (Host header and TLS name stay the URL's host); redirects
    are never followed, so a 3xx is a failed attempt, not a hop to an unchecked address."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(message_id, timestamp, body, secrets),
    }
    if correlation_id:
        headers["x-correlation-id"] = correlation_id
    extensions: dict[str, Any] = {}
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host
    started = time.monotonic()
    try:
        response = await _client().post(
            target.connect_url,
            content=body,
            headers=headers,
            extensions=extensions,
            timeout=wait_seconds,
        )
    except httpx.TimeoutException:
        return Answer(None, f"no answer within {wait_seconds:g} s", None, _ms(started))
    except httpx.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:EXCERPT], None, _ms(started))
    return Answer(
        response.status_code,
        None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
        response.text[:EXCERPT] if response.content else None,
        _ms(started),
        retry_after_seconds(response.headers.get("retry-after"), utcnow()),
    )


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx.AsyncClient:
    """One client (connection pool, TLS context) per event loop: building a client per attempt
    cost more than the delivery itself."""
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(follow_redirects=False)
        _CLIENTS[loop] = client
    return client


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
