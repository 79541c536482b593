"""Sign-in when other organizations hold accounts with the same email (issue 24.1 and 24.2).

An attacker can add anyone's email as a user of their own organization, with a password they
choose. These tests play that attacker: the copy must neither reset the victim's lockout
(by signing in to it, or by resetting its password) nor push the victim's own account out of
sign-in, and every attempt costs the same one password check.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.identity import passwords
from tests.helpers import PASSWORD, Api, Session, assert_error, make_client

COPY_PASSWORD = "Attackers-Copy-7!"
WRONG = "Wrong-Guess-123!"


async def _attempt(app: Any, body: dict[str, Any]) -> int:
    """One sign-in from an address of its own: per-address limits stay out of the way."""
    async with make_client(app) as http:
        response = await Api(http).post("/auth/login", json=body)
    return response.status_code


async def _copy_of(api: Api, attacker: Session, email: str) -> str:
    body = {"email": email, "password": COPY_PASSWORD, "role": "admin"}
    added = await api.post("/users", attacker, json=body)
    assert added.status_code == 201, added.text
    return str(added.json()["id"])


async def test_signing_in_to_a_copy_does_not_reset_the_victims_lockout(app: Any, api: Api) -> None:
    victim, attacker = await api.owner(), await api.owner()
    await _copy_of(api, attacker, victim.email)
    copy = {
        "email": victim.email,
        "password": COPY_PASSWORD,
        "organization_id": attacker.organization_id,
    }
    guesses = []
    for _ in range(6):  # 4 guesses, then a success on the copy, as in the report: 24 guesses
        for _ in range(4):
            guesses.append(await _attempt(app, {"email": victim.email, "password": WRONG}))
        await _attempt(app, copy)
    assert guesses.count(401) == 5  # the fifth guess locked the victim's account
    assert set(guesses[5:]) == {429}
    right = await _attempt(app, {"email": victim.email, "password": PASSWORD})
    assert right == 429  # locked for its 15 minutes, whatever the copy does


async def test_resetting_a_copys_password_does_not_reset_the_victims_lockout(
    app: Any, api: Api
) -> None:
    victim, attacker = await api.owner(), await api.owner()
    copy_id = await _copy_of(api, attacker, victim.email)
    guesses = []
    for round_ in range(4):
        for _ in range(4):
            guesses.append(await _attempt(app, {"email": victim.email, "password": WRONG}))
        token = (await api.post(f"/users/{copy_id}/password-reset", attacker)).json()["token"]
        new_password = f"Reset-Copy-{round_}-Pass!"
        reset = await api.post(
            "/auth/password/reset", json={"token": token, "new_password": new_password}
        )
        assert reset.status_code == 200, reset.text
    assert guesses.count(401) == 5 and set(guesses[5:]) == {429}


async def test_guesses_spread_over_a_persons_accounts_add_up(app: Any, api: Api) -> None:
    """One person, accounts in two organizations with one password: guessing four times at
    each is eight guesses at one password, and the email stops them at five."""
    first, second = await api.owner(), await api.owner()
    person = await api.member(first, "engineer")
    added = await api.post(
        "/users", second, json={"email": person.email, "password": PASSWORD, "role": "engineer"}
    )
    assert added.status_code == 201
    statuses = []
    for organization in (first, second):
        for _ in range(4):
            body = {
                "email": person.email,
                "password": WRONG,
                "organization_id": organization.organization_id,
            }
            statuses.append(await _attempt(app, body))
    assert statuses == [401] * 5 + [429] * 3


async def test_a_success_clears_the_email_only_when_the_failures_were_its_own(
    app: Any, api: Api
) -> None:
    person = await api.owner()
    for _ in range(4):
        await _attempt(app, {"email": person.email, "password": WRONG})
    assert await _attempt(app, {"email": person.email, "password": PASSWORD}) == 200
    # The four were the person's own typos, forgiven by their success: four more are fine.
    statuses = [await _attempt(app, {"email": person.email, "password": WRONG}) for _ in range(4)]
    assert statuses == [401] * 4
    assert await _attempt(app, {"email": person.email, "password": PASSWORD}) == 200


async def test_copies_in_other_organizations_cannot_push_the_victim_out(
    app: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = await api.owner()
    for _ in range(6):  # more copies than the old five-account cap, each signed in to
        async with make_client(app) as http:  # each attacker from an address of their own
            attacker = await Api(http).owner()
        await _copy_of(api, attacker, victim.email)
        body = {
            "email": victim.email,
            "password": COPY_PASSWORD,
            "organization_id": attacker.organization_id,
        }
        assert await _attempt(app, body) == 200
    checks = _count_password_checks(monkeypatch)
    async with make_client(app) as http:
        own = await Api(http).post(
            "/auth/login", json={"email": victim.email, "password": PASSWORD}
        )
    assert own.status_code == 200, own.text
    assert own.json()["user"]["organization_id"] == victim.organization_id
    assert checks == [1]
    # A wrong guess costs the same one check, for this email as for one nobody holds.
    for email in (victim.email, "nobody-at-all@example.com"):
        checks.clear()
        checks.append(0)
        assert await _attempt(app, {"email": email, "password": WRONG}) == 401
        assert checks == [1]
    # Without naming the organization, the copy's password opens nothing.
    wrong_account = await _attempt(app, {"email": victim.email, "password": COPY_PASSWORD})
    assert wrong_account == 401


def _count_password_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many password hashes one request verifies: what its response time reveals."""
    counted = [0]
    real = passwords.verify_password

    async def counting(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        counted[0] += 1
        return await real(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return counted


async def test_a_lock_of_the_email_is_told_to_each_organization_holding_it(
    api: Api, app: Any
) -> None:
    victim, attacker = await api.owner(), await api.owner()
    await _copy_of(api, attacker, victim.email)
    for _ in range(5):
        await _attempt(app, {"email": victim.email, "password": WRONG})
    body = {"email": victim.email, "password": PASSWORD}
    async with make_client(app) as http:
        assert_error(await Api(http).post("/auth/login", json=body), 429, "RATE_LIMIT_EXCEEDED")
    for organization in (victim, attacker):  # sessions already signed in keep working
        events = await api.get("/audit", organization, params={"event_type": "auth.account_locked"})
        assert events.json()["total"] == 1
