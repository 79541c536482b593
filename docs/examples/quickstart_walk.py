"""A new organization's first hour, as docs/quickstart.md walks it: register, register and fund
two wallets, resolve an outage inside its SLA (a reward the pool pays), resolve one outside
(a penalty the operator signs), see both confirmed; then a claimed MTTR a second admin
approves, and the month's statement.

Runs against `make run` (the embedded default's local ledger):

    python docs/examples/quickstart_walk.py http://127.0.0.1:8000

Needs httpx and stellar-sdk (both in the project's environment).
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from stellar_sdk import Keypair, TransactionEnvelope

PASSWORD = "Correct-Horse-42!"  # noqa: S105 (an example account's password)


def wait_for_payment(api: httpx.Client, outage_id: str, status: str) -> dict[str, Any]:
    """Payouts run in the background: poll the outage until its payment reaches `status`."""
    deadline = time.monotonic() + 30
    while True:
        payment = api.get(f"/outages/{outage_id}").json()["payment"]
        if payment and payment["status"] == status:
            return dict(payment)
        if time.monotonic() > deadline:
            raise RuntimeError(f"payment of {outage_id} is {payment and payment['status']}")
        time.sleep(0.2)


def resolve_outage(api: httpx.Client, minutes: int, claim: int | None = None) -> str:
    """An outage detected `minutes` ago, resolved now. The SLA outcome uses the service's own
    clock (resolved_at - detected_at): `resolved_at` is the moment service came back, which
    is now (a moment further back, or a `claim` of `mttr_minutes` the clock does not bear
    out, is a claim for a second person to approve)."""
    detected = datetime.now(UTC) - timedelta(minutes=minutes)
    outage = api.post(
        "/outages",
        json={
            "site_name": "Cell Tower Alpha",
            "severity": "critical",
            "detected_at": detected.isoformat(),
        },
    )
    outage.raise_for_status()
    outage_id = str(outage.json()["id"])
    restored = detected + timedelta(minutes=minutes)
    body: dict[str, Any] = {"resolved_at": restored.isoformat()}
    if claim is not None:
        body["mttr_minutes"] = claim
    api.post(f"/outages/{outage_id}/resolve", json=body).raise_for_status()
    return outage_id


def walk(base_url: str) -> dict[str, Any]:
    api = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", timeout=30)
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"

    # 1. Register (the first user owns a new organization) and sign in.
    api.post("/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

    # 2. The network: its passphrase is what a penalty's payer signs with.
    network = api.get("/stellar/network").json()

    # 3. Two wallets: the operator pays penalties, the ops team receives rewards. Their secret
    #    keys stay here; the platform only ever sees public keys.
    operator, ops_team = Keypair.random(), Keypair.random()
    for entity, keypair in (("operator", operator), ("ops_team", ops_team)):
        wallet = {"entity_id": entity, "address": keypair.public_key}
        api.post("/wallets", json=wallet).raise_for_status()
        # Friendbot for the local ledger: XLM, the USDC trustline and 100 000 USDC.
        funded = api.post(f"/wallets/{entity}/fund")
        funded.raise_for_status()
        assert funded.json()["funded"] and funded.json()["trustline_ready"], funded.text

    # 4. An outage resolved in 5 minutes (critical: 15 allowed): the pool pays a reward.
    reward = wait_for_payment(api, resolve_outage(api, 5), "confirmed")

    # 5. One resolved in 25 minutes: a penalty, which the operator signs and hands back.
    penalty_outage = resolve_outage(api, 25)
    penalty = wait_for_payment(api, penalty_outage, "awaiting_signature")
    envelope = TransactionEnvelope.from_xdr(penalty["unsigned_xdr"], network["passphrase"])
    envelope.sign(operator)
    signed = api.post(f"/payments/{penalty['id']}/signed", json={"signed_xdr": envelope.to_xdr()})
    signed.raise_for_status()
    penalty = wait_for_payment(api, penalty_outage, "confirmed")

    balance = api.get(f"/wallets/address/{operator.public_key}/balance", params={"refresh": True})

    # 6. A claim the clock does not bear out: an outage of 40 minutes resolved "in 5". It
    #    resolves on the clock and the claim waits; nothing is paid until a second person (an
    #    admin who is not the resolver) decides. Here the second admin approves it.
    claimed_outage = resolve_outage(api, 40, claim=5)
    claim = api.get(f"/outages/{claimed_outage}").json()["overrides"][0]
    second = f"approver-{uuid.uuid4().hex[:8]}@example.com"
    api.post(
        "/users", json={"email": second, "password": PASSWORD, "role": "admin"}
    ).raise_for_status()
    approver = httpx.Client(base_url=api.base_url, timeout=30)
    token = approver.post("/auth/login", json={"email": second, "password": PASSWORD})
    token.raise_for_status()
    approver.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    approver.post(
        f"/sla/overrides/{claim['id']}/approve", json={"notes": "NOC log"}
    ).raise_for_status()
    approved = wait_for_payment(api, claimed_outage, "confirmed")

    # 7. The month's statement for the (default) counterparty: a draft until the month closes.
    default = api.get("/sla/contracts").json()["results"][0]
    month = datetime.now(UTC).strftime("%Y-%m")
    statement = api.get(f"/counterparties/{default['counterparty_id']}/statements/{month}")
    return {
        "reward": reward,
        "penalty": penalty,
        "approved": approved,
        "claim": claim,
        "statement": statement.json(),
        "operator_balance": balance.json(),
    }


if __name__ == "__main__":
    done = walk(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
    for name in ("reward", "penalty", "approved"):
        payment = done[name]
        print(
            f"{name}: {payment['amount']} USDC {payment['status']} ({payment['transaction_hash']})"
        )
    print(f"operator USDC balance: {done['operator_balance']['usdc_balance']}")
    print(f"this month's statement: net {done['statement']['totals']['net']} USDC (draft)")
