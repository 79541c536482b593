from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from stellar_sdk import Keypair

from app.stellar.genesis import open_local_account
from app.stellar.local import LocalLedger
from app.stellar.runtime import stellar_for
from tests.helpers import Api, Session
from tests.outages.conftest import outage_lasting


@dataclass
class Wallets:
    operator: Keypair
    ops_team: Keypair


def local_ledger(app: Any) -> LocalLedger:
    ledger = stellar_for(app.state.database).local
    assert ledger is not None
    return ledger


async def register_wallets(api: Api, admin: Session, wallets: Wallets) -> None:
    for entity, keypair in (("operator", wallets.operator), ("ops_team", wallets.ops_team)):
        response = await api.post(
            "/wallets", admin, json={"entity_id": entity, "address": keypair.public_key}
        )
        assert response.status_code == 201, response.text


async def open_wallets(
    app: Any, *, operator_usdc: Decimal = Decimal(50_000), ops_team_trusts: bool = True
) -> Wallets:
    wallets = Wallets(Keypair.random(), Keypair.random())
    ledger = local_ledger(app)
    await open_local_account(ledger, wallets.operator.public_key, operator_usdc)
    await open_local_account(ledger, wallets.ops_team.public_key, trust=ops_team_trusts)
    return wallets


async def usdc_of(app: Any, address: str) -> Decimal:
    info = await local_ledger(app).account(address)
    assert info is not None
    network = stellar_for(app.state.database).network
    line = info.line("USDC", network.usdc.issuer or "")
    return Decimal(line.balance) / 10_000_000 if line else Decimal(0)


async def resolve(api: Api, session: Session, mttr: int, **fields: Any) -> dict[str, Any]:
    """A critical outage resolved on a measured MTTR of `mttr`: 15 min threshold, 100/min,
    reward 750."""
    outage, body = await outage_lasting(api, session, mttr, **fields)
    response = await api.post(f"/outages/{outage['id']}/resolve", session, json=body)
    assert response.status_code == 200, response.text
    return outage


async def payment_of(api: Api, session: Session, outage_id: str) -> dict[str, Any]:
    response = await api.get(f"/outages/{outage_id}", session)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["payment"] is not None, detail
    response = await api.get(f"/payments/{detail['payment']['id']}", session)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
async def wallets(app: Any, api: Api, owner: Session) -> Wallets:
    opened = await open_wallets(app)
    await register_wallets(api, owner, opened)
    return opened
