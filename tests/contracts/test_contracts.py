"""SLA contracts per counterparty: scope, dates, versioned terms; each outage settled under the
contract in force for its site at detection (issue 23)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from stellar_sdk import Keypair

from app.core.clock import isoformat, utcnow
from app.stellar.genesis import open_local_account
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import outage_lasting
from tests.payments.conftest import local_ledger, usdc_of

TERMS = {"threshold_minutes": 20, "penalty_per_minute": 10, "reward_base": 1000}


async def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _counterparty(api: Api, owner: Session, name: str, wallet: str | None = None) -> str:
    body: dict[str, Any] = {"name": name, "kind": "contractor"}
    if wallet:
        body["wallet_address"] = wallet
    return str((await _ok(await api.post("/counterparties", owner, json=body), 201))["id"])


async def _contract(api: Api, owner: Session, **fields: Any) -> Any:
    body = {"name": "Field services", "effective_from": isoformat(utcnow() - timedelta(days=1))}
    return await api.post("/sla/contracts", owner, json={**body, **fields})


async def _settled(api: Api, who: Session, minutes: int, site: str) -> dict[str, Any]:
    outage, lasting = await outage_lasting(api, who, minutes, site_name=site)
    return await _ok(await api.post(f"/outages/{outage['id']}/resolve", who, json=lasting))


async def test_every_organization_starts_with_a_default_contract(api: Api) -> None:
    owner = await api.owner()
    listed = (await api.get("/sla/contracts", owner)).json()
    (default,) = listed["results"]
    assert default["is_default"] and default["sites"] is None and default["effective_to"] is None
    config = (await api.get("/sla/config", owner)).json()
    assert default["terms"]["critical"] == config["critical"]
    assert default["version"] == config["policy_version"] == 1
    counterparty = await _ok(await api.get(f"/counterparties/{default['counterparty_id']}", owner))
    assert counterparty["is_default"] and counterparty["wallet_address"] is None


async def test_saving_unchanged_terms_creates_no_version(api: Api) -> None:
    owner = await api.owner()
    same = {"threshold_minutes": 15, "penalty_per_minute": 100, "reward_base": 750}
    for _ in range(2):
        saved = await _ok(await api.put("/sla/config/critical", owner, json=same))
        assert saved["version"] == 1
    assert (await api.get("/sla/config", owner)).json()["policy_version"] == 1
    changed = await _ok(await api.put("/sla/config/critical", owner, json=TERMS))
    again = await _ok(await api.put("/sla/config/critical", owner, json=TERMS))
    assert changed["version"] == again["version"] == 2
    audit = (await api.get("/audit", owner, params={"event_type": "sla.policy_changed"})).json()
    assert audit["total"] == 1


async def test_two_counterparties_on_two_sites_are_settled_under_their_own_contracts(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    alpha_wallet, bravo_wallet = Keypair.random(), Keypair.random()
    ledger = local_ledger(app)
    await open_local_account(ledger, alpha_wallet.public_key)
    await open_local_account(ledger, bravo_wallet.public_key, Decimal(10_000))
    alpha = await _counterparty(api, owner, "Alpha Field Co", alpha_wallet.public_key)
    bravo = await _counterparty(api, owner, "Bravo Towers", bravo_wallet.public_key)
    alpha_contract = await _ok(
        await _contract(
            api, owner, counterparty_id=alpha, sites=["Tower A"], terms={"critical": TERMS}
        ),
        201,
    )
    bravo_terms = {"threshold_minutes": 10, "penalty_per_minute": 200, "reward_base": 500}
    bravo_contract = await _ok(
        await _contract(
            api, owner, counterparty_id=bravo, sites=["Tower B"], terms={"critical": bravo_terms}
        ),
        201,
    )
    assert alpha_contract["terms"]["critical"]["threshold_minutes"] == 20
    assert alpha_contract["terms"]["high"]["threshold_minutes"] == 30  # the default's

    on_a = await _settled(api, owner, 12, "Tower A")  # 12 < 75% of 20: 1000 x 1.5
    on_b = await _settled(api, owner, 12, "Tower B")  # 2 minutes over 10: 2 x 200
    elsewhere = await _settled(api, owner, 12, "Tower C")  # the default contract: 15 min
    assert on_a["contract_id"] == alpha_contract["id"]
    assert (on_a["sla_result"]["outcome"], on_a["sla_result"]["amount"]) == ("reward", 1500.0)
    assert on_a["sla_result"]["counterparty_id"] == alpha
    assert (on_b["sla_result"]["outcome"], on_b["sla_result"]["amount"]) == ("penalty", 400.0)
    assert on_b["sla_result"]["contract_id"] == bravo_contract["id"]
    assert elsewhere["sla_result"]["outcome"] == "reward"
    assert elsewhere["contract_id"] not in {alpha_contract["id"], bravo_contract["id"]}

    await app.state.executor.drain()
    reward = (await api.get(f"/outages/{on_a['id']}", owner)).json()["payment"]
    assert (reward["status"], reward["to_address"]) == ("confirmed", alpha_wallet.public_key)
    assert reward["counterparty_id"] == alpha
    assert await usdc_of(app, alpha_wallet.public_key) == Decimal(1500)
    penalty = (await api.get(f"/outages/{on_b['id']}", owner)).json()["payment"]
    assert penalty["status"] == "awaiting_signature"  # Bravo signs its own penalty
    assert penalty["from_address"] == bravo_wallet.public_key


async def test_contracts_that_could_tie_are_refused(api: Api) -> None:
    owner = await api.owner()
    alpha = await _counterparty(api, owner, "Alpha")
    bravo = await _counterparty(api, owner, "Bravo")
    first = await _ok(await _contract(api, owner, counterparty_id=alpha, sites=["Tower A"]), 201)
    clash = await _contract(api, owner, counterparty_id=bravo, sites=["Tower A", "Tower Z"])
    assert assert_error(clash, 409, "CONFLICT")["details"]["contract_ids"] == [first["id"]]
    # Later dates do not overlap: fine once the first ends.
    later = isoformat(utcnow() + timedelta(days=30))
    assert (
        await _contract(api, owner, counterparty_id=bravo, sites=["Tower A"], effective_from=later)
    ).status_code == 409
    await _ok(await api.patch(f"/sla/contracts/{first['id']}", owner, json={"effective_to": later}))
    await _ok(
        await _contract(api, owner, counterparty_id=bravo, sites=["Tower A"], effective_from=later),
        201,
    )
    # Every site: one at a time; a site-specific contract beside it is fine.
    await _ok(await _contract(api, owner, counterparty_id=alpha), 201)
    assert_error(await _contract(api, owner, counterparty_id=bravo), 409, "CONFLICT")


async def test_a_contract_applies_from_its_effective_date_and_takes_open_outages(
    api: Api,
) -> None:
    owner = await api.owner()
    alpha = await _counterparty(api, owner, "Alpha")
    outage, _ = await outage_lasting(api, owner, 5, site_name="Tower A")
    default_id = outage["contract_id"]
    future = isoformat(utcnow() + timedelta(days=1))
    await _ok(
        await _contract(
            api, owner, counterparty_id=alpha, sites=["Tower A"], effective_from=future
        ),
        201,
    )
    assert (await api.get(f"/outages/{outage['id']}", owner)).json()["contract_id"] == default_id
    current = await _ok(
        await _contract(
            api,
            owner,
            counterparty_id=alpha,
            sites=["Tower A"],
            effective_to=future,
            name="Until then",
        ),
        201,
    )
    moved = (await api.get(f"/outages/{outage['id']}", owner)).json()
    assert moved["contract_id"] == current["id"]  # the open outage moved under it at once


async def test_contract_terms_are_versioned_and_unchanged_saves_are_free(api: Api) -> None:
    owner = await api.owner()
    alpha = await _counterparty(api, owner, "Alpha")
    contract = await _ok(await _contract(api, owner, counterparty_id=alpha, sites=["X"]), 201)
    path = f"/sla/contracts/{contract['id']}/terms/critical"
    assert (await _ok(await api.put(path, owner, json=TERMS)))["version"] == 2
    assert (await _ok(await api.put(path, owner, json=TERMS)))["version"] == 2
    versions = (await api.get(f"/sla/contracts/{contract['id']}/versions", owner)).json()
    assert [
        (v["version"], v["severity"], v["is_current"])
        for v in versions
        if v["severity"] == "critical"
    ] == [(1, "critical", False), (2, "critical", True)]
    shown = await _ok(await api.get(f"/sla/contracts/{contract['id']}", owner))
    assert shown["version"] == 2 and shown["terms"]["critical"]["threshold_minutes"] == 20


async def test_contracts_and_counterparties_belong_to_one_organization(api: Api) -> None:
    owner, stranger = await api.owner(), await api.owner()
    alpha = await _counterparty(api, owner, "Alpha")
    contract = await _ok(await _contract(api, owner, counterparty_id=alpha), 201)
    assert_error(await api.get(f"/sla/contracts/{contract['id']}", stranger), 404, "NOT_FOUND")
    assert_error(await api.get(f"/counterparties/{alpha}", stranger), 404, "NOT_FOUND")
    assert_error(await _contract(api, stranger, counterparty_id=alpha), 404, "NOT_FOUND")
    engineer = await api.member(owner, "engineer")
    assert_error(await _contract(api, engineer, counterparty_id=alpha), 403, "FORBIDDEN")
    duplicate = await api.post("/counterparties", owner, json={"name": "Alpha"})
    assert_error(duplicate, 409, "CONFLICT")
    secret = {"name": "Leaky", "wallet_address": Keypair.random().secret}
    assert_error(await api.post("/counterparties", owner, json=secret), 422, "VALIDATION_ERROR")
