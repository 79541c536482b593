"""Signed delivery to real receivers on 127.0.0.1: ordering, retries, timeouts, 410."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as Verifier

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs.models import Job
from tests.helpers import Api, Session
from tests.payments.conftest import open_wallets, register_wallets, resolve
from tests.receivers import Receiver, Reply
from tests.webhooks.conftest import run_due, subscribe

LIFE = ["outage.created", "outage.resolved", "sla.calculated", "payment.completed"]


def _verified(secret: str, received: Any) -> dict[str, Any]:
    return dict(Verifier(secret).verify(received.body, received.headers))


async def test_an_outage_life_arrives_signed_and_in_order(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url + "/hooks", LIFE)
    assert hook["secret"].startswith("whsec_")
    await register_wallets(api, owner, await open_wallets(app))
    outage = await resolve(api, owner, mttr=5)
    await run_due(app)
    events = [_verified(hook["secret"], r) for r in receiver.received]
    assert [e["event"] for e in events] == LIFE
    assert {e["data"]["outage_id"] for e in events} == {outage["id"]}
    assert (
        events[-1]["data"]["status"] == "confirmed"
        and events[-1]["data"]["amount"] == "1500.0000000"
    )
    first = receiver.received[0]
    assert first.headers["webhook-id"] == events[0]["id"] and first.path == "/hooks"
    assert set(events[0]) == {
        "id",
        "event",
        "timestamp",
        "schema_version",
        "correlation_id",
        "data",
    }
    assert first.headers["x-correlation-id"] == events[0]["correlation_id"]
    log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()
    assert {d["status"] for d in log["results"]} == {"succeeded"} and len(log["results"]) == 4


async def test_a_failing_receiver_gets_the_same_message_until_it_succeeds(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    receiver.replies = [Reply(500), Reply(500)]
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    await run_due(app, retries_now=True)
    await run_due(app, retries_now=True)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 1
    assert _verified(hook["secret"], receiver.received[-1])["event"] == "outage.created"
    log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"]
    detail = (await api.get(f"/webhooks/{hook['id']}/deliveries/{log[0]['id']}", owner)).json()
    assert detail["status"] == "succeeded" and detail["attempts"] == 3
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 200]
    current = (await api.get(f"/webhooks/{hook['id']}", owner)).json()
    assert current["consecutive_failures"] == 0


async def test_a_hanging_receiver_is_timed_out_and_retried(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    receiver.replies = [Reply(200, delay=3)]  # the app waits 1 s
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"]
    assert log[0]["status"] == "pending" and "no answer within 1 s" in log[0]["last_error"]
    await run_due(app, retries_now=True)
    log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"]
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 2


async def test_retry_after_is_honoured(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    await subscribe(api, owner, receiver.url, ["outage.created"])
    receiver.replies = [Reply(503, headers={"Retry-After": "600"})]
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    async with system_session(app.state.database, "test inspection") as session:
        job = (
            await session.execute(select(Job).where(Job.kind == "webhooks.deliver"))
        ).scalar_one()
    assert job.status == "queued" and job.run_at > utcnow() + timedelta(seconds=590)


async def test_410_disables_the_subscription_and_says_why(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    receiver.always = Reply(410)
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    current = (await api.get(f"/webhooks/{hook['id']}", owner)).json()
    assert current["status"] == "disabled" and "410" in current["disabled_reason"]
    audit = (await api.get("/audit", owner, params={"event_type": "webhook.disabled"})).json()
    assert audit["total"] == 1
    await api.post("/outages", owner, json={"site_name": "B", "severity": "low"})
    await run_due(app, retries_now=True)
    assert len(receiver.received) == 1  # a disabled subscription gets nothing new
    enabled = await api.patch(f"/webhooks/{hook['id']}", owner, json={"status": "active"})
    assert enabled.json()["consecutive_failures"] == 0 and enabled.json()["disabled_reason"] is None


async def test_consecutive_failures_disable_the_subscription(
    api: Api, owner: Session, receiver: Receiver
) -> None:
    from tests.helpers import make_app, make_client

    app = make_app(webhook_allow_private_targets=True, webhook_max_consecutive_failures=3)
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        hook = await subscribe(api, owner, receiver.url, ["outage.created"])
        receiver.always = Reply(500)
        for name in ("A", "B"):
            await api.post("/outages", owner, json={"site_name": name, "severity": "low"})
        await run_due(app)
        await run_due(app, retries_now=True)
        current = (await api.get(f"/webhooks/{hook['id']}", owner)).json()
        assert current["status"] == "disabled"
        assert "3 delivery attempts failed in a row" in current["disabled_reason"]
        assert len(receiver.received) == 3


async def test_rotation_signs_with_both_secrets_and_redeliver_keeps_the_id(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    rotated = (await api.post(f"/webhooks/{hook['id']}/rotate-secret", owner)).json()
    assert rotated["secret"] != hook["secret"] and rotated["previous_secret_expires_at"]
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    message = receiver.received[0]
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    _verified(hook["secret"], message)
    _verified(rotated["secret"], message)
    delivery = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"][0]
    again = await api.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", owner)
    assert again.status_code == 202
    await run_due(app)
    assert [r.headers["webhook-id"] for r in receiver.received] == [
        message.headers["webhook-id"]
    ] * 2
    tested = await api.post(f"/webhooks/{hook['id']}/test", owner)
    assert tested.status_code == 202
    await run_due(app)
    assert json.loads(receiver.received[-1].body)["event"] == "webhook.test"


async def test_concurrent_redelivers_send_the_message_once_more(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    import asyncio

    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    await run_due(app)
    delivery = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"][0]
    path = f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver"
    answers = await asyncio.gather(*(api.post(path, owner) for _ in range(5)))
    assert {a.status_code for a in answers} == {202}
    await run_due(app)
    assert len(receiver.received) == 2  # the first delivery and exactly one redelivery
