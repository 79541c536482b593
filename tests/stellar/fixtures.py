from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from stellar_sdk import Asset, Keypair, Network, StrKey

from tests.helpers import Api, Session, make_app, make_client
from tests.receivers import Served
from tests.stellar.standins import StandinNetwork, horizon_app, rpc_app


@dataclass
class Standin:
    net: StandinNetwork
    horizon_url: str
    rpc_url: str
    pool: Keypair
    issuer: Keypair
    operator: Keypair
    ops_team: Keypair

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """What an instance (or a worker's environment) needs to pay on this network."""
        return {
            "stellar_network": "testnet",
            "stellar_horizon_url": self.horizon_url,
            "stellar_rpc_url": self.rpc_url,
            "stellar_pool_secret": self.pool.secret,
            "stellar_usdc_issuer": self.issuer.public_key,
            "stellar_request_timeout_seconds": 5,
            **overrides,
        }

    def env(self, **overrides: Any) -> dict[str, str]:
        return {k.upper(): str(v) for k, v in self.settings(**overrides).items()}


@pytest.fixture
def standin() -> Iterator[Standin]:
    issuer, pool = Keypair.random(), Keypair.random()
    net = StandinNetwork(Network.TESTNET_NETWORK_PASSPHRASE, Asset("USDC", issuer.public_key))
    operator, ops_team = Keypair.random(), Keypair.random()
    net.open_account(pool.public_key, Decimal(1_000_000))
    net.open_account(operator.public_key, Decimal(50_000))
    net.open_account(ops_team.public_key)
    with Served(horizon_app(net)) as horizon_url, Served(rpc_app(net)) as rpc_url:
        yield Standin(net, horizon_url, rpc_url, pool, issuer, operator, ops_team)


def contract_id() -> str:
    return StrKey.encode_contract(os.urandom(32))


@pytest.fixture
async def network_app(standin: Standin) -> AsyncIterator[Any]:
    app = make_app(**standin.settings(soroban_contract_id=contract_id()))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def network_api(network_app: Any) -> AsyncIterator[Api]:
    async with make_client(network_app) as http:
        yield Api(http)


async def with_wallets(api: Api, standin: Standin) -> Session:
    owner = await api.owner()
    for entity, keypair in (("operator", standin.operator), ("ops_team", standin.ops_team)):
        response = await api.post(
            "/wallets", owner, json={"entity_id": entity, "address": keypair.public_key}
        )
        assert response.status_code == 201, response.text
    return owner
