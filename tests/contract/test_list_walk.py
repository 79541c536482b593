"""Every paginated list of `/openapi.json`, walked by cursor and by offset.

The lists are found in the document (a GET whose 200 answer has a `next_cursor`), never
written down here: a list added later is walked too, and fails until the scenario below gives
it items. Each item must be seen exactly once; by cursor, while rows are being inserted
between pages. Unknown query parameters are refused on every list, naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import isoformat, utcnow
from tests.helpers import PREFIX, Api, Session, make_app
from tests.payments.conftest import open_wallets, register_wallets
from tests.receivers import Receiver

# A word in every outage's description: `/outages/search` needs a `q`.
SEARCH_WORD = "walkabout"
# Values of the query parameters a list requires; `token` comes from the scenario.
REQUIRED_QUERY = {"q": SEARCH_WORD}


@dataclass
class Scenario:
    api: Api
    app: Any
    owner: Session
    webhook_url: str
    rounds: int = 0
    ids: dict[str, str] = field(default_factory=dict)

    async def ok(self, method: str, path: str, status: int = 201, **kw: Any) -> dict[str, Any]:
        response = await getattr(self.api, method)(path, self.owner, **kw)
        assert response.status_code == status, (method, path, response.text)
        return dict(response.json()) if response.content else {}

    async def outage(self, severity: str = "critical", minutes_ago: int = 0) -> dict[str, Any]:
        detected = utcnow() - timedelta(minutes=minutes_ago)
        body = {
            "site_name": f"Walk Tower {self.rounds}",
            "severity": severity,
            "description": f"Signal loss, {SEARCH_WORD} round {self.rounds}",
            "services_affected": ["4G"],
            "detected_at": isoformat(detected),
        }
        return await self.ok("post", "/outages", json=body)

    async def round(self) -> None:
        """One of everything a list shows, added through the API as its users would."""
        n = self.rounds = self.rounds + 1
        now = utcnow()
        await self.ok("post", "/users", json={"email": f"walk-{n}-{id(self)}@example.com", "password": "Correct-Horse-42!", "role": "viewer"})
        await self.ok("post", "/api-keys", json={"name": f"walk key {n}"})
        counterparty = await self.ok("post", "/counterparties", json={"name": f"Walk Co {n}"})
        await self.ok(
            "post",
            "/sla/contracts",
            json={
                "counterparty_id": counterparty["id"],
                "name": f"walk contract {n}",
                "sites": [f"Walk Contract Site {n}"],
                "effective_from": isoformat(now - timedelta(days=1)),
            },
        )
        await self.ok(
            "post",
            "/maintenance-windows",
            json={
                "name": f"walk works {n}",
                "sites": [f"Walk Window Site {n}"],
                "starts_at": isoformat(now + timedelta(hours=1)),
                "ends_at": isoformat(now + timedelta(hours=2)),
            },
        )
        # The first webhook hears outages (its deliveries grow each round); later ones listen
        # for a storm that never comes, so they add webhooks without multiplying deliveries.
        events = ["outage.created"] if "webhook_id" not in self.ids else ["fault.storm"]
        webhook = await self.ok(
            "post",
            "/webhooks",
            json={"name": f"walk hook {n}", "url": self.webhook_url, "events": events},
        )
        self.ids.setdefault("webhook_id", webhook["id"])
        await self.ok(
            "post",
            "/faults",
            json={
                "resource_id": f"walk-router-{n}",
                "microservice_id": "probe",
                "type": "wan-degradation",
                "severity": "MEDIUM",
                "message": "WAN link latency high",
                "cause": "probe",
                "resource_ancestry_path": f"walk-site|walk-router-{n}",
            },
        )
        await self.ok(
            "post",
            "/incidents/chat",
            json={"title": f"walk incident {n}", "description": "Customers report no 4G signal"},
        )
        # The held outage stays open: its pauses grow by one a round.
        if "outage_id" not in self.ids:
            self.ids["outage_id"] = (await self.outage())["id"]
        held = self.ids["outage_id"]
        if "pause_id" in self.ids:
            await self.ok("post", f"/outages/{held}/pauses/{self.ids['pause_id']}/end", 200, json={})
        pause = await self.ok("post", f"/outages/{held}/pauses", json={"reason": f"gate {n}"})
        self.ids["pause_id"] = pause["id"]
        # Resolved on the measured clock: an SLA result to dispute, and a payment.
        measured = await self.outage(minutes_ago=25)
        await self.ok("post", f"/outages/{measured['id']}/resolve", 200, json={})
        result = await self.ok("get", f"/sla/results/{measured['id']}", 200)
        await self.ok(
            "post",
            "/sla/disputes",
            json={
                "outage_id": measured["id"],
                "sla_result_id": result["id"],
                "reason": f"walk round {n}: the clock started early",
            },
        )
        # A claimed MTTR far from the clock: an override request.
        claimed = await self.outage()
        await self.ok("post", f"/outages/{claimed['id']}/resolve", 200, json={"mttr_minutes": 300})
        await self.ok("post", "/payments/reconcile", 200)
        await self.app.state.executor.drain()


@dataclass(frozen=True)
class Listing:
    path: str


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def lists_of(document: dict[str, Any]) -> list[str]:
    found = []
    for path, operations in document["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema and "next_cursor" in _resolve(schema, document).get("properties", {}):
            found.append(path.removeprefix(PREFIX))
    return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as served:
        yield served


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    application = make_app(rate_limit_enabled=False, webhook_allow_private_targets=True)
    async with application.router.lifespan_context(application):
        yield application


async def test_probe(app: Any, api: Api, receiver: Receiver) -> None:
    import time

    owner = await api.owner()
    await register_wallets(api, owner, await open_wallets(app))
    scenario = Scenario(api, app, owner, receiver.url)
    token = await scenario.ok("post", "/faults/tokens", json={"expires_in_minutes": 60})
    document = (await api.client.get("/openapi.json")).json()
    for _ in range(3):
        t = time.monotonic()
        await scenario.round()
        print("round", time.monotonic() - t)
        counts = {}
        for path in lists_of(document):
            url = re.sub(r"{(\w+)}", lambda m: scenario.ids[m.group(1)], path)
            params = {"q": SEARCH_WORD} if path == "/outages/search" else {"token": token["token"]} if path == "/faults/shared" else {}
            r = await api.get(url, owner, params=params)
            assert r.status_code == 200, (path, r.text)
            counts[path] = r.json()["total"]
        print(counts)
