"""Idempotency keys (`Idempotency-Key` or `X-Idempotency-Key`) on every authenticated POST.

The key lives in the request's own transaction:

- the guard (inside the authorization dependency, which knows the organization: keys are
  scoped per organization) takes a transaction-scoped lock on the key. Taken by another
  request: 409, that one is in flight. Free: the stored answer, if any, is replayed
  (`Idempotent-Replayed: true`), or refused with 422 when the key came with another request;
- otherwise the request runs, and its unit of work (`app.core.routing`) inserts the stored
  response in the same transaction as the request's effects, before the response is sent.
  The lock is released by that commit, so a retry sent the instant the answer arrives finds
  the record and replays it. A failure leaves neither effects nor record: the retry runs once.

Stored bodies are encrypted (Fernet, key derived from SECRET_KEY). A response that carries a
secret shown once (a new API key, a wallet's seed, a webhook secret) is stored without it: the
replay answers with the secret fields set to null and `Idempotent-Secret-Withheld: true`, and
never runs the request again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from cryptography.fernet import InvalidToken, MultiFernet
from fastapi import Request
from sqlalchemy import Index, LargeBinary, String, delete, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column
from starlette.responses import Response

from app.config import Settings
from app.core.clock import utcnow
from app.core.crypto import fernet
from app.core.db import Base, Database, dialect_of, settings_of
from app.core.errors import AppError, Conflict, ValidationFailed
from app.core.ids import new_id
from app.core.tenancy import system_session

HEADERS = ("idempotency-key", "x-idempotency-key")
REPLAYED_HEADER = "Idempotent-Replayed"
WITHHELD_HEADER = "Idempotent-Secret-Withheld"
STATE_KEY = "idempotency_reservation"
KEY_PATTERN = r"^[A-Za-z0-9._:\-]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)
_KEPT_HEADERS = ("content-type", "location")
COMPLETED = "completed"
WITHHELD = "withheld"


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
    status: Mapped[str] = mapped_column(String(16), default=COMPLETED)
    response_status: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IdempotentReplay(AppError):
    """Not an error: raised to short-circuit the route with the stored response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__("replay")
        self.status_code = status
        self.replay_headers = headers
        self.body = body

    def to_response(self) -> Response:
        headers = {**self.replay_headers, REPLAYED_HEADER: "true"}
        return Response(self.body, status_code=self.status_code, headers=headers)


@dataclass(frozen=True, slots=True)
class Reservation:
    scope: str
    key: str
    fingerprint: str


def _fernet(settings: Settings) -> MultiFernet:
    return fernet(settings, "idempotency")


def request_key(request: Request) -> str | None:
    """The request's key. Both headers are checked when both are sent; `Idempotency-Key`
    is then the one used."""
    given = {name: request.headers[name] for name in HEADERS if name in request.headers}
    for name, value in given.items():
        if not _KEY_RE.match(value):
            raise _key_refused(
                name, "Idempotency key must be 1..255 characters of letters, digits and ._:-"
            )
    return next(iter(given.values()), None)


def _key_refused(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        message,
        details={"errors": [{"loc": ["header", name], "msg": message, "type": "value_error"}]},
    )


# --- the key's lock: held by the request's transaction ------------------------------------

# SQLite serves one process: a set of keys held by open transactions stands in for
# PostgreSQL's transaction-scoped advisory locks.
_LOCAL_HELD: set[tuple[int, str, str]] = set()
_LOCAL_KEY = "idempotency_local_locks"


def _lock_id(reservation: Reservation) -> int:
    digest = hashlib.sha256(f"idempotency:{reservation.scope}:{reservation.key}".encode())
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


async def _try_lock(session: AsyncSession, reservation: Reservation) -> bool:
    if dialect_of(session) == "postgresql":
        taken = await session.execute(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _lock_id(reservation)}
        )
        return bool(taken.scalar_one())
    token = (id(session.info.get("database")), reservation.scope, reservation.key)
    if token in _LOCAL_HELD:
        return False
    _LOCAL_HELD.add(token)
    session.info.setdefault(_LOCAL_KEY, set()).add(token)
    return True


@event.listens_for(Session, "after_transaction_end")
def _release_local_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for token in session.info.pop(_LOCAL_KEY, ()):
            _LOCAL_HELD.discard(token)


# --- the guard ----------------------------------------------------------------------------


async def guard(
    request: Request, session: AsyncSession, organization_id: str, principal_id: str
) -> None:
    """Takes the key for this request, or replays / refuses. Called for POST requests after
    authentication, in the request's transaction."""
    if request.method != "POST":
        return
    key = request_key(request)
    if key is None:
        return
    body = await request.body()
    # The caller is part of the request: another user of the organization reusing the key
    # gets 422, never the first caller's response.
    fingerprint = hashlib.sha256(
        f"{principal_id} {request.method} {request.url.path}\n".encode() + body
    ).hexdigest()
    reservation = Reservation(organization_id, key, fingerprint)
    if not await _try_lock(session, reservation):
        raise Conflict("A request with this idempotency key is in progress.")
    existing = await _stored(session, reservation)
    if existing is not None and existing.expires_at <= utcnow():
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
        existing = None
    if existing is not None:
        _answer_existing(existing, fingerprint, settings_of(session))
    request.state.idempotency_reservation = reservation


async def _stored(session: AsyncSession, reservation: Reservation) -> IdempotencyKey | None:
    return (
        await session.execute(
            select(IdempotencyKey).where(
                IdempotencyKey.scope == reservation.scope, IdempotencyKey.key == reservation.key
            )
        )
    ).scalar_one_or_none()


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
    try:
        body = _fernet(settings).decrypt(existing.response_body or b"")
    except InvalidToken:
        # Stored under a previous SECRET_KEY: it cannot be replayed, and running the request
        # again could do it twice. The client must use a new key.
        raise Conflict("This idempotency key cannot be replayed any more; use a new key.") from None
    headers = dict(existing.response_headers or {})
    if existing.status == WITHHELD:
        headers[WITHHELD_HEADER] = "true"
    raise IdempotentReplay(existing.response_status or 200, headers, body)


# --- storing the answer, in the request's transaction --------------------------------------


def reservation_of(request: Request) -> Reservation | None:
    reservation: Reservation | None = getattr(request.state, STATE_KEY, None)
    return reservation


def replayable_failure(status: int) -> bool:
    """A refusal is an answer too (replayed like a success); 429 and 5xx are not: the retry
    must run."""
    return status < 500 and status != 429


async def relock(session: AsyncSession, reservation: Reservation) -> bool:
    """After a rollback released the key: take it again to store the refusal, unless a retry
    took it meanwhile (then its answer stands)."""
    return await _try_lock(session, reservation) and await _stored(session, reservation) is None


def _withhold(body: bytes, fields: tuple[str, ...]) -> bytes:
    document = orjson.loads(body)
    if isinstance(document, dict):
        for field in fields:
            if field in document:
                document[field] = None
    return orjson.dumps(document)


def store(
    session: AsyncSession,
    reservation: Reservation,
    response: Response,
    secret_fields: tuple[str, ...],
) -> None:
    body = bytes(getattr(response, "body", b"") or b"")
    withheld = bool(secret_fields) and response.status_code < 300
    if withheld:
        body = _withhold(body, secret_fields)
    now = utcnow()
    settings = settings_of(session)
    session.add(
        IdempotencyKey(
            scope=reservation.scope,
            key=reservation.key,
            request_hash=reservation.fingerprint,
            status=WITHHELD if withheld else COMPLETED,
            response_status=response.status_code,
            response_headers={k: v for k, v in response.headers.items() if k in _KEPT_HEADERS},
            response_body=_fernet(settings).encrypt(body),
            created_at=now,
            expires_at=now + timedelta(hours=settings.idempotency_ttl_hours),
        )
    )


async def purge_expired(database: Database) -> int:
    async with system_session(database, "purge expired idempotency keys") as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow())
        )
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
