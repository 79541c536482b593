"""Tamper evidence that the database's owner cannot forge: the chain is keyed (HMAC, the key
never in the database) and its heads are anchored on the Stellar ledger."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.audit.anchors import anchor_due
from app.core.clock import isoformat
from app.stellar.rules import memo_hash_of
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, Session
from tests.stellar.fixtures import Standin

HASHED = (
    "prev_hash",
    "seq",
    "organization_id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "event_type",
    "entity_type",
    "entity_id",
    "correlation_id",
    "data",
)


async def _owner_with_history(api: Api) -> Session:
    owner = await api.owner()
    for _ in range(3):
        await api.member(owner, "viewer")
    assert (await api.get("/audit/verify", owner)).json()["valid"] is True  # all chained
    return owner


async def _as_superuser(work: Any) -> None:
    """Someone who holds the database: above row-level security, able to lift the trigger."""
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await work(connection)
        await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    await engine.dispose()


def _forged_hash(row: dict[str, Any], prev_hash: str) -> str:
    """The best a forger without the key can do: a plain hash over the same fields."""
    document = {**{name: row[name] for name in HASHED}, "prev_hash": prev_hash}
    document["occurred_at"] = isoformat(document["occurred_at"])
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def test_a_rewritten_row_with_every_later_hash_recomputed_does_not_verify(
    api: Api,
) -> None:
    owner = await _owner_with_history(api)

    async def rewrite(connection: AsyncConnection) -> None:
        rows = (
            (
                await connection.execute(
                    text("SELECT * FROM audit_log WHERE organization_id = :org ORDER BY seq"),
                    {"org": owner.organization_id},
                )
            )
            .mappings()
            .all()
        )
        previous = rows[0]["prev_hash"]
        for index, row in enumerate(rows):
            values = dict(row)
            if index == 1:
                values["data"] = {"email": "evil@example.com"}
            new_hash = _forged_hash(values, previous)
            await connection.execute(
                text(
                    "UPDATE audit_log SET data = CAST(:data AS jsonb), prev_hash = :prev, "
                    "hash = :hash WHERE id = :id"
                ),
                {
                    "data": orjson.dumps(values["data"]).decode(),
                    "prev": previous,
                    "hash": new_hash,
                    "id": row["id"],
                },
            )
            previous = new_hash
        await connection.execute(
            text("UPDATE audit_chain_heads SET hash = :hash WHERE organization_id = :org"),
            {"hash": previous, "org": owner.organization_id},
        )

    await _as_superuser(rewrite)
    report = (await api.get("/audit/verify", owner)).json()
    assert report["valid"] is False
    assert report["first_broken_seq"] == 1 and "hash" in report["reason"]


async def test_cutting_the_anchored_end_of_the_chain_does_not_verify(app: Any, api: Api) -> None:
    owner = await _owner_with_history(api)
    assert await anchor_due(app.state.database) >= 1
    report = (await api.get("/audit/verify", owner)).json()
    anchored = report["head_seq"]
    assert report["valid"] is True and report["anchors"] == 1
    latest = report["latest_anchor"]
    assert latest["seq"] == anchored and latest["confirmed_on_ledger"] is True
    assert latest["network"] == "local" and latest["explorer_url"] is None

    async def cut(connection: AsyncConnection) -> None:
        keep = anchored - 2
        kept = (
            await connection.execute(
                text("SELECT hash FROM audit_log WHERE organization_id = :org AND seq = :seq"),
                {"org": owner.organization_id, "seq": keep},
            )
        ).scalar_one()
        await connection.execute(
            text("DELETE FROM audit_log WHERE organization_id = :org AND seq > :seq"),
            {"org": owner.organization_id, "seq": keep},
        )
        await connection.execute(
            text(
                "UPDATE audit_chain_heads SET seq = :seq, hash = :hash WHERE organization_id = :org"
            ),
            {"seq": keep, "hash": kept, "org": owner.organization_id},
        )

    await _as_superuser(cut)
    report = (await api.get("/audit/verify", owner)).json()
    assert report["valid"] is False
    assert "anchored on the ledger" in report["reason"]


async def test_heads_are_anchored_through_horizon(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await _owner_with_history(network_api)
    assert await anchor_due(network_app.state.database) == 1
    assert await anchor_due(network_app.state.database) == 0  # nothing moved since
    report = (await network_api.get("/audit/verify", owner)).json()
    latest = report["latest_anchor"]
    assert report["valid"] is True and latest["confirmed_on_ledger"] is True
    assert latest["explorer_url"] == (
        f"https://stellar.expert/explorer/testnet/tx/{latest['transaction_hash']}"
    )
    envelope = standin.net.transactions[latest["transaction_hash"]]["envelope_xdr"]
    assert memo_hash_of(envelope, standin.net.passphrase) == latest["hash"]
