"""Verifying an organization's audit chain (`GET /audit/verify`). Reads only.

Every row's keyed hash is recomputed in order up to the head read first (rows appended while
verifying are left for the next run). The chain is then held against its anchors as the ledger
shows them (app/audit/ledger_scan.py): the database's own anchor records are hints, each
checked on the ledger, never proof. Record 0020 says what stays undetectable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import attribution
from app.audit.chain import verifying_keys
from app.audit.chain_walk import Walk, walk
from app.audit.ledger_scan import LedgerAnchor, LedgerScan, scan
from app.audit.models import AuditAnchor, AuditChainHead
from app.config import Settings
from app.core.clock import isoformat, utcnow
from app.journal.models import AuditLog
from app.stellar.port import AccountTransaction, LedgerUnavailable, Submission
from app.stellar.runtime import Stellar, stellar_of

CHECKED, ANCHORING_OFF, UNAVAILABLE = "checked", "anchoring_off", "unavailable"
_Failure = tuple[int | None, str]  # first broken seq, reason


@dataclass(frozen=True, slots=True)
class LatestAnchor:
    seq: int
    hash: str
    network: str
    transaction_hash: str
    ledger: int | None
    anchored_at: datetime
    explorer_url: str | None
    # True: found on the ledger with this memo; None: the ledger did not answer.
    confirmed_on_ledger: bool | None


@dataclass(frozen=True, slots=True)
class ChainReport:
    valid: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None
    reason: str | None
    verified_at: datetime
    anchors: int = 0  # of this chain, found on the ledger
    latest_anchor: LatestAnchor | None = None
    # Rows join the chain as their transaction commits: none is ever left unchained.
    unchained: int = 0
    oldest_unchained_at: datetime | None = None
    ledger_status: str = CHECKED
    ledger_checked_from: datetime | None = None
    ledger_reached_chain_start: bool = False
    # The rows after the latest anchor: the window in which a tail can still go unnoticed.
    unanchored_rows: int = 0
    unanchored_since: datetime | None = None


@dataclass
class _Ledger:
    """What the ledger says about this chain: its anchors, by transaction hash."""

    status: str
    scan: LedgerScan = field(default_factory=LedgerScan)
    anchors: dict[str, LedgerAnchor] = field(default_factory=dict)
    problem: _Failure | None = None  # an anchor record the ledger contradicts
    detail: str | None = None  # why it did not answer


async def verify(session: AsyncSession, organization_id: str, settings: Settings) -> ChainReport:
    head = (
        await session.execute(
            select(AuditChainHead).where(AuditChainHead.organization_id == organization_id)
        )
    ).scalar_one_or_none()
    if head is None:
        return ChainReport(False, 0, 0, 1, "the chain head is missing", utcnow())
    stellar = stellar_of(session)
    # Read before the ledger: an anchor is recorded only once it landed, so the look-back
    # below sees every record read here.
    recorded = await _recorded(
        session,
        organization_id,
        stellar.network.name.value,
        settings.audit_verify_ledger_max_transactions + 1,
    )
    ledger = await _read_ledger(stellar, organization_id, recorded, settings)
    keys = verifying_keys(settings)
    done = await walk(session, organization_id, head.seq, keys, ledger.anchors, ledger.scan.memos)
    latest = _shown(stellar, ledger, _latest(ledger, head.seq), recorded)
    unanchored, since = await _window(
        session, organization_id, head.seq, latest.seq if latest else 0
    )
    failure = _chain_failure(head, done, ledger) or await _beyond_head(
        session, organization_id, head.seq, ledger
    )
    if failure is None and ledger.status == CHECKED and since is not None:
        failure = _stale(since, head.seq, unanchored, settings)
    unchained, oldest = await _unchained(session, organization_id)
    return ChainReport(
        valid=failure is None,
        checked=done.checked,
        head_seq=head.seq,
        first_broken_seq=failure[0] if failure else None,
        reason=failure[1] if failure else None,
        verified_at=utcnow(),
        anchors=len(ledger.anchors),
        latest_anchor=latest,
        unchained=unchained,
        oldest_unchained_at=oldest,
        ledger_status=ledger.status,
        ledger_checked_from=_checked_from(ledger, done.started_at),
        ledger_reached_chain_start=ledger.status == CHECKED
        and ledger.scan.reaches(done.started_at),
        unanchored_rows=unanchored,
        unanchored_since=since,
    )


def _checked_from(ledger: _Ledger, chain_start: datetime | None) -> datetime | None:
    """How far back the ledger was read, told in this organization's terms: the chain's start
    once the look-back reached it. (The pool account's history is shared: how many of its
    transactions were read, or how old the oldest is, would tell one organization how busy
    the others are.) Short of the start, the time reached is the only honest answer."""
    if chain_start is not None and ledger.scan.reaches(chain_start):
        return chain_start
    return ledger.scan.checked_from


async def _unchained(session: AsyncSession, organization_id: str) -> tuple[int, datetime | None]:
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(AuditLog.occurred_at)).where(
                AuditLog.organization_id == organization_id, AuditLog.seq.is_(None)
            )
        )
    ).one()
    return count, oldest


async def _recorded(
    session: AsyncSession, organization_id: str, network: str, limit: int
) -> list[AuditAnchor]:
    """The newest anchor records, by seq: one per pool transaction, so `limit` of them reach
    further back than a look-back of `limit` transactions."""
    rows = await session.execute(
        select(AuditAnchor)
        .where(AuditAnchor.organization_id == organization_id, AuditAnchor.network == network)
        .order_by(AuditAnchor.anchored_at.desc())
        .limit(limit)
    )
    return sorted(rows.scalars(), key=lambda a: (a.seq, a.anchored_at))


async def _read_ledger(
    stellar: Stellar, organization_id: str, recorded: list[AuditAnchor], settings: Settings
) -> _Ledger:
    pool = stellar.network.pool_address
    try:
        if await stellar.ledger.account(pool) is None:
            return _Ledger(ANCHORING_OFF)
        found = await scan(
            stellar.ledger, pool, organization_id, settings.audit_verify_ledger_max_transactions
        )
        ledger = _Ledger(CHECKED, found, {a.transaction_hash: a for a in found.anchors})
        await _confirm_recorded(stellar, organization_id, recorded, ledger)
    except LedgerUnavailable as exc:
        return _Ledger(UNAVAILABLE, detail=str(exc) or type(exc).__name__)
    return ledger


async def _confirm_recorded(
    stellar: Stellar, organization_id: str, recorded: list[AuditAnchor], ledger: _Ledger
) -> None:
    """Each anchor record the look-back covers, and the newest wherever it is, must be on the
    ledger as recorded; those found count as anchors (the newest may be older than the
    look-back: an organization idle for a while)."""
    tag, pool, read = attribution.tag_of(organization_id), stellar.network.pool_address, ledger.scan
    for anchor in reversed(recorded):
        tx_hash = anchor.transaction_hash
        known = ledger.anchors.get(tx_hash)
        if known is not None:
            if (known.seq, known.hash) != (anchor.seq, anchor.hash):
                ledger.problem = (anchor.seq, _not_on_ledger(anchor))
                return
            continue
        found: AccountTransaction | Submission | None = read.by_hash.get(tx_hash)
        if found is None:
            covered = read.checked_from is None or anchor.anchored_at >= read.checked_from
            if not (
                covered or read.whole_history or tx_hash in read.read or anchor is recorded[-1]
            ):
                continue  # older than the look-back: the newest record stands for it
            found = await stellar.ledger.find(tx_hash)
        verdict = _verdict(found, anchor, tag, pool)
        if verdict is False:
            ledger.problem = (anchor.seq, _not_on_ledger(anchor))
            return
        if verdict and found is not None:
            at = found.created_at if isinstance(found, AccountTransaction) else anchor.anchored_at
            ledger.anchors[tx_hash] = LedgerAnchor(
                anchor.seq, anchor.hash, tx_hash, found.ledger, at
            )


def _not_on_ledger(anchor: AuditAnchor) -> str:
    return (
        f"the anchor of row {anchor.seq} recorded in the database is not on the ledger as "
        f"recorded (transaction {anchor.transaction_hash})"
    )


def _verdict(
    found: AccountTransaction | Submission | None, anchor: AuditAnchor, tag: bytes, pool: str
) -> bool | None:
    """True: the ledger holds this anchor, from the pool, with the hash as its memo and this
    row as its attribution (anchors from before attribution have none). False: it
    contradicts the record. None: the memo is there but not from this pool (an anchor of a
    pool account used before a rotation, or anyone's transaction): it vouches for nothing."""
    if found is None or not found.successful or found.memo_hash != anchor.hash:
        return False
    if found.source != pool:
        return None
    said = attribution.read(found.data, pool)
    return said is None or (said.tag == tag and said.seq == anchor.seq)


def _chain_failure(head: AuditChainHead, done: Walk, ledger: _Ledger) -> _Failure | None:
    if done.problem is not None:
        return done.broken, done.problem
    if head.seq != done.next_seq - 1 or head.hash != done.last_hash:
        return done.next_seq, "rows missing at the end"
    if ledger.status == UNAVAILABLE:
        return None, (
            f"the ledger did not answer ({ledger.detail}): the rows match their keyed hashes, "
            "but their anchors could not be checked"
        )
    return ledger.problem


async def _beyond_head(
    session: AsyncSession, organization_id: str, head_seq: int, ledger: _Ledger
) -> _Failure | None:
    """Anchors past the head read first: rows chained since then are fine; a row the ledger
    anchors that is gone means the chain was cut back (its anchor records deleted or not)."""
    ahead = sorted((a for a in ledger.anchors.values() if a.seq > head_seq), key=lambda a: -a.seq)
    if not ahead:
        return None
    rows = await session.execute(
        select(AuditLog.seq, AuditLog.hash).where(
            AuditLog.organization_id == organization_id,
            AuditLog.seq.in_([a.seq for a in ahead]),
        )
    )
    stored = dict(rows.all())
    for anchor in ahead:
        if anchor.seq not in stored:
            return head_seq + 1, (
                f"rows {head_seq + 1} to {anchor.seq} are missing: row {anchor.seq} is "
                f"anchored on the ledger (transaction {anchor.transaction_hash})"
            )
        if stored[anchor.seq] != anchor.hash:
            return anchor.seq, "row does not match the hash anchored on the ledger"
    return None


def _latest(ledger: _Ledger, head_seq: int) -> LedgerAnchor | None:
    within = [a for a in ledger.anchors.values() if a.seq <= head_seq]
    return max(within, key=lambda a: (a.seq, a.anchored_at), default=None)


async def _window(
    session: AsyncSession, organization_id: str, head_seq: int, anchored_seq: int
) -> tuple[int, datetime | None]:
    """The rows after the latest anchor, and when the first of them happened."""
    first = anchored_seq + 1
    if first > head_seq:
        return 0, None
    since = (
        await session.execute(
            select(AuditLog.occurred_at).where(
                AuditLog.organization_id == organization_id, AuditLog.seq == first
            )
        )
    ).scalar_one_or_none()
    return head_seq - first + 1, since


def _stale(since: datetime, head_seq: int, unanchored: int, settings: Settings) -> _Failure | None:
    """The sweep anchors every head that moved each interval: rows older than that (and a
    grace) with no anchor mean anchoring stopped, and nothing outside the database vouches
    for them."""
    allowed = settings.audit_anchor_interval_seconds + settings.audit_anchor_grace_seconds
    if since >= utcnow() - timedelta(seconds=allowed):
        return None
    first = head_seq - unanchored + 1
    return first, (
        f"activity since {isoformat(since)} is not anchored on the ledger "
        f"(rows {first} to {head_seq})"
    )


def _shown(
    stellar: Stellar, ledger: _Ledger, latest: LedgerAnchor | None, recorded: list[AuditAnchor]
) -> LatestAnchor | None:
    if ledger.status == UNAVAILABLE and recorded:  # what the database says, unconfirmed
        newest = recorded[-1]
        latest = LedgerAnchor(
            newest.seq, newest.hash, newest.transaction_hash, newest.ledger, newest.anchored_at
        )
    if latest is None or ledger.status == ANCHORING_OFF:
        return None
    return LatestAnchor(
        seq=latest.seq,
        hash=latest.hash,
        network=stellar.network.name.value,
        transaction_hash=latest.transaction_hash,
        ledger=latest.ledger,
        anchored_at=latest.anchored_at,
        explorer_url=stellar.network.explorer_url(latest.transaction_hash),
        confirmed_on_ledger=True if ledger.status == CHECKED else None,
    )
