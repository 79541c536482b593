"""Subscriptions: validation, secrets at rest, tenancy, and the SSRF guard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.tenancy import system_session
from app.webhooks.models import Webhook
from tests.helpers import Api, Session, assert_error, make_app, make_client
from tests.receivers import Receiver, Reply, Served
from tests.webhooks.conftest import run_due, subscribe


async def test_the_secret_is_shown_once_and_encrypted_at_rest(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url)
    fetched = (await api.get(f"/webhooks/{hook['id']}", owner)).json()
    assert "secret" not in fetched
    listed = (await api.get("/webhooks", owner)).json()
    assert hook["secret"] not in json_text(listed)
    async with system_session(app.state.database, "test inspection") as session:
        row = (await session.execute(select(Webhook))).scalar_one()
        assert hook["secret"].encode() not in row.secret_encrypted
    own = "whsec_" + "A" * 44
    chosen = await subscribe(api, owner, receiver.url, secret=own)
    assert chosen["secret"] == own


def json_text(value: Any) -> str:
    import json

    return json.dumps(value)


async def test_bad_input_is_refused(app: Any, api: Api, owner: Session, receiver: Receiver) -> None:
    cases = [
        {"name": "x", "url": receiver.url, "events": ["outage.exploded"]},
        {"name": "x", "url": receiver.url, "events": []},
        {"name": "x", "url": receiver.url, "events": ["*"] * 51},
        {"name": "x" * 256, "url": receiver.url, "events": ["*"]},
        {"name": "x", "url": receiver.url + "/" + "a" * 2048, "events": ["*"]},
        {"name": "x", "url": "ftp://example.com/", "events": ["*"]},
        {"name": "x", "url": "http://user:pw@127.0.0.1/", "events": ["*"]},
        {"name": "x", "url": receiver.url, "events": ["*"], "secret": "not-a-secret"},
        {"name": "x", "url": "http://[::1", "events": ["*"]},
        {"name": "x", "url": "http://]/", "events": ["*"]},
        {"name": "x", "url": "http://\u2100.com/", "events": ["*"]},
        {"name": "x", "url": "http://127.0.0.1:99999/", "events": ["*"]},
        # Found by schemathesis: a second `#` makes it no absolute URI (issue 25).
        {"name": "x", "url": "https://0F28:64999#gi#%0B&(7F=", "events": ["*"]},
    ]
    for body in cases:
        assert_error(await api.post("/webhooks", owner, json=body), 422, "VALIDATION_ERROR")
    engineer = await api.member(owner, "engineer")
    body = {"name": "x", "url": receiver.url, "events": ["*"]}
    assert_error(await api.post("/webhooks", engineer, json=body), 403, "FORBIDDEN")
    assert (await api.get("/webhooks", owner)).json()["results"] == []


async def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_at_delivery(
    app: Any, api: Api, owner: Session
) -> None:
    """Names are resolved at every delivery (they may point elsewhere by then); one without
    an address is not refused at subscription, where the fuzzer and DNS outages meet it."""
    body = {"name": "x", "url": "http://no-such-host.invalid/", "events": ["*"]}
    assert (await api.post("/webhooks", owner, json=body)).status_code == 201


async def test_another_organizations_webhooks_are_404(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    hook = await subscribe(api, owner, receiver.url)
    stranger = await api.owner()
    base = f"/webhooks/{hook['id']}"
    assert_error(await api.get(base, stranger), 404, "NOT_FOUND")
    assert_error(await api.patch(base, stranger, json={"name": "mine"}), 404, "NOT_FOUND")
    assert_error(await api.delete(base, stranger), 404, "NOT_FOUND")
    assert_error(await api.post(base + "/test", stranger), 404, "NOT_FOUND")
    assert_error(await api.post(base + "/rotate-secret", stranger), 404, "NOT_FOUND")
    assert_error(await api.get(base + "/deliveries", stranger), 404, "NOT_FOUND")
    # Another organization's events never reach this subscription.
    await api.post("/outages", stranger, json={"site_name": "Theirs", "severity": "low"})
    await run_due(app)
    assert receiver.received == []
    assert (await api.delete(base, owner)).status_code == 204


async def test_private_targets_are_refused_at_registration() -> None:
    app = make_app()  # the default: WEBHOOK_ALLOW_PRIVATE_TARGETS=false
    async with make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://127.0.0.1:8080/hook",
            "http://100.64.0.1/hook",
            "http://localhost/hook",  # a name that resolves to a private address
            "http://[::1]/hook",
            "http://0.0.0.0/hook",
        ):
            body = {"name": "x", "url": url, "events": ["*"]}
            refused = assert_error(
                await api.post("/webhooks", owner, json=body), 422, "VALIDATION_ERROR"
            )
            assert refused["details"]["errors"][0]["loc"] == ["body", "url"]
    await app.state.database.dispose()


async def test_delivery_checks_the_target_again_and_never_follows_redirects(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    inner = Receiver()
    with inner:
        receiver.always = Reply(302, headers={"Location": inner.url + "/secret"})
        hook = await subscribe(api, owner, receiver.url, ["outage.created"])
        await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
        await run_due(app)
        assert len(receiver.received) == 1 and inner.received == []
        log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"]
        assert log[0]["last_status_code"] == 302 and log[0]["status"] == "pending"

    # Registered while private targets were allowed; delivered by an instance that refuses them.
    strict = make_app()
    try:
        await run_due(strict, retries_now=True)
    finally:
        await strict.state.database.dispose()
    log = (await api.get(f"/webhooks/{hook['id']}/deliveries", owner)).json()["results"]
    assert "target refused" in log[0]["last_error"] and len(receiver.received) == 1


_ = Served  # re-exported for other suites


async def test_secret_key_rotation_keeps_webhook_secrets_readable(
    app: Any, api: Api, owner: Session, receiver: Receiver
) -> None:
    from standardwebhooks.webhooks import Webhook as Verifier

    hook = await subscribe(api, owner, receiver.url, ["outage.created"])
    await api.post("/outages", owner, json={"site_name": "A", "severity": "low"})
    rotated = make_app(
        webhook_allow_private_targets=True,
        secret_key="a-brand-new-secret-key-of-enough-length-0123",
        previous_secret_keys=[app.state.settings.secret_key],
    )
    try:
        await run_due(rotated)
    finally:
        await rotated.state.database.dispose()
    message = receiver.received[0]
    assert (
        Verifier(hook["secret"]).verify(message.body, message.headers)["event"] == "outage.created"
    )
