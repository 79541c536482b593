"""Idempotency keys (`Idempotency-Key` or `X-Idempotency-Key`) on every authenticated POST.

- the first request with a key reserves it (committed at once, visible to every instance);
- the same key and the same request within the TTL replays the stored response, with
  `Idempotent-Replayed: true`;
- the same key with a different body (or route) is 422; while the first is in flight, 409.

The guard runs inside the authorization dependency, so it knows the organization (keys are
scoped per organization). The middleware stores the finished response. Stored bodies are
encrypted (Fernet, key derived from SECRET_KEY) since some responses carry once-shown secrets.
A 5xx answer releases the key so the client can retry.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from fastapi import Request
from sqlalchemy import Index, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.core.clock import utcnow
from app.core.crypto import fernet
from app.core.ids import new_id
from app.db import Base, Database
from app.errors import AppError, Conflict, ValidationFailed

HEADERS = ("idempotency-key", "x-idempotency-key")
REPLAYED_HEADER = "Idempotent-Replayed"
STATE_KEY = "idempotency_record_id"
_KEY_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,255}$")
_KEPT_HEADERS = ("content-type", "location")


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        Index("ix_idempotency_keys_scope_key", "scope", "key", unique=True),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("idm"))
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="in_flight")
    response_status: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    locked_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IdempotentReplay(AppError):
    """Not an error: raised to short-circuit the route with the stored response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__("replay")
        self.status_code = status
        self.replay_headers = headers
        self.body = body


def _fernet(settings: Settings) -> MultiFernet:
    return fernet(settings, "idempotency")


def request_key(request: Request) -> str | None:
    for name in HEADERS:
        value = request.headers.get(name)
        if value is not None:
            if not _KEY_RE.match(value):
                raise ValidationFailed(
                    "Idempotency key must be 1..255 characters of letters, digits and ._:-",
                    details={
                        "errors": [
                            {"loc": ["header", name], "msg": "invalid key", "type": "value_error"}
                        ]
                    },
                )
            return value
    return None


async def guard(request: Request, organization_id: str, principal_id: str) -> None:
    """Reserve the key, or replay / refuse. Called for POST requests after authentication."""
    if request.method != "POST":
        return
    key = request_key(request)
    if key is None:
        return
    body = await request.body()
    # The caller is part of the request: another user of the organization reusing the key
    # gets 422, never the first caller's response (which may hold a once-shown secret).
    fingerprint = hashlib.sha256(
        f"{principal_id} {request.method} {request.url.path}\n".encode() + body
    ).hexdigest()
    database: Database = request.app.state.database
    settings: Settings = request.app.state.settings
    now = utcnow()
    async with database.sessionmaker() as session:
        existing = (
            await session.execute(
                select(IdempotencyKey).where(
                    IdempotencyKey.scope == organization_id, IdempotencyKey.key == key
                )
            )
        ).scalar_one_or_none()
        stale_lock = now - timedelta(seconds=settings.idempotency_in_flight_timeout_seconds)
        if existing is not None and (
            existing.expires_at <= now
            or (existing.status == "in_flight" and existing.locked_at <= stale_lock)
        ):
            await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
            existing = None
        if existing is None:
            record = IdempotencyKey(
                scope=organization_id,
                key=key,
                request_hash=fingerprint,
                created_at=now,
                locked_at=now,
                expires_at=now + timedelta(hours=settings.idempotency_ttl_hours),
            )
            session.add(record)
            try:
                await session.commit()
            except IntegrityError:
                raise Conflict("A request with this idempotency key is in progress.") from None
            request.state.idempotency_record_id = record.id
            return
    _answer_existing(existing, fingerprint, settings)


def _answer_existing(existing: IdempotencyKey, fingerprint: str, settings: Settings) -> None:
    if existing.request_hash != fingerprint:
        raise ValidationFailed(
            "This idempotency key was used with a different request.",
            details={
                "errors": [
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "key reused with a different body",
                        "type": "idempotency_mismatch",
                    }
                ]
            },
        )
    if existing.status == "withheld":
        raise Conflict(
            "This request already completed. Its response held a secret that is shown once "
            "and never stored, so it cannot be replayed."
        )
    if existing.status != "completed" or existing.response_body is None:
        raise Conflict("A request with this idempotency key is in progress.")
    try:
        body = _fernet(settings).decrypt(existing.response_body)
    except InvalidToken:
        # Stored under a previous SECRET_KEY: it cannot be replayed, and running the request
        # again could do it twice. The client must use a new key.
        raise Conflict("This idempotency key cannot be replayed any more; use a new key.") from None
    raise IdempotentReplay(
        existing.response_status or 200, dict(existing.response_headers or {}), body
    )


class IdempotencyMiddleware:
    """Stores the response of a request whose key the guard reserved."""

    def __init__(self, app: ASGIApp, database_getter: Any, settings: Settings) -> None:
        self.app = app
        self.database_getter = database_getter
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        captured: dict[str, Any] = {"status": 500, "headers": {}, "body": bytearray()}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {
                    k.decode().lower(): v.decode() for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                captured["body"].extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            record_id = scope.get("state", {}).get(STATE_KEY)
            if record_id is not None:
                await self._finish(record_id, captured)

    async def _finish(self, record_id: str, captured: dict[str, Any]) -> None:
        database: Database = self.database_getter()
        async with database.sessionmaker() as session:
            if captured["status"] >= 500 or captured["status"] == 429:
                await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
            elif _holds_secret(captured):
                # The request ran; its once-shown secret is never written anywhere.
                await session.execute(
                    update(IdempotencyKey)
                    .where(IdempotencyKey.id == record_id)
                    .values(status="withheld", response_status=captured["status"])
                )
            else:
                headers = {k: v for k, v in captured["headers"].items() if k in _KEPT_HEADERS}
                await session.execute(
                    update(IdempotencyKey)
                    .where(IdempotencyKey.id == record_id)
                    .values(
                        status="completed",
                        response_status=captured["status"],
                        response_headers=headers,
                        response_body=_fernet(self.settings).encrypt(bytes(captured["body"])),
                    )
                )
            await session.commit()


def _holds_secret(captured: dict[str, Any]) -> bool:
    """Responses that carry a secret shown once (a wallet's seed) say so with `no-store`."""
    return bool(
        captured["status"] < 300 and "no-store" in captured["headers"].get("cache-control", "")
    )


async def purge_expired(database: Database) -> int:
    async with database.sessionmaker() as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow())
        )
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def replay_response_parts(exc: IdempotentReplay) -> tuple[int, dict[str, str], bytes]:
    headers = {**exc.replay_headers, REPLAYED_HEADER: "true"}
    return exc.status_code, headers, exc.body
