"""Anchoring a closed statement's SHA-256 on the ledger, as audit chain heads are: a
transaction from the platform's pool account whose hash memo is the document's hash."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.anchors import build_anchor
from app.core.clock import utcnow
from app.core.db import database_of
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.jobs.service import RetryLater
from app.statements.models import Statement
from app.statements.service import ANCHOR
from app.stellar.runtime import source_lock, stellar_of


@job_handler(ANCHOR, max_attempts=20)
async def anchor_statement(session: AsyncSession, job: Job) -> dict[str, Any]:
    """Once: an anchored statement is left alone. A transaction that landed while nobody was
    listening is anchored again on retry (two anchors of one hash: harmless)."""
    statement = (
        await session.execute(
            select(Statement).where(Statement.id == job.payload["statement_id"]).with_for_update()
        )
    ).scalar_one_or_none()
    if statement is None or statement.anchor_tx_hash is not None:
        return {"statement_id": job.payload["statement_id"], "anchored": True}
    stellar = stellar_of(session)
    pool = stellar.network.pool_address
    async with source_lock(database_of(session), pool):
        account = await stellar.ledger.account(pool)
        if account is None:
            raise RetryLater("the pool account does not exist on this network", 3600)
        verdict = await stellar.ledger.submit(
            build_anchor(stellar, account.sequence, statement.sha256, utcnow())
        )
    if not verdict.successful:
        raise RetryLater(f"the anchor was refused: {verdict.transaction_code}")
    statement.anchor_tx_hash, statement.anchor_ledger = verdict.hash, verdict.ledger
    statement.anchored_at = utcnow()
    return {"statement_id": statement.id, "transaction_hash": verdict.hash}
