"""The NOC frontend's compatibility surface: one test per shape of ../shared/frontend-contract.md
group (b), each sending what that frontend sends and reading what it reads."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.core.clock import isoformat, utcnow
from tests.compat.conftest import Noc
from tests.helpers import PASSWORD, Api, Session, make_app, make_client
from tests.outages.conftest import outage_lasting
from tests.payments.conftest import open_wallets, register_wallets
from tests.receivers import Receiver
from tests.webhooks.conftest import run_due


async def _resolved(noc: Noc, api: Api, session: Session, minutes: int) -> dict[str, Any]:
    outage, body = await outage_lasting(api, session, minutes)
    response = await noc.post(f"/outages/{outage['id']}/resolve", session, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_mounted_only_when_enabled(api: Api) -> None:
    owner = await api.owner()
    plain = make_app()
    async with plain.router.lifespan_context(plain), make_client(plain) as http:
        response = await http.get("/compat/noc/v1/auth/me", headers=owner.headers)
    assert response.status_code == 404
    assert "/compat" not in str((await api.client.get("/openapi.json")).json()["paths"])


async def test_b1_login_and_refresh_set_cookies_the_frontend_reads(noc: Noc, api: Api) -> None:
    user = await api.register()
    login = await noc.post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    cookies = login.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith("noc_access_token="))
    assert "Path=/" in access and "SameSite=lax" in access and "HttpOnly" not in access
    assert any(c.startswith("noc_refresh_token=") for c in cookies)
    assert login.cookies["noc_access_token"] == login.json()["access_token"]

    # The frontend refreshes with the token it read from its cookie.
    refreshed = await noc.post(
        "/auth/refresh", json={"refresh_token": login.cookies["noc_refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.cookies["noc_access_token"] == refreshed.json()["access_token"]
    assert refreshed.json()["refresh_token"] != login.json()["refresh_token"]  # rotated
    headers = {"Authorization": f"Bearer {refreshed.cookies['noc_access_token']}"}
    assert (await noc.client.get("/compat/noc/v1/auth/me", headers=headers)).status_code == 200

    # With no body the cookie is used, from this site only.
    noc.client.cookies.clear()
    cookie = f"noc_refresh_token={refreshed.cookies['noc_refresh_token']}"
    other_site = await noc.post(
        "/auth/refresh",
        headers={"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": "https://x.example"},
    )
    assert other_site.status_code == 403 and other_site.json()["message"]
    same_site = await noc.post(
        "/auth/refresh", headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}
    )
    assert same_site.status_code == 200, same_site.text


async def test_b2_an_owner_is_reported_as_admin(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    assert (await noc.get("/auth/me", owner)).json()["role"] == "admin"
    assert (await noc.get("/auth/me", engineer)).json()["role"] == "engineer"
    assert (await api.get("/auth/me", owner)).json()["role"] == "owner"  # /api/v1 unchanged


async def test_b3_b4_lists_page_by_page_with_day_ranges(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    for i in range(5):
        await api.post("/outages", owner, json={"site_name": f"Site {i}", "severity": "low"})
    first = (await noc.get("/outages", owner, params={"page": 1, "page_size": 2})).json()
    assert set(first) == {"items", "total", "page", "page_size"}
    assert (first["total"], first["page"], first["page_size"]) == (5, 1, 2)
    third = (await noc.get("/outages", owner, params={"page": 3, "page_size": 2})).json()
    assert len(third["items"]) == 1
    seen = {o["id"] for o in first["items"]} | {o["id"] for o in third["items"]}
    assert len(seen) == 3
    today = datetime.now(UTC).date()
    in_range = {"date_from": str(today), "date_to": str(today), "search": "Site"}
    assert (await noc.get("/outages", owner, params=in_range)).json()["total"] == 5
    before = {"date_from": str(today - timedelta(days=9)), "date_to": str(today - timedelta(1))}
    assert (await noc.get("/outages", owner, params=before)).json()["total"] == 0
    payments = (await noc.get("/payments", owner, params={"page": 1, "page_size": 10})).json()
    assert payments == {"items": [], "total": 0, "page": 1, "page_size": 10}


async def test_b5_b6_an_outage_as_the_frontend_creates_and_reads_it(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    body = {
        "id": "made-up-by-the-browser",
        "status": "open",
        "site_name": "Tower 9",
        "severity": "critical",
        "affected_services": ["4G"],
    }
    created = await noc.post("/outages", owner, json=body)
    assert created.status_code == 201, created.text
    outage = created.json()
    assert outage["id"].startswith("out_") and outage["status"] == "open"
    assert outage["affected_services"] == ["4G"]
    assert set(outage["sla_status"]) == {"status", "rating", "amount"}
    refused = await noc.post("/outages", owner, json={**body, "status": "resolved"})
    assert refused.status_code == 422


async def test_b5_b7_resolve_answers_outage_sla_and_payment(app: Any, noc: Noc, api: Api) -> None:
    owner = await api.owner()
    await register_wallets(api, owner, await open_wallets(app))
    penalty = await _resolved(noc, api, owner, 25)  # critical: 15 min, 100/min over
    assert set(penalty) == {"outage", "sla", "payment"}
    assert penalty["outage"]["status"] == "resolved"
    assert penalty["outage"]["sla_status"]["amount"] == -1000.0
    assert penalty["sla"]["status"] == "violated" and penalty["payment"]["type"] == "penalty"
    reward = await _resolved(noc, api, owner, 5)
    assert reward["outage"]["sla_status"] == {
        "status": "met",
        "rating": reward["sla"]["rating"],
        "amount": 1500.0,
    }
    listed = (await noc.get("/outages", owner, params={"status": "resolved"})).json()
    assert {o["sla_status"]["amount"] for o in listed["items"]} == {-1000.0, 1500.0}


async def test_b8_preview_amount_is_signed(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    body = {"severity": "critical", "mttr_minutes": 25}
    assert (await noc.post("/sla/preview", owner, json=body)).json()["amount"] == -1000.0
    assert (await api.post("/sla/preview", owner, json=body)).json()["amount"] == 1000.0


async def test_b9_disputes_by_outage_and_by_action(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    resolver = await api.member(owner, "engineer")
    filer = await api.member(owner, "engineer")
    first = await _resolved(noc, api, resolver, 25)
    second = await _resolved(noc, api, resolver, 30)
    filed = []
    for done in (first, second):
        body = {"outage_id": done["outage"]["id"], "reason": "The clock started early"}
        response = await noc.post("/sla/disputes", filer, json=body)
        assert response.status_code == 201, response.text
        assert response.json()["sla_result_id"] == done["sla"]["id"]
        filed.append(response.json()["id"])
    rejected = await noc.patch(
        f"/sla/disputes/{filed[0]}",
        owner,
        json={"action": "reject", "resolution_note": "Logs agree with the clock"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["resolution_note"] == "Logs agree with the clock"
    # Accepting needs a corrected MTTR the frontend never collects: a clear 422, no change.
    accepted = await noc.patch(f"/sla/disputes/{filed[1]}", owner, json={"action": "resolve"})
    assert accepted.status_code == 422 and accepted.json()["message"]
    one = await noc.get("/sla/disputes", owner, params={"outage_id": first["outage"]["id"]})
    assert [d["id"] for d in one.json()["items"]] == [filed[0]]
    assert one.json()["items"][0]["resolution_note"] == "Logs agree with the clock"


async def test_b10_dashboard_and_trends_by_their_names(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    # The dashboard counts outages by the day they were detected: just after midnight (UTC)
    # the longer one was detected yesterday, so the span starts on its day.
    first_detected = str((datetime.now(UTC) - timedelta(minutes=26)).date())
    await _resolved(noc, api, owner, 25)
    await _resolved(noc, api, owner, 5)
    today = str(datetime.now(UTC).date())
    span = {"date_from": first_detected, "date_to": today}
    board = (await noc.get("/sla/analytics/dashboard", owner, params=span)).json()
    assert {k: board[k] for k in ("total_outages", "total_violations")} == {
        "total_outages": 2,
        "total_violations": 1,
    }
    assert (board["total_penalties"], board["total_rewards"], board["net_payout"]) == (
        1000.0,
        1500.0,
        500.0,
    )
    week = {"date_from": str(datetime.now(UTC).date() - timedelta(days=6)), "date_to": today}
    trend = (await noc.get("/sla/analytics/trends", owner, params=week)).json()
    assert len(trend) == 7 and set(trend[0]) == {
        "date",
        "total_outages",
        "violations",
        "rewards",
        "penalties",
    }
    assert (trend[-1]["total_outages"], trend[-1]["violations"], trend[-1]["penalties"]) == (
        2,
        1,
        1000.0,
    )
    critical = {**span, "severity": "low"}
    assert (await noc.get("/sla/analytics/dashboard", owner, params=critical)).json()[
        "total_outages"
    ] == 0


async def test_b11_a10_bulk_upload_of_the_frontends_template(noc: Noc, api: Api) -> None:
    engineer = await api.member(await api.owner(), "engineer")
    start = utcnow().replace(microsecond=0) - timedelta(hours=5)
    rows = [
        ["service_id", "start_time", "end_time"],
        ["svc-core-1", isoformat(start), isoformat(start + timedelta(minutes=40))],
        ["svc-edge-2", isoformat(start), ""],
        ["svc-edge-3", "yesterday-ish", ""],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    upload = {"file": ("outages.csv", text.getvalue().encode(), "text/csv")}
    response = await noc.post("/outages/bulk", engineer, files=upload)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["skipped"]) == (2, 1)
    assert body["errors"] == [
        {"row": 4, "field": "detected_at", "message": body["errors"][0]["message"]}
    ]
    history = (await noc.get("/outages/bulk/history", engineer)).json()
    assert isinstance(history, list) and len(history) == 1
    assert set(history[0]) == {
        "id",
        "filename",
        "imported",
        "skipped",
        "error_count",
        "errors",
        "created_at",
    }
    assert (history[0]["filename"], history[0]["imported"], history[0]["error_count"]) == (
        "outages.csv",
        2,
        1,
    )
    closed = (await noc.get("/outages", engineer, params={"status": "resolved"})).json()
    (past,) = closed["items"]
    assert (past["site_id"], past["mttr_minutes"], past["severity"]) == ("svc-core-1", 40, "medium")


async def test_b12_webhooks_as_arrays_with_the_frontends_event_names(
    app: Any, noc: Noc, api: Api, receiver: Receiver
) -> None:
    owner = await api.owner()
    events = ["payment.processed", "sla.breached", "outage.resolved"]
    body = {"url": receiver.url, "events": events}
    created = await noc.post("/webhooks", owner, json=body)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["name"] == "127.0.0.1" and hook["active"] is True and hook["secret"]
    assert hook["events"] == events
    ours = (await api.get(f"/webhooks/{hook['id']}", owner)).json()
    assert ours["events"] == ["payment.completed", "sla.violated", "outage.resolved"]
    listed = (await noc.get("/webhooks", owner)).json()
    assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]

    await register_wallets(api, owner, await open_wallets(app))
    await _resolved(noc, api, owner, 5)  # outage.resolved, then the reward's payment.completed
    await run_due(app)
    deliveries = (await noc.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()
    assert {d["event"] for d in deliveries} == {"outage.resolved", "payment.processed"}
    assert {d["status"] for d in deliveries} == {"success"}
    assert {d["response_code"] for d in deliveries} == {200}
    again = await noc.post(f"/webhooks/{hook['id']}/deliveries/{deliveries[0]['id']}/retry", owner)
    assert again.status_code == 200, again.text
    paused = await noc.patch(f"/webhooks/{hook['id']}", owner, json={"active": False})
    assert paused.json()["active"] is False
    assert (await api.get(f"/webhooks/{hook['id']}", owner)).json()["status"] == "disabled"


async def test_b13_config_is_a_map_of_severities(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    config = (await noc.get("/sla/config", owner)).json()
    assert set(config) == {"critical", "high", "medium", "low"}
    assert config["critical"]["threshold_minutes"] == 15 and config["critical"]["version"] >= 1


async def test_b14_errors_carry_a_top_level_message(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    viewer = await api.member(owner, "viewer")
    forbidden = await noc.post("/outages", viewer, json={"site_name": "X", "severity": "low"})
    assert forbidden.status_code == 403
    assert forbidden.json()["message"] == forbidden.json()["detail"]
    assert forbidden.json()["code"] == "FORBIDDEN"
    invalid = await noc.post("/outages", owner, json={"site_name": "X", "severity": "dire"})
    assert invalid.status_code == 422 and invalid.json()["details"]["errors"]
    missing = await noc.get("/outages/out_01JC0000000000000000000000", owner)
    assert missing.status_code == 404 and missing.json()["message"]
    anonymous = await noc.client.get("/compat/noc/v1/outages")
    assert anonymous.status_code == 401 and anonymous.json()["message"]


async def test_b15_wallets_by_the_frontends_paths(app: Any, noc: Noc, api: Api) -> None:
    owner = await api.owner()
    wallets = await open_wallets(app)
    address = wallets.ops_team.public_key
    linked = await noc.post(
        "/wallets/link", owner, json={"user_id": "ops_team", "public_key": address}
    )
    assert linked.status_code == 201, linked.text
    status = (await noc.get("/wallets/ops_team/status", owner)).json()
    assert status["address"] == address and status["funded"] is True
    balance = (await noc.get(f"/wallets/{address}/balance", owner)).json()
    assert balance["address"] == address and float(balance["xlm_balance"]) > 0
    funded = await noc.get("/wallets/friendbot", owner, params={"address": address})
    assert funded.status_code == 200, funded.text
    unknown = await noc.get("/wallets/friendbot", owner, params={"address": "G" + "A" * 55})
    assert unknown.status_code == 404


async def test_a3_a4_preferences_and_events_by_their_names(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    assert (await noc.get("/user/preferences", owner)).json() == {}
    prefs = {"tableDensity": "compact", "onboardingTourDone": True}
    saved = await noc.put("/user/preferences", owner, json=prefs)
    assert saved.status_code == 200, saved.text
    assert saved.json() == prefs == (await noc.get("/user/preferences", owner)).json()
    assert (await api.get("/users/me/preferences", owner)).json()["ui"] == prefs


async def test_viewers_cannot_write_through_the_surface(noc: Noc, api: Api) -> None:
    owner = await api.owner()
    viewer = await api.member(owner, "viewer")
    outage, body = await outage_lasting(api, owner, 10)
    writes: list[httpx.Response] = [
        await noc.post(f"/outages/{outage['id']}/resolve", viewer, json=body),
        await noc.post("/sla/disputes", viewer, json={"outage_id": outage["id"], "reason": "no"}),
        await noc.post("/webhooks", viewer, json={"url": "https://x.example", "events": ["a"]}),
        await noc.patch("/sla/disputes/dsp_x", viewer, json={"action": "reject"}),
        await noc.post("/wallets/link", viewer, json={"user_id": "u", "address": "G"}),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert (await api.get(f"/outages/{outage['id']}", owner)).json()["status"] == "open"


async def test_input_the_adapters_build_is_refused_as_422_and_writes_nothing(
    noc: Noc, api: Api
) -> None:
    owner = await api.owner()
    bad_url = await noc.post("/webhooks", owner, json={"url": "not a url", "events": ["x"]})
    assert bad_url.status_code == 422 and bad_url.json()["details"]["errors"], bad_url.text
    bad_key = await noc.post("/wallets/link", owner, json={"user_id": "ops_team", "address": "G1"})
    assert bad_key.status_code == 422 and bad_key.json()["message"], bad_key.text
    assert (await api.get("/webhooks", owner)).json()["total"] == 0
    assert (await api.get("/wallets/ops_team", owner)).status_code == 404
