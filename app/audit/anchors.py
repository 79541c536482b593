"""Anchoring audit chain heads on the Stellar ledger.

A periodic sweep writes each organization's chain head, when it has moved since its last
anchor on this network, as the hash memo of a transaction from the platform's pool account
whose `manage_data` operation says whose chain and which row it is (app/audit/attribution.py),
and records the anchor. The database's owner can rewrite rows and recompute hashes only with
the chain key; with anchors, even the key does not help: rows up to an anchored sequence cannot
be removed or changed without contradicting a transaction on the ledger, which the database
does not control, and which the verifier finds on the ledger (app/audit/ledger_scan.py), not in
the database. On the local ledger (the default) the anchor is a real envelope on the simulated
ledger (held in the same database); on testnet or public, a real transaction.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Account, Asset, TransactionBuilder
from stellar_sdk.memo import HashMemo

from app.audit import attribution
from app.audit.models import AuditAnchor, AuditChainHead
from app.core.clock import utcnow
from app.core.db import Database
from app.core.tenancy import system_session, tenant_session
from app.stellar.port import LedgerUnavailable, Submission
from app.stellar.runtime import Stellar, source_lock, stellar_for

log = structlog.get_logger(__name__)

ONE_STROOP = "0.0000001"
VALID_SECONDS = 300


def build_anchor(
    stellar: Stellar,
    sequence: int,
    head_hash: str,
    now: datetime,
    attributed_to: bytes | None = None,
) -> str:
    """The signed envelope whose memo is the hash (32 bytes). An audit anchor's one operation
    writes its attribution; without one (a statement's anchor), a payment of one stroop from
    the pool to itself."""
    pool = stellar.network.pool_address
    builder = TransactionBuilder(
        Account(pool, sequence), stellar.network.passphrase, stellar.network.base_fee
    )
    if attributed_to is None:
        builder.append_payment_op(pool, Asset.native(), ONE_STROOP)
    else:
        builder.append_manage_data_op(attribution.DATA_NAME, attributed_to)
    envelope = (
        builder.add_memo(HashMemo(bytes.fromhex(head_hash)))
        .add_time_bounds(0, int(now.timestamp()) + VALID_SECONDS)
        .build()
    )
    envelope.sign(stellar.network.pool)
    return str(envelope.to_xdr())


async def heads_to_anchor(database: Database) -> list[tuple[str, int, str]]:
    """(organization, seq, hash) of every head that moved since its last anchor on the
    configured network (an instance moved to another network anchors every head again)."""
    network = stellar_for(database).network.name.value
    anchored = (
        select(AuditAnchor.organization_id, func.max(AuditAnchor.seq).label("seq"))
        .where(AuditAnchor.network == network)
        .group_by(AuditAnchor.organization_id)
        .subquery()
    )
    async with system_session(database, "find audit chain heads to anchor") as session:
        rows = await session.execute(
            select(AuditChainHead.organization_id, AuditChainHead.seq, AuditChainHead.hash)
            .outerjoin(anchored, anchored.c.organization_id == AuditChainHead.organization_id)
            .where(AuditChainHead.seq > func.coalesce(anchored.c.seq, 0))
        )
        return [(org, seq, head_hash) for org, seq, head_hash in rows]


async def anchor_head(database: Database, organization_id: str, seq: int, head_hash: str) -> bool:
    stellar = stellar_for(database)
    pool = stellar.network.pool_address
    try:
        async with source_lock(database, pool):
            account = await stellar.ledger.account(pool)
            if account is None:
                log.warning("audit_anchor_skipped", reason="the pool account does not exist")
                return False
            envelope = build_anchor(
                stellar,
                account.sequence,
                head_hash,
                utcnow(),
                attributed_to=attribution.encode(organization_id, seq),
            )
            verdict = await stellar.ledger.submit(envelope)
    except LedgerUnavailable:
        log.warning("audit_anchor_deferred", organization_id=organization_id)
        return False
    if not verdict.successful:
        log.warning("audit_anchor_refused", code=verdict.transaction_code)
        return False
    async with tenant_session(database, organization_id) as session:
        _record(session, organization_id, seq, head_hash, stellar, verdict)
        await session.commit()
    return True


def _record(
    session: AsyncSession,
    organization_id: str,
    seq: int,
    head_hash: str,
    stellar: Stellar,
    verdict: Submission,
) -> None:
    session.add(
        AuditAnchor(
            organization_id=organization_id,
            seq=seq,
            hash=head_hash,
            network=stellar.network.name.value,
            transaction_hash=verdict.hash,
            ledger=verdict.ledger,
            anchored_at=utcnow(),
        )
    )


async def anchor_due(database: Database) -> int:
    """The periodic sweep: how many heads were anchored."""
    anchored = 0
    for organization_id, seq, head_hash in await heads_to_anchor(database):
        anchored += await anchor_head(database, organization_id, seq, head_hash)
    return anchored
