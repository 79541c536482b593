"""`GET /stellar/network`: what a client needs to sign for this instance's network, without
reading the code."""

from __future__ import annotations

from typing import Any

from stellar_sdk import Network

from app.stellar.runtime import stellar_for
from tests.helpers import Api
from tests.stellar.fixtures import Standin, network_api, network_app, standin

__all__ = ["network_api", "network_app", "standin"]


async def test_the_local_ledger_names_its_passphrase_and_asset(app: Any, api: Api) -> None:
    owner = await api.owner()
    viewer = await api.member(owner, "viewer")
    answer = await api.get("/stellar/network", viewer)
    assert answer.status_code == 200, answer.text
    network = stellar_for(app.state.database).network
    assert answer.json() == {
        "network": "local",
        "passphrase": network.passphrase,
        "horizon_url": None,
        "rpc_url": None,
        "usdc_code": "USDC",
        "usdc_issuer": network.usdc.issuer,
        "pool_address": network.pool_address,
        "explorer_url": None,
    }
    assert (await api.get("/stellar/network")).status_code == 401


async def test_testnet_names_its_servers_and_explorer(network_api: Api, standin: Standin) -> None:
    owner = await network_api.owner()
    body = (await network_api.get("/stellar/network", owner)).json()
    assert body["network"] == "testnet"
    assert body["passphrase"] == Network.TESTNET_NETWORK_PASSPHRASE
    assert (body["horizon_url"], body["rpc_url"]) == (standin.horizon_url, standin.rpc_url)
    assert body["usdc_issuer"] == standin.issuer.public_key
    assert body["pool_address"] == standin.pool.public_key
    assert body["explorer_url"] == "https://stellar.expert/explorer/testnet/tx/"
