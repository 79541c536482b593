"""Access tokens: every forgery and misuse is refused with 401."""

import time
from typing import Any

import jwt
import pytest

from app.config import Settings
from tests.helpers import Api, assert_error


def _claims(session: Any, **overrides: Any) -> dict[str, Any]:
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    claims.update(overrides)
    return claims


async def _me(api: Api, token: str) -> Any:
    return await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_access_token_carries_the_documented_claims(api: Api) -> None:
    owner = await api.owner()
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    assert {"sub", "org", "role", "iss", "aud", "iat", "exp", "jti", "typ"} <= set(claims)
    assert claims["typ"] == "access" and claims["role"] == "owner"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert jwt.get_unverified_header(owner.access_token)["alg"] == "HS256"


async def test_alg_none_is_refused(api: Api) -> None:
    owner = await api.owner()
    import base64
    import json

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims(owner, role='owner'))}."
    assert_error(await _me(api, forged), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("key", "overrides"),
    [
        ("another-key-that-is-long-enough-0000000", {}),
        (None, {"exp": int(time.time()) - 10}),
        (None, {"aud": "someone-else"}),
        (None, {"iss": "someone-else"}),
        (None, {"typ": "refresh"}),
    ],
    ids=["other-key", "expired", "wrong-aud", "wrong-iss", "wrong-typ"],
)
async def test_tampered_tokens_are_refused(
    api: Api, key: str | None, overrides: dict[str, Any]
) -> None:
    owner = await api.owner()
    secret = key or Settings().secret_key
    forged = jwt.encode(_claims(owner, **overrides), secret, algorithm="HS256")
    assert_error(await _me(api, forged), 401, "UNAUTHORIZED")


async def test_a_token_signed_with_another_hmac_algorithm_is_refused(api: Api) -> None:
    owner = await api.owner()
    forged = jwt.encode(_claims(owner), Settings().secret_key, algorithm="HS512")
    assert_error(await _me(api, forged), 401, "UNAUTHORIZED")


async def test_refresh_token_is_not_an_access_token_and_the_reverse(api: Api) -> None:
    owner = await api.owner()
    assert_error(await _me(api, owner.refresh_token), 401, "UNAUTHORIZED")
    response = await api.post("/auth/refresh", json={"refresh_token": owner.access_token})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_missing_or_malformed_authorization_is_401(api: Api) -> None:
    assert_error(await api.client.get("/api/v1/auth/me"), 401, "UNAUTHORIZED")
    for header in ("Bearer", "Basic abc", "Bearer not.a.jwt", "Bearer " + "a" * 5000):
        response = await api.client.get("/api/v1/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header
