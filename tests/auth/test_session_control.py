"""Session control (issue 26 A.2): a person lists their sessions (device, address, last
seen), ends one, or all; a signed-in page hears it on GET /auth/events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import PASSWORD, PREFIX, Api, Session, assert_error
from tests.live import live_server

pytestmark = pytest.mark.live


async def _login(api: Api, email: str, agent: str) -> Session:
    response = await api.client.post(
        f"{PREFIX}/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Session(email, body["access_token"], body["refresh_token"], body["user"])


async def test_sessions_are_listed_with_device_address_and_last_seen(api: Api) -> None:
    user = await api.register()
    laptop = await _login(api, user["email"], "Firefox on a laptop")
    phone = await _login(api, user["email"], "Safari on a phone")
    listed = await api.get("/auth/sessions", laptop)
    assert listed.status_code == 200, listed.text
    sessions = listed.json()["sessions"]
    assert {s["device"] for s in sessions} == {"Firefox on a laptop", "Safari on a phone"}
    assert [s["current"] for s in sessions if s["device"] == "Firefox on a laptop"] == [True]
    assert all(s["address"].startswith("127.") and s["last_seen_at"] for s in sessions)

    phone_id = next(s["id"] for s in sessions if not s["current"])
    ended = await api.delete(f"/auth/sessions/{phone_id}", laptop)
    assert ended.status_code == 200, ended.text
    assert_error(await api.get("/auth/me", phone), 401, "UNAUTHORIZED")
    assert (await api.get("/auth/me", laptop)).status_code == 200
    assert_error(await api.delete(f"/auth/sessions/{phone_id}", laptop), 404, "NOT_FOUND")
    assert [s["current"] for s in (await api.get("/auth/sessions", laptop)).json()["sessions"]] == [
        True
    ]


async def test_another_persons_session_cannot_be_ended(api: Api) -> None:
    mine = await api.owner()
    theirs = await api.owner()
    their_id = (await api.get("/auth/sessions", theirs)).json()["sessions"][0]["id"]
    assert_error(await api.delete(f"/auth/sessions/{their_id}", mine), 404, "NOT_FOUND")
    assert (await api.get("/auth/me", theirs)).status_code == 200


async def test_logout_all_ends_every_session_of_the_caller_only(api: Api) -> None:
    user = await api.register()
    first = await _login(api, user["email"], "one")
    second = await _login(api, user["email"], "two")
    stranger = await api.owner()
    out = await api.post("/auth/logout-all", first)
    assert out.status_code == 200 and out.json()["message"] == "Logged out of 2 sessions."
    for ended in (first, second):
        assert_error(await api.get("/auth/me", ended), 401, "UNAUTHORIZED")
    refreshed = await api.client.post(
        f"{PREFIX}/auth/refresh", json={"refresh_token": second.refresh_token}
    )
    assert refreshed.status_code == 401
    assert (await api.get("/auth/me", stranger)).status_code == 200


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with live_server({"RATE_LIMIT_ENABLED": "false"}) as base:
        yield base


def _events(base: str, token: str, seen: list[tuple[str, dict[str, object]]]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", f"{base}{PREFIX}/auth/events", headers=headers, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                seen.append((name, json.loads(line[6:])))
                if name == "session_revoked":
                    return


def test_an_open_page_hears_that_its_session_was_ended_elsewhere(server: str) -> None:
    api = f"{server}{PREFIX}"
    email = f"events-{time.time_ns()}@example.com"
    assert httpx.post(
        f"{api}/auth/register", json={"email": email, "password": PASSWORD}
    ).is_success

    def login() -> str:
        answer = httpx.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
        return str(answer.json()["access_token"])

    page, other = login(), login()
    seen: list[tuple[str, dict[str, object]]] = []
    listener = threading.Thread(target=_events, args=(server, page, seen))
    listener.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen and seen[0][0] == "ready"
    out = httpx.post(f"{api}/auth/logout-all", headers={"Authorization": f"Bearer {other}"})
    assert out.status_code == 200, out.text
    listener.join(timeout=15)
    assert not listener.is_alive()
    assert seen[-1] == ("session_revoked", {"reason": "logout_all"})
