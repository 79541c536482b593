"""Wallet registration, keypair creation and ledger reads with cache metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from stellar_sdk import Keypair

from app.core.crypto import fernet
from app.core.idempotency import IdempotencyKey
from app.core.tenancy import system_session
from app.wallets.models import BalanceCache
from tests.helpers import Api, Session, assert_error
from tests.payments.conftest import Wallets


async def test_a_secret_seed_or_a_malformed_address_is_refused_and_never_echoed(
    app: Any, api: Api, owner: Session
) -> None:
    seed = Keypair.random().secret
    refused = await api.post("/wallets", owner, json={"entity_id": "ops_team", "address": seed})
    error = assert_error(refused, 422, "VALIDATION_ERROR")
    assert seed not in refused.text
    assert "secret seed" in error["details"]["errors"][0]["msg"]
    for bad in ("GABC", "G" + "A" * 55, Keypair.random().public_key.lower(), ""):
        assert_error(
            await api.post("/wallets", owner, json={"entity_id": "ops_team", "address": bad}),
            422,
            "VALIDATION_ERROR",
        )
    assert_error(
        await api.post(
            "/wallets", owner, json={"entity_id": "a/b", "address": Keypair.random().public_key}
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert_error(await api.get("/wallets/ops_team", owner), 404, "NOT_FOUND")
    assert_error(await api.get("/wallets/address/GNOPE/balance", owner), 422, "VALIDATION_ERROR")


async def test_register_replace_and_read_with_cache_metadata(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    first = (await api.get("/wallets/ops_team", owner)).json()
    assert first["address"] == wallets.ops_team.public_key
    assert first["funded"] is True and first["trustline_ready"] is True
    # POST /wallets read the ledger; within the TTL the copy is served from the cache.
    assert first["cache_status"] == "fresh" and 0 < first["cache_ttl_seconds"] <= 60
    live = (await api.get("/wallets/ops_team", owner, params={"refresh": "true"})).json()
    assert live["cache_status"] == "live" and live["cached_at"] >= first["cached_at"]

    replacement = Keypair.random().public_key
    replaced = await api.post(
        "/wallets", owner, json={"entity_id": "ops_team", "address": replacement}
    )
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["address"] == replacement and body["funded"] is False
    viewer = await api.member(owner, "viewer")
    assert_error(
        await api.post("/wallets", viewer, json={"entity_id": "x", "address": replacement}),
        403,
        "FORBIDDEN",
    )
    other = await api.owner()
    assert_error(await api.get("/wallets/ops_team", other), 404, "NOT_FOUND")


async def test_balances_come_from_the_ledger_and_stale_copies_are_labelled(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    address = wallets.operator.public_key
    live = (
        await api.get(f"/wallets/address/{address}/balance", owner, params={"refresh": "true"})
    ).json()
    assert live["cache_status"] == "live" and live["network"] == "local"
    assert live["balances"]["USDC"]["balance"] == "50000.0000000"
    assert live["balances"]["XLM"] == {"balance": "10000.0000000", "asset_type": "native"}
    assert live["usdc_balance"] == "50000.0000000"
    fresh = (await api.get(f"/wallets/address/{address}/balance", owner)).json()
    assert fresh["cache_status"] == "fresh" and fresh["cached_at"] == live["cached_at"]

    # Past the TTL with the ledger unreachable, the cached copy is served, marked stale.
    stale_app = _app_with(ttl=0, database=app.state.database)
    stale_app.state.database.stellar.ledger = _Unreachable()
    try:
        async with _client(stale_app) as http:
            stale = (await Api(http).get(f"/wallets/address/{address}/balance", owner)).json()
            assert stale["cache_status"] == "stale"
            assert stale["balances"]["USDC"]["balance"] == "50000.0000000"
            unknown = Keypair.random().public_key
            missing = await Api(http).get(f"/wallets/address/{unknown}/balance", owner)
            assert_error(missing, 504, "STELLAR_TIMEOUT")
    finally:
        await stale_app.state.database.dispose()
    unfunded = Keypair.random().public_key
    empty = (await api.get(f"/wallets/address/{unfunded}/balance", owner)).json()
    assert (
        empty["funded"] is False
        and empty["balances"] == {}
        and empty["usdc_balance"] == "0.0000000"
    )


class _Unreachable:
    async def account(self, account_id: str) -> None:
        from app.stellar.port import LedgerUnavailable

        raise LedgerUnavailable("down")


def _app_with(ttl: int, database: Any) -> Any:
    from tests.helpers import make_app

    stale = make_app(wallet_cache_ttl_seconds=ttl)
    from app.stellar.runtime import stellar_for

    stellar_for(stale.state.database)
    return stale


def _client(app: Any) -> Any:
    from tests.helpers import make_client

    return make_client(app)


async def test_create_returns_the_seed_once_and_never_stores_it(
    app: Any, api: Api, owner: Session
) -> None:
    engineer = await api.member(owner, "engineer")
    body = {"user_id": engineer.user["id"]}
    headers = {"Idempotency-Key": "wallet-create-1"}
    created = await api.post("/wallets/create", engineer, json=body, headers=headers)
    assert created.status_code == 201, created.text
    wallet = created.json()
    assert created.headers["cache-control"] == "no-store"
    assert Keypair.from_secret(wallet["secret_seed"]).public_key == wallet["public_key"]
    assert wallet["funded"] is False
    # A retry with the same key does not create a second wallet, and does not replay the seed:
    # it answers the same wallet, the seed withheld, and says so.
    replay = await api.post("/wallets/create", engineer, json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["idempotent-secret-withheld"] == "true"
    assert replay.json() == {**wallet, "secret_seed": None}
    settings = app.state.settings
    async with system_session(app.state.database, "test inspection") as session:
        stored = (await session.execute(select(IdempotencyKey))).scalars().all()
        assert len(stored) == 1
        plain = fernet(settings, "idempotency").decrypt(stored[0].response_body)
        assert wallet["secret_seed"].encode() not in plain
    registered = (await api.get(f"/wallets/{engineer.user['id']}", owner)).json()
    assert registered["public_key"] == wallet["public_key"] and "secret_seed" not in registered
    assert_error(await api.post("/wallets/create", engineer, json=body), 409, "CONFLICT")
    assert_error(
        await api.post("/wallets/create", engineer, json={"user_id": "usr_nobody"}),
        404,
        "NOT_FOUND",
    )
    async with system_session(app.state.database, "test inspection") as session:
        cached = (await session.execute(select(BalanceCache))).scalars().all()
        assert all(wallet["secret_seed"] not in str(row.balances) for row in cached)
