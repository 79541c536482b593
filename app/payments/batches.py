"""Rewards paid in batches: one Stellar transaction of up to PAYOUT_BATCH_SIZE payment
operations, so that a burst of resolves is paid in a few ledger round trips instead of one
per payment (record 0013).

The exactly-once rules of single payouts hold for the batch as a whole. Members, envelope and
hash commit before the envelope is sent; every run looks an unfinished batch's hash up before
anything else; the same envelope is sent again while it can still land, and rebuilt (same
members, next sequence) only when it cannot. Stellar applies a transaction atomically: when an
operation fails, nobody was paid, so the payments whose operation failed are failed with their
own code and the others are detached and go out in the next batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.db import database_of
from app.core.ids import new_id
from app.jobs.models import Job, JobStatus
from app.outages.models import Outage
from app.payments import envelopes, payout, states
from app.payments.models import Payment, PaymentStatus, PayoutBatch, PayoutBatchStatus
from app.payments.planning import EXECUTE
from app.stellar import errors as stellar_errors
from app.stellar.port import LedgerUnavailable, Submission
from app.stellar.runtime import Stellar, source_lock, stellar_of

# One job drains at most this many batches before handing the worker back; the payments
# left have jobs of their own.
MAX_BATCHES_PER_RUN = 50


def batch_size(session: AsyncSession) -> int:
    return database_of(session).settings.payout_batch_size


def applies(session: AsyncSession, payment: Payment) -> bool:
    """Rewards the pool pays go in batches when batches are on; a payment already in a batch
    stays with it. A payment issued alone (before batches were turned on) finishes alone."""
    if payment.batch_id is not None:
        return True
    if batch_size(session) <= 1 or payment.transaction_hash is not None:
        return False
    return payment.from_address == stellar_of(session).network.pool_address


async def execute(session: AsyncSession, job: Job, payment: Payment) -> dict[str, Any]:
    """Pays `payment` and every other ready reward of its source, batch after batch. Safe to
    run again at any point: what is done is found done."""
    assert payment.from_address is not None
    source, stellar = payment.from_address, stellar_of(session)
    batches = 0
    async with source_lock(database_of(session), source):
        while batches < MAX_BATCHES_PER_RUN:
            batch = await _unfinished(session, source)
            fresh = batch is None
            if batch is None:
                batch = await _form(session, stellar, source)
            if batch is None:
                break
            batches += 1
            try:
                await _advance(session, stellar, batch, fresh=fresh)
            except LedgerUnavailable:
                if job.attempts < job.max_attempts:
                    raise  # the job retries with backoff, and looks the hash up first
                await _time_out(session, batch)
                await session.commit()
                break
            await session.commit()
    done = await session.get(Payment, payment.id, populate_existing=True)
    assert done is not None
    return {
        "payment_id": payment.id,
        "status": done.status,
        "transaction_hash": done.transaction_hash,
        "batches": batches,
    }


async def _unfinished(session: AsyncSession, source: str) -> PayoutBatch | None:
    query = (
        select(PayoutBatch)
        .where(PayoutBatch.source == source, PayoutBatch.status == PayoutBatchStatus.open)
        .order_by(PayoutBatch.created_at, PayoutBatch.id)
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def members_of(session: AsyncSession, batch: PayoutBatch) -> list[Payment]:
    query = (
        select(Payment)
        .where(Payment.batch_id == batch.id)
        .order_by(Payment.batch_index)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(query)).scalars())


async def _form(session: AsyncSession, stellar: Stellar, source: str) -> PayoutBatch | None:
    """The oldest ready rewards of the source become a batch, committed with its envelope."""
    query = (
        select(Payment)
        .where(
            Payment.from_address == source,
            Payment.status == PaymentStatus.pending,
            Payment.batch_id.is_(None),
            Payment.transaction_hash.is_(None),
        )
        .order_by(Payment.created_at, Payment.id)
        .limit(batch_size(session))
        .with_for_update()
    )
    members = list((await session.execute(query)).scalars())
    if not members:
        return None
    batch = PayoutBatch(id=new_id("pbt"), organization_id=members[0].organization_id, source=source)
    batch.size = len(members)
    session.add(batch)
    if not await _issue(session, stellar, batch, members):
        return None
    await session.commit()
    return batch


async def _issue(
    session: AsyncSession, stellar: Stellar, batch: PayoutBatch, members: list[Payment]
) -> bool:
    """A new envelope for the members with the source's next sequence number (not sent)."""
    payer = await stellar.ledger.account(batch.source)
    if payer is None:
        await _load_outages(session, members)
        for member in members:
            await payout.fail(
                session,
                member,
                stellar_errors.INSUFFICIENT_BALANCE,
                None,
                reason=stellar_errors.SOURCE_ACCOUNT_MISSING,
            )
        batch.status = PayoutBatchStatus.failed
        batch.envelope_xdr = batch.transaction_hash = ""  # never built: nothing to look up
        batch.valid_until = utcnow()
        await session.commit()
        return False
    envelope = envelopes.build_batch(
        stellar.network,
        batch_id=batch.id,
        source=batch.source,
        sequence=payer.sequence,
        payments=[(m.to_address or "", m.amount) for m in members],
        now=utcnow(),
        valid_seconds=stellar.network.tx_timeout_seconds,
    )
    envelope.sign(stellar.network.pool)
    built = envelopes.describe(envelope)
    batch.envelope_xdr, batch.transaction_hash, batch.valid_until = (
        built.xdr,
        built.hash,
        built.valid_until,
    )
    batch.sends, batch.unanswered = 0, False
    await session.flush()  # the batch row exists before members point at it
    for index, member in enumerate(members):
        member.batch_id, member.batch_index = batch.id, index
        member.transaction_hash, member.valid_until = built.hash, built.valid_until
        member.envelope_xdr, member.envelope_signed = None, True
        payout.attempt(session, member, "issued")
    return True


def _expired(batch: PayoutBatch) -> bool:
    return utcnow() > batch.valid_until + payout.EXPIRY_GRACE


async def _advance(
    session: AsyncSession, stellar: Stellar, batch: PayoutBatch, *, fresh: bool
) -> None:
    """A batch found unfinished may have been sent by a run that died before recording it
    (a send is never committed before it happens): its hash is looked up first."""
    if not fresh:
        found = await stellar.ledger.find(batch.transaction_hash)
        if found is not None:
            await _conclude(session, batch, found, "found")
            return
        if _expired(batch):  # it never landed and never will: same members, new envelope
            await _rebuild(session, stellar, batch)
        else:
            batch.unanswered = True  # a send nobody heard about may still land
    await _submit(session, stellar, batch)


async def _rebuild(session: AsyncSession, stellar: Stellar, batch: PayoutBatch) -> None:
    members = await members_of(session, batch)
    batch.rebuilds += 1
    if await _issue(session, stellar, batch, members):
        await session.commit()


async def _submit(session: AsyncSession, stellar: Stellar, batch: PayoutBatch) -> None:
    if batch.status != PayoutBatchStatus.open:
        return
    members = await members_of(session, batch)
    batch.sends += 1
    for member in members:
        member.attempts += 1
        member.submitted_at = utcnow()
    try:
        verdict = await stellar.ledger.submit(batch.envelope_xdr)
    except LedgerUnavailable:
        batch.unanswered = True
        for member in members:
            payout.attempt(session, member, "unknown", error_code=stellar_errors.TIMEOUT)
        await session.commit()
        raise
    if verdict.landed:
        await _conclude(session, batch, verdict, "submitted")
    elif verdict.transaction_code in payout.REBUILD_CODES:
        for member in members:
            payout.attempt(session, member, "refused", verdict)
        if batch.unanswered and not _expired(batch):
            # An earlier send got no answer: `tx_bad_seq` may mean it landed and the lookup
            # has not caught up. Look again later; rebuild only once it is dead.
            await session.commit()
            raise LedgerUnavailable("the batch may have landed; looking it up again later")
        if batch.rebuilds >= payout.MAX_REBUILDS:
            await _fail_all(session, batch, members, verdict)
        else:
            await _rebuild(session, stellar, batch)
            await _submit(session, stellar, batch)
    else:
        await _fail_all(session, batch, members, verdict)


async def _conclude(
    session: AsyncSession, batch: PayoutBatch, verdict: Submission, how: str
) -> None:
    """The landed verdict: every member confirmed, or (`tx_failed`, nobody paid) the members
    whose own operation failed are failed and the rest detached for the next batch."""
    members = await members_of(session, batch)
    await _load_outages(session, members)
    batch.ledger, batch.result_codes = (
        verdict.ledger,
        [
            verdict.transaction_code,
            *verdict.operation_codes,
        ],
    )
    if verdict.successful:
        batch.status = PayoutBatchStatus.confirmed
        for member in _unsettled(members):
            await payout.confirm(session, member, verdict, how)
        await _close_member_jobs(session, batch, members)
        return
    batch.status = PayoutBatchStatus.failed
    # Without a code per operation (a lookup that carries none) every member goes out again:
    # nobody was paid, and the next envelope names the offending operation.
    codes = verdict.operation_codes
    if len(codes) != len(members):
        codes = ("op_success",) * len(members)
    for member in _unsettled(members):
        code = codes[member.batch_index or 0]
        if code != "op_success":
            own = Submission(verdict.hash, False, verdict.transaction_code, (code,), verdict.ledger)
            await payout.fail(session, member, stellar_errors.failure_code(own), own)
        else:
            payout.attempt(session, member, "refused", verdict)
            _detach(member)
    await _close_member_jobs(session, batch, members)


async def _close_member_jobs(
    session: AsyncSession, batch: PayoutBatch, members: list[Payment]
) -> None:
    """The queued jobs of members settled here are done, in the transaction that settled
    them: their messages then find nothing to claim, instead of each taking a turn on the
    worker to find its payment paid (a thousand no-op turns trailing a burst)."""
    settled = [m.id for m in members if m.status != PaymentStatus.pending]
    if not settled:
        return
    await session.execute(
        update(Job)
        .where(
            Job.status == JobStatus.queued,
            Job.kind == EXECUTE,
            Job.payload["payment_id"].as_string().in_(settled),
        )
        .values(
            status=JobStatus.succeeded,
            finished_at=utcnow(),
            result={"settled_by_batch": batch.id},
        )
        .execution_options(synchronize_session=False)
    )


def _unsettled(members: list[Payment]) -> list[Payment]:
    """Pending members, and members timed out earlier (they may have been paid after all)."""
    return [
        m
        for m in members
        if m.status == PaymentStatus.pending
        or (m.status == PaymentStatus.failed and m.failure_code == stellar_errors.TIMEOUT)
    ]


def _detach(member: Payment) -> None:
    states.move(member, PaymentStatus.pending)
    payout.clear_failure(member)
    member.batch_id = member.batch_index = None
    member.transaction_hash = member.valid_until = None


async def _fail_all(
    session: AsyncSession, batch: PayoutBatch, members: list[Payment], verdict: Submission
) -> None:
    """Refused as a whole without applying (fee, auth, too many rebuilds): nobody was paid."""
    batch.status = PayoutBatchStatus.failed
    batch.result_codes = [verdict.transaction_code, *verdict.operation_codes]
    await _load_outages(session, members)
    for member in _unsettled(members):
        await payout.fail(session, member, stellar_errors.failure_code(verdict), verdict)


async def _time_out(session: AsyncSession, batch: PayoutBatch) -> None:
    """Out of attempts with no verdict: the members fail as timed out, and the batch stays
    open, so the next run (or a retry) looks its hash up before anything new is built."""
    members = await members_of(session, batch)
    await _load_outages(session, members)
    for member in members:
        if member.status == PaymentStatus.pending:
            await payout.fail(session, member, stellar_errors.TIMEOUT, None)


async def _load_outages(session: AsyncSession, members: list[Payment]) -> None:
    """The members' outages in one query, so settling each finds its outage loaded."""
    ids = list({m.outage_id for m in members})
    if ids:
        await session.execute(select(Outage).where(Outage.id.in_(ids)))
