"""Settlement statements per counterparty and period: JSON, CSV and a PDF to sign, frozen at
the period's close, reproduced byte for byte, anchored on the ledger (issue 23)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from stellar_sdk import Keypair

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.identity.models import Organization
from app.outages.models import Outage
from app.payments.models import Payment
from app.sla.models import SlaResult
from app.statements import render
from app.statements.periods import month_of
from app.stellar.genesis import open_local_account
from tests.helpers import Api, Session, assert_error, make_app, make_client
from tests.outages.conftest import outage_lasting
from tests.payments.conftest import local_ledger

TERMS = {"threshold_minutes": 20, "penalty_per_minute": 10, "reward_base": 1000}


@pytest.fixture
async def closing() -> AsyncIterator[tuple[Any, Api]]:
    """Periods close as soon as they end (no delay for late confirmations)."""
    app = make_app(statement_close_delay_hours=0, rate_limit_enabled=False)
    async with app.router.lifespan_context(app), make_client(app) as http:
        yield app, Api(http)


def _last_month() -> datetime:
    first = utcnow().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=20)).replace(day=10)


async def _into(app: Any, outage_id: str, when: datetime) -> None:
    """The outage happened then (the test moves its rows back; the service only ever records
    now)."""
    async with system_session(app.state.database, "test: move into the past") as session:
        outage = await session.get(Outage, outage_id)
        assert outage is not None and outage.resolved_at is not None
        lasted = outage.resolved_at - outage.detected_at
        await session.execute(
            update(Outage)
            .where(Outage.id == outage_id)
            .values(detected_at=when - lasted, resolved_at=when)
        )
        await session.execute(
            update(SlaResult).where(SlaResult.outage_id == outage_id).values(computed_at=when)
        )
        await session.execute(
            update(Payment).where(Payment.outage_id == outage_id).values(created_at=when)
        )
        await session.execute(
            update(Payment)
            .where(Payment.outage_id == outage_id, Payment.confirmed_at.is_not(None))
            .values(confirmed_at=when + timedelta(minutes=1))
        )
        await session.commit()


async def _alpha(app: Any, api: Api, owner: Session) -> tuple[str, Keypair]:
    """A counterparty with its wallet and a contract on Tower A; the organization has been a
    customer for a year (a statement covers only periods the organization existed in)."""
    async with system_session(app.state.database, "test: a year-old organization") as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == owner.organization_id)
            .values(created_at=utcnow() - timedelta(days=365))
        )
        await session.commit()
    wallet = Keypair.random()
    await open_local_account(local_ledger(app), wallet.public_key, Decimal(10_000))
    counterparty = await api.post(
        "/counterparties",
        owner,
        json={"name": "Alpha Field Co", "wallet_address": wallet.public_key},
    )
    contract = await api.post(
        "/sla/contracts",
        owner,
        json={
            "counterparty_id": counterparty.json()["id"],
            "name": "Alpha towers",
            "sites": ["Tower A"],
            "effective_from": (utcnow() - timedelta(days=365)).isoformat(),
            "terms": {"critical": TERMS},
        },
    )
    assert contract.status_code == 201, contract.text
    return str(counterparty.json()["id"]), wallet


async def _resolved(api: Api, who: Session, minutes: int, **body: Any) -> dict[str, Any]:
    outage, lasting = await outage_lasting(api, who, minutes, site_name="Tower A")
    response = await api.post(f"/outages/{outage['id']}/resolve", who, json={**lasting, **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_closed_statement_is_reproduced_byte_for_byte_and_anchored(
    closing: tuple[Any, Api],
) -> None:
    app, api = closing
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    alpha, _ = await _alpha(app, api, owner)
    rewarded = await _resolved(api, owner, 8)  # < 50% of 20: 1000 x 2
    claimed = await _resolved(api, engineer, 30, mttr_minutes=12)  # the clock: 10 over
    override = claimed["overrides"][0]
    approved = await api.post(f"/sla/overrides/{override['id']}/approve", owner, json={})
    assert approved.status_code == 200
    await app.state.executor.drain()
    when = _last_month()
    for outage in (rewarded, claimed):
        await _into(app, outage["id"], when)
    period = month_of(when)
    path = f"/counterparties/{alpha}/statements/{period}"

    first = await api.get(path, owner)
    assert first.status_code == 200, first.text
    assert first.headers["x-statement-status"] == "closed"
    assert first.headers["x-statement-sha256"] == hashlib.sha256(first.content).hexdigest()
    document = first.json()
    lines = {line["outage_id"]: line for line in document["outages"]}
    assert set(lines) == {rewarded["id"], claimed["id"]}
    assert lines[rewarded["id"]]["amount"] == "2000.0000000"
    assert lines[rewarded["id"]]["mttr_source"] == "clock"
    line = lines[claimed["id"]]
    assert (line["measured_mttr_minutes"], line["mttr_minutes"]) == (30, 12)
    assert line["mttr_source"] == "approved_override"
    assert line["override"]["approved_by"] == owner.user["id"]
    assert line["amount"] == "1500.0000000"  # 12 < 75% of 20: 1000 x 1.5
    paid = document["payments"]  # confirmed on the ledger within the period's window
    assert len(paid) == 2 and all(len(p["transaction_hash"]) == 64 for p in paid)
    assert document["generated_at"] == document["period"]["as_of"]  # its close, not its read
    assert document["totals"] == {
        "outages": 2,
        "penalties": "0.0000000",
        "rewards": "3500.0000000",
        "adjustments": "0.0000000",
        "net": "3500.0000000",
        "paid": "3500.0000000",
    }

    # Later changes do not touch a closed period: the same bytes, in every format.
    await api.patch(f"/counterparties/{alpha}", owner, json={"name": "Alpha Renamed"})
    again = await api.get(path, owner)
    assert again.content == first.content
    csv_once = (await api.get(path, owner, params={"format": "csv"})).content
    csv_twice = (await api.get(path, owner, params={"format": "csv"})).content
    pdf = await api.get(path, owner, params={"format": "pdf"})
    assert csv_once == csv_twice and csv_once == render.to_csv(document)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == (await api.get(path, owner, params={"format": "pdf"})).content
    sha = first.headers["x-statement-sha256"]
    assert pdf.content == render.to_pdf(json.loads(first.content), sha)  # from the JSON alone
    words = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Alpha Field Co" in words and "3500.0000000" in words and sha in words
    assert "Signed for Alpha Field Co" in words

    # Anchored like the audit chain: a pool transaction whose memo is the SHA-256. Until the
    # ledger holds it, nothing outside the database vouches for the document.
    assert first.headers["x-statement-anchor"] == "pending"
    unanchored = (await api.get(f"{path}/verify", owner)).json()
    assert unanchored["document_matches"] and unanchored["valid"] is False
    await app.state.executor.drain()
    verified = (await api.get(f"{path}/verify", owner)).json()
    assert verified["valid"] and verified["document_matches"] and verified["anchored_on_ledger"]
    found = await local_ledger(app).find(verified["anchor_transaction_hash"])
    assert found is not None and found.memo_hash == sha
    listed = (await api.get(f"/counterparties/{alpha}/statements", owner)).json()
    assert [(s["period"], s["sha256"]) for s in listed] == [(period, sha)]


async def test_a_closed_statement_cannot_be_changed_in_the_database(
    closing: tuple[Any, Api],
) -> None:
    app, api = closing
    owner = await api.owner()
    alpha, _ = await _alpha(app, api, owner)
    when = _last_month()
    assert (
        await api.get(f"/counterparties/{alpha}/statements/{month_of(when)}", owner)
    ).status_code == 200
    engine = create_async_engine(app.state.settings.database_url)  # the database's owner
    try:
        async with engine.begin() as connection:
            with pytest.raises(DBAPIError, match="never changed"):
                await connection.execute(text("UPDATE statements SET document = '{}'"))
    finally:
        await engine.dispose()


async def test_an_open_period_is_a_draft(api: Api, app: Any) -> None:
    owner = await api.owner()
    alpha, _ = await _alpha(app, api, owner)
    await _resolved(api, owner, 8)
    period = month_of(utcnow())
    draft = await api.get(f"/counterparties/{alpha}/statements/{period}", owner)
    assert draft.headers["x-statement-status"] == "open" and draft.json()["status"] == "open"
    assert len(draft.json()["outages"]) == 1
    assert (await api.get(f"/counterparties/{alpha}/statements", owner)).json() == []
    verify = await api.get(f"/counterparties/{alpha}/statements/{period}/verify", owner)
    assert_error(verify, 404, "NOT_FOUND")
    for bad in ("2026-13", "0000-01", "9999-Q4"):
        assert_error(
            await api.get(f"/counterparties/{alpha}/statements/{bad}", owner),
            422,
            "VALIDATION_ERROR",
        )
    assert_error(  # before the organization existed: there is nothing to state (or anchor)
        await api.get(f"/counterparties/{alpha}/statements/1999-01", owner), 404, "NOT_FOUND"
    )
    stranger = await api.owner()
    assert_error(
        await api.get(f"/counterparties/{alpha}/statements/{period}", stranger), 404, "NOT_FOUND"
    )
    quarter = f"{utcnow().year}-Q{(utcnow().month - 1) // 3 + 1}"
    assert (
        await api.get(f"/counterparties/{alpha}/statements/{quarter}", owner)
    ).status_code == 200


async def test_a_correction_of_an_earlier_period_is_listed_with_its_difference(
    closing: tuple[Any, Api],
) -> None:
    app, api = closing
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    alpha, _ = await _alpha(app, api, owner)
    outage = await _resolved(api, engineer, 25)  # 5 over 20: a 50 USDC penalty
    when = _last_month()
    await _into(app, outage["id"], when)
    dispute = await api.post(
        "/sla/disputes",
        engineer,
        json={
            "outage_id": outage["id"],
            "sla_result_id": outage["sla_result"]["id"],
            "reason": "Gate logs",
            "claimed_mttr_minutes": 18,
        },
    )
    accepted = await api.post(
        f"/sla/disputes/{dispute.json()['dispute_id']}/resolve",
        owner,
        json={"resolution": "accepted"},
    )
    assert accepted.status_code == 200, accepted.text
    now = (await api.get(f"/counterparties/{alpha}/statements/{month_of(utcnow())}", owner)).json()
    (correction,) = now["adjustments"]
    assert (correction["previous_amount"], correction["amount"], correction["difference"]) == (
        "-50.0000000",
        "1000.0000000",
        "1050.0000000",
    )
    assert now["totals"]["adjustments"] == "1050.0000000" and now["outages"] == []
    # The earlier period, first read after the correction, stands as it did at its close: the
    # correction is counted once, in the period it was made.
    earlier = (await api.get(f"/counterparties/{alpha}/statements/{month_of(when)}", owner)).json()
    assert [line["amount"] for line in earlier["outages"]] == ["-50.0000000"]
    assert earlier["adjustments"] == []
    assert earlier["status"] == "closed" and earlier["period"]["label"] == month_of(when)
    assert datetime.fromisoformat(earlier["generated_at"]) > when.replace(tzinfo=UTC)
