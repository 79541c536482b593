"""Organizations, users, refresh-token families and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("org"))
    name: Mapped[str] = mapped_column(String(255))
    # The plan sets the monthly incident quotas (QUOTA_PLANS).
    plan: Mapped[str] = mapped_column(String(32), default="standard", server_default="standard")


class User(TenantMixin, TimestampMixin, Base):
    """An account: a person in one organization. One email may hold accounts in several
    organizations (an admin may add someone who works for another operator too); within one
    organization it is unique."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        Index("ix_users_email", "email"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("usr"))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # GET/PUT /users/me/preferences (app/preferences); null until first saved.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class LoginThrottle(Base):
    """Failed sign-ins per subject: an email (whether or not an account has it: an unknown
    address is locked out exactly like a known one) or one account. The subject is an HMAC
    under the service's secret key (`app/auth/throttle.py`)."""

    __tablename__ = "login_throttles"

    subject_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # An email's row: the one account all its failures were at ("*" once they were at
    # several, or at none), so a success there may clear the email's count too.
    sole_subject_hash: Mapped[str | None] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class TokenFamily(TenantMixin, Base):
    """One login session: every refresh token rotated from it, and the access tokens they mint
    (claim `sid`). Revoking the family ends the whole session."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("tok"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    # Absolute end of the session: rotation never extends it.
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    # Where and when it was last used: its sign-in, then each refresh (GET /auth/sessions).
    user_agent: Mapped[str | None] = mapped_column(String(256))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None]


class RefreshToken(TenantMixin, Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("rtk"))
    family_id: Mapped[str] = mapped_column(
        ForeignKey("token_families.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiKey(TenantMixin, Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_key_hash", "key_hash", unique=True),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("key"))
    name: Mapped[str] = mapped_column(String(255))
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PasswordReset(TenantMixin, Base):
    """A one-time, short-lived token an owner or admin issued for a user: shown once (or
    mailed), stored as a hash."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("prt"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
