"""`GET /audit/verify` finds anchors on the ledger itself, not in `audit_anchors` (issue 24,
point 3; record 0020): someone who holds the database deletes audit rows and their anchor
records, and verify still refuses the chain.

On the local ledger (the default) the ledger's own rows live in the same database, and whoever
deletes those too defeats the anchors: the Horizon stand-in plays a ledger the database's
owner does not control.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder
from stellar_sdk.memo import HashMemo

from app.audit import attribution
from app.audit import verify as verifier
from app.audit.anchors import anchor_due, build_anchor
from app.audit.chaining import chain
from app.audit.models import GENESIS_HASH
from app.core.clock import utcnow
from app.stellar.port import DataOperation
from app.stellar.runtime import stellar_for
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, Session, make_app, make_client
from tests.stellar.fixtures import Standin


async def _with_history(api: Api) -> Session:
    owner = await api.owner()
    for _ in range(3):
        await api.member(owner, "viewer")
    assert (await _verify(api, owner))["valid"] is True  # all chained (verify chains first)
    return owner


async def _verify(api: Api, owner: Session) -> dict[str, Any]:
    response = await api.get("/audit/verify", owner)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _as_superuser(work: Callable[[AsyncConnection], Awaitable[None]]) -> None:
    """Someone who holds the database: above row-level security, able to lift the trigger."""
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await work(connection)
        await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    await engine.dispose()


async def _cut(organization_id: str, keep: int, *, anchor_records: bool) -> None:
    """Deletes the rows after `keep` and rolls the head back to it, so the chain that is left
    is whole; with `anchor_records`, every trace of anchoring in the database goes too."""

    async def work(connection: AsyncConnection) -> None:
        where = {"org": organization_id, "seq": keep}
        kept = (
            await connection.execute(
                text("SELECT hash FROM audit_log WHERE organization_id = :org AND seq = :seq"),
                where,
            )
        ).scalar_one_or_none()
        await connection.execute(
            text("DELETE FROM audit_log WHERE organization_id = :org AND seq > :seq"), where
        )
        if anchor_records:
            await connection.execute(
                text("DELETE FROM audit_anchors WHERE organization_id = :org"), where
            )
        await connection.execute(
            text(
                "UPDATE audit_chain_heads SET seq = :seq, hash = :hash WHERE organization_id = :org"
            ),
            {**where, "hash": kept or GENESIS_HASH},
        )

    await _as_superuser(work)


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The verifier's clock, that much later (the rows age; nothing else moves)."""
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(verifier, "utcnow", lambda: moment)


def _stale_after(app: Any) -> float:
    settings = app.state.settings
    return float(settings.audit_anchor_interval_seconds + settings.audit_anchor_grace_seconds)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _pad(standin: Standin, count: int) -> None:
    """Other transactions of the pool (payouts, statements' anchors) on the ledger after the
    anchor, pushing it down the account's history."""
    pool = standin.pool
    for _ in range(count):
        sequence = standin.net.accounts[pool.public_key].sequence
        envelope = (
            TransactionBuilder(Account(pool.public_key, sequence), standin.net.passphrase, 100)
            .append_payment_op(pool.public_key, Asset.native(), "0.0000001")
            .set_timeout(300)
            .build()
        )
        envelope.sign(pool)
        record, refused = standin.net.submit(envelope)
        assert record is not None, refused


def _pool_history(standin: Standin) -> list[dict[str, Any]]:
    """The pool's transactions as Horizon lists them, oldest first."""
    pool = standin.pool.public_key
    return [t for t in standin.net.transactions.values() if pool in t["touched"]]


# (a) the attack: rows and their anchor records deleted together


async def test_rows_deleted_with_their_anchor_records_do_not_verify(app: Any, api: Api) -> None:
    owner = await _with_history(api)
    assert await anchor_due(app.state.database) == 1
    anchored = await _verify(api, owner)
    head, latest = anchored["head_seq"], anchored["latest_anchor"]
    assert anchored["valid"] is True and anchored["anchors"] == 1
    assert latest["seq"] == head and latest["confirmed_on_ledger"] is True

    await _cut(owner.organization_id, 2, anchor_records=True)
    report = await _verify(api, owner)
    assert report["valid"] is False and report["head_seq"] == 2
    assert report["first_broken_seq"] == 3
    assert report["reason"] == (
        f"rows 3 to {head} are missing: row {head} is anchored on the ledger "
        f"(transaction {latest['transaction_hash']})"
    )


async def test_a_wiped_chain_does_not_verify_even_once_the_sweep_anchored_what_is_left(
    app: Any, api: Api
) -> None:
    owner = await _with_history(api)
    await anchor_due(app.state.database)
    head = (await _verify(api, owner))["head_seq"]

    await _cut(owner.organization_id, 0, anchor_records=True)
    await api.member(owner, "viewer")  # new activity on the emptied chain...
    await chain(app.state.database, owner.organization_id)
    assert await anchor_due(app.state.database) == 1  # ...anchored, with no record to stop it
    report = await _verify(api, owner)
    now = report["head_seq"]
    assert report["valid"] is False and report["first_broken_seq"] == now + 1
    assert report["reason"].startswith(
        f"rows {now + 1} to {head} are missing: row {head} is anchored on the ledger"
    )


async def test_an_anchor_record_the_ledger_does_not_show_does_not_verify(
    app: Any, api: Api
) -> None:
    owner = await _with_history(api)
    head = (await _verify(api, owner))["head_seq"]

    async def forge(connection: AsyncConnection) -> None:
        await connection.execute(
            text(
                "INSERT INTO audit_anchors (id, organization_id, seq, hash, network, "
                "transaction_hash, ledger, anchored_at) SELECT 'anc_forged', organization_id, "
                "seq, hash, 'local', :tx, 1, now() FROM audit_chain_heads "
                "WHERE organization_id = :org"
            ),
            {"org": owner.organization_id, "tx": "ab" * 32},
        )

    await _as_superuser(forge)
    report = await _verify(api, owner)
    assert report["valid"] is False and report["first_broken_seq"] == head
    assert "recorded in the database is not on the ledger" in report["reason"]


# (b) the window: rows after the last anchor


async def test_rows_after_the_last_anchor_are_the_window_and_age_out_of_it(
    app: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await _with_history(api)
    await anchor_due(app.state.database)
    anchored = (await _verify(api, owner))["head_seq"]
    await api.member(owner, "viewer")

    report = await _verify(api, owner)
    rows = (await api.get("/audit", owner)).json()["results"]
    first_after = next(r for r in rows if r["seq"] == anchored + 1)
    assert report["valid"] is True and report["latest_anchor"]["seq"] == anchored
    assert report["unanchored_rows"] == report["head_seq"] - anchored > 0
    assert report["unanchored_since"] == first_after["occurred_at"]

    # Not detected: the tail after the last anchor, deleted before the next anchor.
    await _cut(owner.organization_id, anchored, anchor_records=False)
    report = await _verify(api, owner)
    assert report["valid"] is True and report["head_seq"] == anchored
    assert report["unanchored_rows"] == 0 and report["unanchored_since"] is None

    # Detected: rows that should have been anchored by now and are not.
    await api.member(owner, "viewer")
    assert (await _verify(api, owner))["valid"] is True
    _later(monkeypatch, _stale_after(app) + 60)
    report = await _verify(api, owner)
    assert report["valid"] is False and report["first_broken_seq"] == anchored + 1
    assert report["reason"].startswith("activity since ")
    assert report["reason"].endswith(
        f"is not anchored on the ledger (rows {anchored + 1} to {report['head_seq']})"
    )


async def test_an_anchor_from_before_attribution_is_matched_by_its_hash(app: Any, api: Api) -> None:
    owner = await _with_history(api)
    head = (await _verify(api, owner))["head_seq"]
    rows = (await api.get("/audit", owner)).json()["results"]
    head_hash = next(r["hash"] for r in rows if r["seq"] == head)
    stellar = stellar_for(app.state.database)
    account = await stellar.ledger.account(stellar.network.pool_address)
    assert account is not None
    old_style = build_anchor(stellar, account.sequence, head_hash, utcnow())  # memo only
    assert (await stellar.ledger.submit(old_style)).successful

    report = await _verify(api, owner)
    assert report["valid"] is True and report["anchors"] == 1
    assert report["latest_anchor"]["seq"] == head and report["unanchored_rows"] == 0


# (c) through Horizon: the account's transactions, page by page


async def test_anchors_are_found_by_paging_the_pool_account_on_horizon(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await _with_history(network_api)
    assert await anchor_due(network_app.state.database) == 1
    _pad(standin, 250)  # the anchor is on the second page of 200
    _forge_attribution(standin, owner.organization_id)

    report = await _verify(network_api, owner)
    history = _pool_history(standin)
    assert report["valid"] is True and report["ledger_status"] == "checked"
    assert report["anchors"] == 1 and report["latest_anchor"]["seq"] == report["head_seq"]
    assert len(history) == 252
    assert report["ledger_reached_chain_start"] is True
    # Told in the organization's own terms (its chain's start), not the shared account's.
    assert report["ledger_checked_from"] is not None

    await _cut(owner.organization_id, 1, anchor_records=True)
    report = await _verify(network_api, owner)
    assert report["valid"] is False and report["first_broken_seq"] == 2
    assert "is anchored on the ledger" in report["reason"]


def _forge_attribution(standin: Standin, organization_id: str) -> None:
    """Anyone may send the pool a transaction with an `acx-audit` entry of their own: it
    claims row 999 of this organization, and must not count."""
    operator = standin.operator
    sequence = standin.net.accounts[operator.public_key].sequence
    envelope = (
        TransactionBuilder(Account(operator.public_key, sequence), standin.net.passphrase, 200)
        .append_payment_op(standin.pool.public_key, Asset.native(), "0.0000001")
        .append_manage_data_op(attribution.DATA_NAME, attribution.encode(organization_id, 999))
        .add_memo(HashMemo(bytes(32)))
        .set_timeout(300)
        .build()
    )
    envelope.sign(operator)
    record, refused = standin.net.submit(envelope)
    assert record is not None, refused


# (d) how far back it looked


@pytest.fixture
async def short_sighted(standin: Standin) -> AsyncIterator[tuple[Any, Api]]:
    """Reads 50 transactions of the pool at most."""
    app = make_app(**standin.settings(audit_verify_ledger_max_transactions=50))
    async with app.router.lifespan_context(app), make_client(app) as http:
        yield app, Api(http)


async def test_the_report_says_how_far_back_it_looked(
    short_sighted: tuple[Any, Api], standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, api = short_sighted
    owner = await _with_history(api)
    await anchor_due(app.state.database)
    _pad(standin, 120)

    report = await _verify(api, owner)
    history = _pool_history(standin)
    assert report["ledger_reached_chain_start"] is False
    assert _at(report["ledger_checked_from"]) == _at(history[-50]["created_at"])
    # Past the look-back, the anchor the database records last is looked up by its hash.
    assert report["valid"] is True and report["anchors"] == 1
    assert report["latest_anchor"]["confirmed_on_ledger"] is True

    # Past the look-back with its record deleted, that anchor is not seen: a cut chain passes
    # while what is left is fresh, and fails once it is older than the interval plus grace.
    await _cut(owner.organization_id, 2, anchor_records=True)
    report = await _verify(api, owner)
    assert report["valid"] is True and report["anchors"] == 0
    assert report["unanchored_rows"] == 2
    _later(monkeypatch, _stale_after(app) + 60)
    report = await _verify(api, owner)
    assert report["valid"] is False and report["reason"].startswith("activity since ")


async def test_a_ledger_that_does_not_answer_is_not_valid(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await _with_history(network_api)
    await anchor_due(network_app.state.database)
    standin.net.down = True
    report = await _verify(network_api, owner)
    assert report["valid"] is False and report["ledger_status"] == "unavailable"
    assert report["first_broken_seq"] is None and "did not answer" in report["reason"]
    assert report["latest_anchor"]["confirmed_on_ledger"] is None
    assert report["checked"] == report["head_seq"]  # the rows themselves were checked


async def test_without_a_pool_account_anchoring_is_off(
    network_app: Any, network_api: Api, standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await _with_history(network_api)
    del standin.net.accounts[standin.pool.public_key]
    assert await anchor_due(network_app.state.database) == 0
    _later(monkeypatch, 86400)
    report = await _verify(network_api, owner)
    assert report["valid"] is True and report["ledger_status"] == "anchoring_off"
    assert report["latest_anchor"] is None and report["unanchored_rows"] == report["head_seq"]


def test_an_attribution_is_the_pool_s_own() -> None:
    pool, other = Keypair.random().public_key, Keypair.random().public_key
    value = attribution.encode("org_x", 7)
    ours = DataOperation(pool, attribution.DATA_NAME, value)
    assert attribution.read((ours,), pool) == attribution.Attribution(
        attribution.tag_of("org_x"), 7
    )
    assert attribution.read((DataOperation(other, attribution.DATA_NAME, value),), pool) is None
    assert attribution.tag_of("org_x") != attribution.tag_of("org_y")
