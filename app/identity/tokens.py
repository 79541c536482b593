"""Access tokens (JWT) and opaque secrets (refresh tokens, API keys).

Pure functions: no database, no clock other than the one passed in.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from app.config import Settings

ACCESS = "access"
REFRESH_PREFIX = "rt_"
API_KEY_PREFIX = "acx_"
RESET_PREFIX = "pwr_"


# Where the rate limiter leaves the claims it decoded, so authorization does not decode twice.
ACCESS_CLAIMS_STATE = "access_claims"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    token: str
    user_id: str
    organization_id: str
    role: str
    session_id: str
    expires_at: int


def issue_access_token(
    settings: Settings,
    *,
    user_id: str,
    organization_id: str,
    role: str,
    session_id: str,
    now: datetime,
) -> tuple[str, int]:
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    claims: dict[str, Any] = {
        "sub": user_id,
        "org": organization_id,
        "role": role,
        "sid": session_id,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": ACCESS,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """None for anything that is not a valid, unexpired access token of this service: another
    algorithm (`none` included), another key, issuer or audience, or another token type."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != settings.jwt_algorithm:
            return None
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if claims.get("typ") != ACCESS:
        return None
    fields = (claims.get("sub"), claims.get("org"), claims.get("role"), claims.get("sid"))
    if not all(isinstance(value, str) for value in fields):
        return None
    return AccessClaims(
        token=token,
        user_id=claims["sub"],
        organization_id=claims["org"],
        role=claims["role"],
        session_id=claims["sid"],
        expires_at=int(claims["exp"]),
    )


def new_secret(kind: Literal["refresh", "api_key", "reset"]) -> str:
    prefix = {"refresh": REFRESH_PREFIX, "api_key": API_KEY_PREFIX, "reset": RESET_PREFIX}[kind]
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Secrets are 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()
