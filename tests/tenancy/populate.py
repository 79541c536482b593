"""An organization with a little of everything, built over HTTP as its users would: outages
open and resolved, SLA results, confirmed payments of both kinds, a dispute, faults, an
incident and its investigation, a webhook, an API key, a policy change, and the audit rows
all of that writes. Returns the ids a client would use to read it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stellar_sdk import TransactionEnvelope

from app.core.clock import isoformat, utcnow
from app.stellar.network import LOCAL_PASSPHRASE
from tests.helpers import Api, Session
from tests.outages.conftest import new_outage
from tests.payments.conftest import open_wallets, register_wallets


async def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _drain(app: Any) -> None:
    await app.state.executor.drain()


async def populate(
    api: Api, app: Any, owner: Session, *, label: str, webhook_url: str
) -> dict[str, str]:
    ids: dict[str, str] = {}
    engineer = await api.member(owner, "engineer")
    ids["user_id"] = engineer.user["id"]
    key = await _ok(await api.post("/api-keys", owner, json={"name": f"{label} probe"}), 201)
    ids["key_id"] = key["id"]
    wallets = await open_wallets(app)
    await register_wallets(api, owner, wallets)
    ids["address"] = wallets.ops_team.public_key
    ids["entity_id"] = "ops_team"
    await _ok(
        await api.put(
            "/sla/config/high",
            owner,
            json={"threshold_minutes": 45, "penalty_per_minute": 40, "reward_base": 500},
        )
    )
    counterparty = await _ok(
        await api.post("/counterparties", owner, json={"name": f"{label} Field Co"}), 201
    )
    ids["counterparty_id"] = counterparty["id"]
    contract = await _ok(
        await api.post(
            "/sla/contracts",
            owner,
            json={
                "counterparty_id": counterparty["id"],
                "name": f"{label} field services",
                "sites": [f"{label} Tower South"],
                "effective_from": isoformat(utcnow() - timedelta(days=1)),
            },
        ),
        201,
    )
    ids["contract_id"] = contract["id"]
    ids["period"] = f"{utcnow().year:04d}-{utcnow().month:02d}"  # its statement: a draft
    site = f"{label} Tower"
    open_one = await new_outage(api, engineer, site_name=f"{site} North", severity="high")
    ids["open_outage_id"] = open_one["id"]
    pause = await _ok(
        await api.post(
            f"/outages/{open_one['id']}/pauses", engineer, json={"reason": f"{label} gate"}
        ),
        201,
    )
    ids["pause_id"] = pause["id"]
    window = await _ok(
        await api.post(
            "/maintenance-windows",
            owner,
            json={
                "name": f"{label} works",
                "sites": [f"{site} West"],
                "starts_at": isoformat(utcnow()),
                "ends_at": isoformat(utcnow() + timedelta(hours=1)),
            },
        ),
        201,
    )
    ids["window_id"] = window["id"]
    rewarded = await new_outage(api, engineer, site_name=f"{site} South", region="south")
    penalised = await new_outage(api, engineer, site_name=f"{site} East", severity="medium")
    # Resolved with claimed MTTRs, which the owner (a second person) approves.
    for outage, claimed in ((rewarded, 5), (penalised, 95)):
        resolved = await _ok(
            await api.post(
                f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": claimed}
            )
        )
        claim = resolved["overrides"][0]
        await _ok(await api.post(f"/sla/overrides/{claim['id']}/approve", owner, json={}))
        ids["override_id"] = claim["id"]
    ids["outage_id"] = rewarded["id"]
    await _ok(
        await api.post(
            f"/outages/{rewarded['id']}/rca",
            owner,
            json={
                "root_cause": "fiber cut",
                "contributing_factors": ["construction"],
                "remediation": "rerouted",
            },
        )
    )
    await _drain(app)
    ids["payment_id"] = await _sign_penalty(api, owner, penalised["id"], wallets.operator)
    await _drain(app)
    result = await _ok(await api.get(f"/sla/results/{rewarded['id']}", owner))
    dispute = await _ok(
        await api.post(
            "/sla/disputes",
            engineer,
            json={
                "outage_id": rewarded["id"],
                "sla_result_id": result["id"],
                "reason": f"{label}: the clock started early",
            },
        ),
        201,
    )
    ids["dispute_id"] = dispute["dispute_id"]
    fault = await _ok(
        await api.post(
            "/faults",
            engineer,
            json={
                "resource_id": f"{label}-router-1",
                "microservice_id": "probe",
                "type": "wan-degradation",
                "severity": "CRITICAL",
                "message": "WAN link down",
                "cause": "link down",
                "resource_ancestry_path": f"{label}|site-1|rack-2",
            },
        ),
        201,
    )
    ids["fault_id"] = fault["id"]
    await _ok(
        await api.post(f"/faults/{fault['id']}/comments", engineer, json={"comment": "on it"}), 201
    )
    token = await _ok(await api.post("/faults/tokens", owner, json={"expires_in_minutes": 60}), 201)
    ids["token"] = token["token"]
    incident = await _ok(
        await api.post(
            "/incidents/chat",
            owner,
            json={"title": f"{label} outage", "description": "Customers report no 4G signal"},
        ),
        201,
    )
    ids["incident_id"] = incident["incidentId"]
    investigation = await _ok(
        await api.post("/investigations", owner, json={"incident_id": incident["incidentId"]}), 202
    )
    ids["investigation_id"] = investigation["id"]
    webhook = await _ok(
        await api.post(
            "/webhooks",
            owner,
            json={"name": f"{label} hook", "url": webhook_url, "events": ["*"]},
        ),
        201,
    )
    ids["webhook_id"] = webhook["id"]
    await _ok(await api.post(f"/webhooks/{webhook['id']}/test", owner), 202)
    deliveries = await _ok(await api.get(f"/webhooks/{webhook['id']}/deliveries", owner))
    ids["delivery_id"] = deliveries["results"][0]["id"]
    jobs = await _ok(await api.get("/jobs", owner))
    ids["job_id"] = jobs["results"][0]["id"]
    await _drain(app)
    return ids


async def _sign_penalty(api: Api, owner: Session, outage_id: str, operator: Any) -> str:
    detail = await _ok(await api.get(f"/outages/{outage_id}", owner))
    payment = await _ok(await api.get(f"/payments/{detail['payment']['id']}", owner))
    assert payment["status"] == "awaiting_signature", payment
    envelope = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], LOCAL_PASSPHRASE)
    envelope.sign(operator)
    await _ok(
        await api.post(
            f"/payments/{payment['id']}/signed", owner, json={"signed_xdr": envelope.to_xdr()}
        ),
        202,
    )
    return str(payment["id"])
