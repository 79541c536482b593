"""Every paginated list of `/openapi.json`, walked to its end by cursor and by offset.

The lists are found in the document (a GET whose 200 answer has a `next_cursor`), never
written down here: a list added later is walked too, and fails until the scenario below gives
it items. Each item is seen exactly once, by cursor while rows are inserted between pages.
Every list refuses an unknown query parameter, naming it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import isoformat, utcnow
from tests.helpers import PASSWORD, PREFIX, Api, Session, assert_error, make_app, unique_email
from tests.payments.conftest import open_wallets, register_wallets
from tests.receivers import Receiver

# A word in every outage's description: `/outages/search` is walked searching for it.
SEARCH_WORD = "walkabout"
# Sent wherever a list takes them, and the values of any a list requires (the share token
# comes from the scenario).
QUERY_VALUES = {"q": SEARCH_WORD}
LIMIT = 2
SEED_ROUNDS = 5  # every round adds at least one item to every list
# Rounds run between the first pages of a cursor walk only: each round adds to every list, so
# a round between every page would make each later walk longer than the one before (and the
# rounds would use up the free plan's 100 incidents a month).
ROUNDS_PER_WALK = 2
UNKNOWN = "sevrity"


@dataclass(frozen=True)
class Listing:
    path: str  # as documented, without the prefix
    query: tuple[str, ...]  # query parameters the walk sends: required or in QUERY_VALUES
    key: str  # the field that identifies an item
    refusal: str  # the documented status of a malformed request: "422", or "400" at the gateway


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _item_key(page: dict[str, Any], document: dict[str, Any]) -> str:
    item = _resolve(page["properties"]["results"]["items"], document)
    names = list(item.get("properties", {}))
    return "id" if "id" in names else next(n for n in names if n.endswith("_id"))


def lists_of(document: dict[str, Any]) -> list[Listing]:
    found = []
    for path, operations in document["paths"].items():
        operation = operations.get("get", {})
        answer = operation.get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        page = _resolve(schema, document) if schema else {}
        if "next_cursor" not in page.get("properties", {}):
            continue
        query = tuple(
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and (p.get("required") or p["name"] in QUERY_VALUES)
        )
        refusal = "422" if "422" in operation["responses"] else "400"
        key = _item_key(page, document)
        found.append(Listing(path.removeprefix(PREFIX), query, key, refusal))
    return found


@dataclass
class Scenario:
    """An organization whose every list grows by at least one item a round."""

    api: Api
    app: Any
    owner: Session
    webhook_url: str
    rounds: int = 0
    ids: dict[str, str] = field(default_factory=dict)  # path and query values for the lists

    async def ok(self, method: str, path: str, status: int = 201, **kw: Any) -> dict[str, Any]:
        response = await getattr(self.api, method)(path, self.owner, **kw)
        assert response.status_code == status, (method, path, response.text)
        return dict(response.json())

    async def start(self) -> None:
        # Funded wallets: resolved outages are paid, so `/payments` grows.
        await register_wallets(self.api, self.owner, await open_wallets(self.app))
        token = await self.ok("post", "/faults/tokens", json={"expires_in_minutes": 60})
        self.ids["token"] = token["token"]

    async def outage(self, minutes_ago: int = 0) -> dict[str, Any]:
        body = {
            "site_name": f"Walk Tower {self.rounds}",
            "severity": "critical",
            "description": f"Signal loss, {SEARCH_WORD} round {self.rounds}",
            "services_affected": ["4G"],
            "detected_at": isoformat(utcnow() - timedelta(minutes=minutes_ago)),
        }
        return await self.ok("post", "/outages", json=body)

    async def round(self) -> None:
        """One more of everything the lists show, through the API as its users add them."""
        self.rounds += 1
        n = self.rounds
        user = {"email": unique_email("walker"), "password": PASSWORD, "role": "viewer"}
        await self.ok("post", "/users", json=user)
        await self.ok("post", "/api-keys", json={"name": f"walk key {n}"})
        await self._contract(n)
        await self._window(n)
        await self._webhook(n)
        await self._fault(n)
        body = {"title": f"walk incident {n}", "description": "Customers report no 4G signal"}
        await self.ok("post", "/incidents/chat", json=body)
        await self._pause(n)
        await self._resolved(n)
        await self._import(n)
        await self.ok("post", "/payments/reconcile", 200)
        # The jobs the round queued (webhook deliveries, payments) run now, not mid-walk.
        await self.app.state.executor.drain()

    async def _contract(self, n: int) -> None:
        counterparty = await self.ok("post", "/counterparties", json={"name": f"Walk Co {n}"})
        contract = {
            "counterparty_id": counterparty["id"],
            "name": f"walk contract {n}",
            "sites": [f"Walk Contract Site {n}"],  # no outage of the walk is under it
            "effective_from": isoformat(utcnow() - timedelta(days=1)),
        }
        await self.ok("post", "/sla/contracts", json=contract)

    async def _window(self, n: int) -> None:
        window = {
            "name": f"walk works {n}",
            "sites": [f"Walk Window Site {n}"],  # suppresses nothing the walk reports
            "starts_at": isoformat(utcnow() + timedelta(hours=1)),
            "ends_at": isoformat(utcnow() + timedelta(hours=2)),
        }
        await self.ok("post", "/maintenance-windows", json=window)

    async def _webhook(self, n: int) -> None:
        # The first hears new outages, so its deliveries grow each round; later ones wait for a
        # storm that never comes: more webhooks without multiplying deliveries and jobs.
        events = ["fault.storm"] if "webhook_id" in self.ids else ["outage.created"]
        body = {"name": f"walk hook {n}", "url": self.webhook_url, "events": events}
        webhook = await self.ok("post", "/webhooks", json=body)
        self.ids.setdefault("webhook_id", webhook["id"])

    async def _fault(self, n: int) -> None:
        fault = {
            "resource_id": f"walk-router-{n}",  # a new resource: not folded into the last one
            "microservice_id": "probe",
            "type": "wan-degradation",
            "severity": "MEDIUM",
            "message": "WAN link latency high",
            "cause": "Latency probe over 250 ms",
            "resource_ancestry_path": f"walk-site|walk-router-{n}",
        }
        await self.ok("post", "/faults", json=fault)

    async def _pause(self, n: int) -> None:
        """The held outage stays open; one pause runs at a time, so the last one ends first."""
        if "outage_id" not in self.ids:
            self.ids["outage_id"] = (await self.outage())["id"]
        held = self.ids["outage_id"]
        if "pause_id" in self.ids:
            running = f"/outages/{held}/pauses/{self.ids['pause_id']}"
            await self.ok("post", f"{running}/end", 200, json={})
        pause = await self.ok("post", f"/outages/{held}/pauses", json={"reason": f"gate {n}"})
        self.ids["pause_id"] = pause["id"]

    async def _import(self, n: int) -> None:
        """An outage already over, imported: one more entry in the import history."""
        record = {
            "site_name": f"Walk History {n}",
            "severity": "low",
            "detected_at": isoformat(utcnow() - timedelta(hours=3)),
            "resolved_at": isoformat(utcnow() - timedelta(hours=2)),
        }
        await self.ok("post", "/outages/import", json={"outages": [record]})

    async def _resolved(self, n: int) -> None:
        # On the measured clock: an SLA result to dispute, and a payment.
        measured = await self.outage(minutes_ago=25)
        await self.ok("post", f"/outages/{measured['id']}/resolve", 200, json={})
        result = await self.ok("get", f"/sla/results/{measured['id']}", 200)
        dispute = {
            "outage_id": measured["id"],
            "sla_result_id": result["id"],
            "reason": f"walk round {n}: the clock started early",
        }
        await self.ok("post", "/sla/disputes", json=dispute)
        # A claimed MTTR far from the clock: an override request.
        claimed = await self.outage()
        await self.ok("post", f"/outages/{claimed['id']}/resolve", 200, json={"mttr_minutes": 300})


def _url(listing: Listing, scenario: Scenario) -> str:
    missing = set(re.findall(r"{(\w+)}", listing.path)) - set(scenario.ids)
    assert not missing, f"{listing.path}: no {missing} in the scenario; add it to the scenario"
    return re.sub(r"{(\w+)}", lambda m: scenario.ids[m.group(1)], listing.path)


def _query(listing: Listing, scenario: Scenario) -> dict[str, Any]:
    values = {**QUERY_VALUES, **scenario.ids}
    missing = set(listing.query) - set(values)
    assert not missing, f"{listing.path} requires {missing}: add a value to QUERY_VALUES"
    return {name: values[name] for name in listing.query}


async def _page(scenario: Scenario, listing: Listing, **params: Any) -> dict[str, Any]:
    url, query = _url(listing, scenario), _query(listing, scenario)
    response = await scenario.api.get(url, scenario.owner, params={**query, **params})
    assert response.status_code == 200, (listing.path, params, response.text)
    return dict(response.json())


async def by_offset(scenario: Scenario, listing: Listing, limit: int) -> list[str]:
    """Every id, following `next_offset` on a list nobody writes to meanwhile."""
    seen: list[str] = []
    offset: int | None = 0
    total = None
    while offset is not None:
        body = await _page(scenario, listing, limit=limit, offset=offset)
        total = body["total"] if total is None else total
        assert (body["total"], body["total_exact"]) == (total, True), (listing.path, body)
        seen += [item[listing.key] for item in body["results"]]
        offset = body["next_offset"]
        assert offset is None or body["has_next"], (listing.path, body)
    assert len(seen) == total, f"{listing.path}: walked {len(seen)} of total {total}"
    return seen


async def every_id(scenario: Scenario, listing: Listing) -> list[str]:
    """What the list holds now, in the largest pages (a walk of its own to compare with)."""
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        body = await _page(scenario, listing, limit=200, offset=offset)
        seen += [item[listing.key] for item in body["results"]]
        offset = body["next_offset"]
    return seen


async def by_cursor(scenario: Scenario, listing: Listing) -> list[str]:
    """Every id, following `next_cursor`, with a scenario round between the first pages."""
    seen: list[str] = []
    body = await _page(scenario, listing, limit=LIMIT)
    for page in range(1_000):
        shown = [item[listing.key] for item in body["results"]]
        # At once: a cursor the list ignores would show its first page forever.
        assert not set(shown) & set(seen), (listing.path, "seen again", set(shown) & set(seen))
        seen += shown
        if not body["has_next"]:
            assert body["next_cursor"] is None, (listing.path, body)
            return seen
        assert body["next_cursor"], (listing.path, body)
        if page < ROUNDS_PER_WALK:
            await scenario.round()
        body = await _page(scenario, listing, limit=LIMIT, cursor=body["next_cursor"])
    raise AssertionError(f"{listing.path}: the cursor walk does not end")


def _twice(ids: list[str]) -> list[str]:
    return [item for item, count in Counter(ids).items() if count > 1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as served:
        yield served


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    """Hundreds of requests from one client; webhooks deliver to the local receiver."""
    application = make_app(rate_limit_enabled=False, webhook_allow_private_targets=True)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def scenario(app: Any, api: Api, receiver: Receiver) -> Scenario:
    started = Scenario(api, app, await api.owner(), receiver.url)
    await started.start()
    return started


@pytest.fixture
async def listings(api: Api) -> list[Listing]:
    document = (await api.client.get("/openapi.json")).json()
    found = lists_of(document)
    # The finder finds: a walk of no lists would pass whatever the lists did.
    assert len(found) >= 20, [listing.path for listing in found]
    return found


async def test_every_list_is_walked_once_through_by_cursor_and_by_offset(
    scenario: Scenario, listings: list[Listing]
) -> None:
    for _ in range(SEED_ROUNDS):
        await scenario.round()
    thin = {}
    for listing in listings:
        count = len(await every_id(scenario, listing))
        if count < SEED_ROUNDS:
            thin[listing.path] = count
    assert not thin, f"lists the scenario leaves (nearly) empty; add them to the scenario: {thin}"

    # By offset on quiet lists: offset paging cannot be stable under inserts at the head.
    for listing in listings:
        everything = await every_id(scenario, listing)
        walked = await by_offset(scenario, listing, LIMIT)
        assert not _twice(walked), (listing.path, _twice(walked))
        assert set(walked) == set(everything), (listing.path, set(everything) ^ set(walked))

    # By cursor, with rows inserted between pages: every row of before the walk once.
    for listing in listings:
        before = set(await every_id(scenario, listing))
        walked = await by_cursor(scenario, listing)
        assert not _twice(walked), (listing.path, _twice(walked))
        assert before <= set(walked), (listing.path, "skipped", before - set(walked))


async def test_every_list_refuses_an_unknown_query_parameter_by_name(
    scenario: Scenario, listings: list[Listing]
) -> None:
    await scenario.round()  # the ids its paths and required parameters take
    for listing in listings:
        url, query = _url(listing, scenario), _query(listing, scenario)
        response = await scenario.api.get(url, scenario.owner, params={**query, UNKNOWN: "high"})
        assert response.status_code == int(listing.refusal), (listing.path, response.text)
        if listing.refusal == "422":
            error = assert_error(response, 422, "VALIDATION_ERROR")
        else:  # the fault gateway answers in its seed's form (docs/api.md, decisions 75-82)
            error = response.json()
            assert error["code"] == "parameter_invalid", (listing.path, error)
        assert UNKNOWN in error["message"], (listing.path, error)
        # The same request without it is answered: the unknown name alone was refused.
        assert (await scenario.api.get(url, scenario.owner, params=query)).status_code == 200
