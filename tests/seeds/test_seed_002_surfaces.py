"""Seed 002's remaining surfaces, each sent as the seed writes it (issue 25.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.contracts.engine import Severity
from tests.helpers import Api, Session, assert_error
from tests.payments.conftest import (
    Wallets,
    open_wallets,
    payment_of,
    register_wallets,
    resolve,
    usdc_of,
)


async def _paid(app: Any, api: Api, owner: Session) -> tuple[dict[str, Any], Wallets]:
    wallets = await open_wallets(app)
    await register_wallets(api, owner, wallets)
    outage = await resolve(api, owner, mttr=5)  # critical, 5 of 15 minutes: a 1 500 reward
    await app.state.executor.drain()
    return outage, wallets


async def test_configs_history_and_the_seeds_wallet_paths(app: Any, api: Api) -> None:
    owner = await api.owner()
    configs = await api.get("/sla/configs", owner)
    assert configs.status_code == 200, configs.text
    assert configs.json() == (await api.get("/sla/config", owner)).json()
    assert set(configs.json()) >= {s.value for s in Severity}
    assert configs.json()["critical"]["threshold_minutes"] == 15

    outage, wallets = await _paid(app, api, owner)
    history = await api.get("/payments/history", owner, params={"type": "reward"})
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["total"] == 1 and body["limit"] == 50 and body["offset"] == 0
    (transaction,) = body["transactions"]
    assert transaction == body["results"][0]
    assert transaction["outage_id"] == outage["id"] and transaction["status"] == "confirmed"
    assert transaction["amount"] == 1500.0 and transaction["asset_code"] == "USDC"
    assert body["summary"]["total_rewards"] == 1500.0

    address = wallets.ops_team.public_key
    balance = await api.get(f"/wallets/{address}/balance", owner, params={"refresh": "true"})
    assert balance.status_code == 200, balance.text
    assert balance.json()["usdc_balance"] == "1500.0000000"
    assert balance.json()["balances"]["USDC"]["balance"] == "1500.0000000"
    assert await usdc_of(app, address) == Decimal(1500)
    wallet = (await api.get("/wallets/ops_team", owner)).json()
    assert (wallet["user_id"], wallet["public_key"]) == ("ops_team", address)


async def test_the_outage_detail_carries_the_seeds_payment_and_contract_fields(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    outage, _ = await _paid(app, api, owner)
    detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
    payment = detail["payment"]
    assert detail["stellar_payment"] == {
        "transaction_hash": payment["transaction_hash"],
        "amount": 1500.0,
        "asset_code": "USDC",
        "from_address": payment["from_address"],
        "to_address": payment["to_address"],
        "status": "confirmed",
        "created_at": payment["created_at"],
        "confirmed_at": payment["confirmed_at"],
    }
    assert detail["sla_status"]["smart_contract_invoked"] is False  # no contract configured
    assert detail["sla_status"]["contract_tx_hash"] is None
    users = {entry["user"] for entry in detail["timeline"]}
    assert owner.user["id"] in users and "system" in users

    # A list's SLA status has every key, null where it does not apply.
    listed = (await api.get("/outages", owner)).json()["results"][0]["sla_status"]
    assert set(listed) == set(detail["sla_status"])
    open_one = (
        await api.post("/outages", owner, json={"site_name": "B", "severity": "low"})
    ).json()
    listed = (await api.get("/outages", owner)).json()["results"]
    status = next(o for o in listed if o["id"] == open_one["id"])["sla_status"]
    assert set(status) == set(detail["sla_status"]) and status["mttr_minutes"] is None


async def test_calculate_answers_the_seeds_signed_amount(app: Any, api: Api) -> None:
    owner = await api.owner()
    outage = await resolve(api, owner, mttr=25)  # critical, 10 minutes over: a 1 000 penalty
    calculated = await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})
    assert calculated.status_code == 200, calculated.text
    result = calculated.json()["sla_result"]
    assert (result["status"], result["mttr_minutes"], result["threshold_minutes"]) == (
        "violated",
        25,
        15,
    )
    assert (result["amount"], result["payment_type"], result["outcome"]) == (
        -1000.0,
        "penalty",
        "penalty",
    )
    latest = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert latest["amount"] == 1000.0  # unsigned wherever else a result is shown


async def test_execute_payment_and_process_sla_take_the_seeds_wallet_body(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    wallets = await open_wallets(app)
    seed_body = {
        "operator_wallet": wallets.operator.public_key,
        "ops_team_wallet": wallets.ops_team.public_key,
    }
    first = await resolve(api, owner, mttr=5)
    executed = await api.post(
        "/sla/execute-payment", owner, json={"outage_id": first["id"], **seed_body}
    )
    assert executed.status_code == 200, executed.text
    assert executed.json()["outage_id"] == first["id"] and executed.json()["type"] == "reward"
    await app.state.executor.drain()
    assert (await payment_of(api, owner, first["id"]))["status"] == "confirmed"
    registered = (await api.get("/wallets/operator", owner)).json()["address"]
    assert registered == wallets.operator.public_key

    second = await resolve(api, owner, mttr=5)
    processed = await api.post(
        "/payments/process-sla", owner, json={"outage_id": second["id"], **seed_body}
    )
    assert processed.status_code == 200, processed.text
    assert processed.json()["sla_result"]["payment_type"] == "reward"
    # Another wallet than the registered one is refused, not swapped in.
    swapped = {**seed_body, "ops_team_wallet": wallets.operator.public_key}
    assert_error(
        await api.post("/payments/process-sla", owner, json={"outage_id": second["id"], **swapped}),
        409,
        "CONFLICT",
    )
    for both_or_neither in ({}, {"outage_id": first["id"], "sla_result_id": "sla_x"}):
        response = await api.post("/sla/execute-payment", owner, json=both_or_neither)
        assert_error(response, 422, "VALIDATION_ERROR")


async def test_dashboard_and_trends_draw_compliance_and_money_per_period(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    await resolve(api, owner, mttr=5)  # critical, met: 1 500 reward
    await resolve(api, owner, mttr=25)  # critical, violated: 1 000 penalty
    await resolve(api, owner, mttr=5, severity="low", site_name="Elsewhere")
    dashboard = await api.get("/sla/analytics/dashboard", owner, params={"severity": "critical"})
    assert dashboard.status_code == 200, dashboard.text
    body = dashboard.json()
    assert (body["outages_evaluated"], body["sla_met"], body["sla_violated"]) == (2, 1, 1)
    assert body["compliance_rate"] == 50.0
    assert (body["total_rewards"], body["total_penalties"], body["net_amount"]) == (
        1500.0,
        1000.0,
        500.0,
    )
    assert (body["mttr_p50_minutes"], body["mttr_p90_minutes"]) == (5, 25)
    assert body["previous"]["outages_evaluated"] == 0
    assert body["change"]["outages_evaluated"] == 2
    assert body["filters"] == {"severity": "critical", "site": None}
    site = await api.get("/sla/analytics/dashboard", owner, params={"site": "Elsewhere"})
    assert site.json()["outages_evaluated"] == 1 and site.json()["compliance_rate"] == 100.0

    trends = await api.get("/sla/analytics/trends", owner, params={"severity": "critical"})
    assert trends.status_code == 200, trends.text
    series = trends.json()["series"]
    assert len(series) in (30, 31)  # every day of the default 30-day range
    assert series[-1]["outages_evaluated"] == 2 and series[-1]["net_amount"] == 500.0
    assert all(point["outages_evaluated"] == 0 for point in series[:-1])
    weeks = await api.get("/sla/analytics/trends", owner, params={"granularity": "week"})
    assert sum(p["outages_evaluated"] for p in weeks.json()["series"]) == 3
    backwards = {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    assert_error(
        await api.get("/sla/analytics/trends", owner, params=backwards), 422, "VALIDATION_ERROR"
    )
    decade = {"start_date": "2016-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    assert_error(
        await api.get("/sla/analytics/trends", owner, params=decade), 422, "VALIDATION_ERROR"
    )


async def test_mttr_by_severity_names_average_mttr(app: Any, api: Api) -> None:
    owner = await api.owner()
    await resolve(api, owner, mttr=5)
    await resolve(api, owner, mttr=25)
    stats = (await api.get("/analytics/mttr", owner)).json()
    critical = stats["by_severity"]["critical"]
    assert critical["average_mttr"] == critical["average_mttr_minutes"] == 15.0


async def test_recompute_health_search_and_bulk_under_the_seeds_names(api: Api) -> None:
    owner = await api.owner()
    outage = await resolve(api, owner, mttr=5)
    recomputed = await api.post(
        "/sla/bulk-recompute", owner, json={"outage_ids": [outage["id"], "out_missing"]}
    )
    assert recomputed.status_code == 200, recomputed.text
    assert recomputed.json()["unchanged"] == [outage["id"]]
    assert [e["outage_id"] for e in recomputed.json()["errors"]] == ["out_missing"]
    for path in ("/health/liveness", "/health/readiness"):
        assert (await api.client.get(path)).status_code == 200
        assert (await api.get(path)).status_code == 200
    listed = await api.get("/outages/search", owner)
    assert listed.status_code == 200 and listed.json()["total"] == 1
    bulk = await api.post(
        "/outages/bulk",
        owner,
        json={
            "outages": [
                {"site_name": "DC-West", "severity": "high", "services_affected": ["billing"]}
            ]
        },
    )
    assert bulk.status_code == 201, bulk.text
    assert bulk.json()["imported"] == 1
