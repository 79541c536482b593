"""Friendbot for the local ledger (`POST /wallets/{entity}/fund`), and what a payout says when
the account it pays does not exist yet or cannot hold USDC."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stellar_sdk import Keypair

from app.stellar.genesis import open_local_account
from tests.helpers import Api, assert_error, make_app, make_client
from tests.payments.conftest import local_ledger, payment_of, resolve, usdc_of
from tests.stellar.fixtures import Standin


async def _register(api: Api, owner: Any, entity: str) -> Keypair:
    keypair = Keypair.random()
    wallet = {"entity_id": entity, "address": keypair.public_key}
    assert (await api.post("/wallets", owner, json=wallet)).status_code == 201
    return keypair


async def test_funding_opens_the_account_with_xlm_a_trustline_and_usdc(app: Any, api: Api) -> None:
    owner = await api.owner()
    keypair = await _register(api, owner, "ops_team")
    before = (await api.get("/wallets/ops_team", owner)).json()
    assert (before["funded"], before["trustline_ready"]) == (False, False)

    funded = await api.post("/wallets/ops_team/fund", owner)
    assert funded.status_code == 200, funded.text
    assert (funded.json()["funded"], funded.json()["trustline_ready"]) == (True, True)
    assert await usdc_of(app, keypair.public_key) == Decimal(100_000)

    more = await api.post("/wallets/ops_team/fund", owner, json={"xlm": 5, "usdc": 250})
    assert more.status_code == 200, more.text
    assert await usdc_of(app, keypair.public_key) == Decimal(100_250)
    account = await local_ledger(app).account(keypair.public_key)
    assert account is not None
    native = next(line.balance for line in account.balances if line.asset_type == "native")
    assert native == 10_005 * 10_000_000  # stroops: the default 10 000 XLM, then 5
    audit = (await api.get("/audit", owner, params={"event_type": "wallet.funded"})).json()
    assert audit["total"] == 2

    assert_error(await api.post("/wallets/nobody/fund", owner), 404, "NOT_FOUND")
    engineer = await api.member(owner, "engineer")
    assert_error(await api.post("/wallets/ops_team/fund", engineer), 403, "FORBIDDEN")
    too_much = await api.post("/wallets/ops_team/fund", owner, json={"usdc": 10**9})
    assert_error(too_much, 422, "VALIDATION_ERROR")


async def test_a_reward_to_a_missing_account_says_so_and_pays_once_funded(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    operator = await _register(api, owner, "operator")
    await open_local_account(local_ledger(app), operator.public_key, Decimal(50_000))
    ops_team = await _register(api, owner, "ops_team")  # registered, never funded
    outage = await resolve(api, owner, mttr=5)
    await app.state.executor.drain()
    failed = await payment_of(api, owner, outage["id"])
    assert failed["status"] == "failed"
    assert failed["failure_code"] == "STELLAR_TRANSACTION_FAILED"
    assert failed["failure_reason"] == "destination_account_missing"
    assert "does not exist on the ledger" in failed["failure_message"]
    # Webhook receivers and the audit trail are told the same.
    audited = await api.get("/audit", owner, params={"event_type": "payment.failed"})
    assert audited.json()["results"][0]["data"]["failure_reason"] == "destination_account_missing"

    await api.post("/wallets/ops_team/fund", owner, json={"usdc": 0})
    retried = await api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    assert retried.status_code == 200, retried.text
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert (paid["status"], paid["failure_reason"]) == ("confirmed", None)
    assert await usdc_of(app, ops_team.public_key) == Decimal(1500)


async def test_a_reward_to_an_account_without_trustline_is_stellar_no_trustline(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    operator = await _register(api, owner, "operator")
    ops_team = await _register(api, owner, "ops_team")
    ledger = local_ledger(app)
    await open_local_account(ledger, operator.public_key, Decimal(50_000))
    await open_local_account(ledger, ops_team.public_key, trust=False)
    outage = await resolve(api, owner, mttr=5)
    await app.state.executor.drain()
    failed = await payment_of(api, owner, outage["id"])
    assert failed["failure_code"] == "STELLAR_NO_TRUSTLINE"
    assert failed["failure_reason"] == "destination_trustline_missing"


async def test_funding_is_refused_off_the_local_ledger(standin: Standin) -> None:
    app = make_app(**standin.settings())
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        await _register(api, owner, "ops_team")
        refused = await api.post("/wallets/ops_team/fund", owner)
        error = assert_error(refused, 409, "LOCAL_LEDGER_ONLY")
        assert "friendbot" in error["message"]
