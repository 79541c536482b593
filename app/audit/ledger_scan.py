"""An organization's audit anchors, as the ledger itself shows them.

The verifier reads the pool account's transactions newest first, a page at a time, up to
`AUDIT_VERIFY_LEDGER_MAX_TRANSACTIONS`. It keeps the anchors attributed to the organization,
and every other hash memo the pool wrote (anchors from before attribution, which only their
hash can match to a row; statements' anchors). How far back it read is part of the report.

It does not stop at the organization's creation or its first row: both are the database's
word, and a superuser who wipes a chain would move them too (record 0020).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.audit import attribution
from app.stellar.port import AccountTransaction, Ledger

PAGE = 200  # Horizon's largest page


@dataclass(frozen=True, slots=True)
class LedgerAnchor:
    seq: int
    hash: str
    transaction_hash: str
    ledger: int | None
    anchored_at: datetime


@dataclass
class LedgerScan:
    transactions_checked: int = 0
    checked_from: datetime | None = None  # the oldest transaction read
    whole_history: bool = False  # read back to the account's first transaction
    # Attributed to this organization, newest first.
    anchors: list[LedgerAnchor] = field(default_factory=list)
    # The pool's other hash memos (no attribution), by memo; the newest of each.
    memos: dict[str, AccountTransaction] = field(default_factory=dict)
    # Every transaction read: the hashes, and the pool's memo transactions in full.
    read: set[str] = field(default_factory=set)
    by_hash: dict[str, AccountTransaction] = field(default_factory=dict)

    def add(self, record: AccountTransaction, tag: bytes, pool: str) -> None:
        self.transactions_checked += 1
        self.read.add(record.hash)
        if self.checked_from is None or record.created_at < self.checked_from:
            self.checked_from = record.created_at
        if not record.successful or record.source != pool or record.memo_hash is None:
            return
        self.by_hash[record.hash] = record
        attributed = attribution.read(record.data, pool)
        if attributed is None:
            self.memos.setdefault(record.memo_hash, record)
        elif attributed.tag == tag:
            self.anchors.append(anchor_of(record, attributed.seq))

    def reaches(self, moment: datetime | None) -> bool:
        """The look-back covered `moment` (or the account's whole history). Ledger times are
        whole seconds: a transaction stamped in `moment`'s own second may have closed after
        it, so only one from an earlier second shows that nothing since was left unread."""
        if self.whole_history:
            return True
        if moment is None or self.checked_from is None:
            return False
        return self.checked_from < moment.replace(microsecond=0)


def anchor_of(record: AccountTransaction, seq: int) -> LedgerAnchor:
    assert record.memo_hash is not None
    return LedgerAnchor(seq, record.memo_hash, record.hash, record.ledger, record.created_at)


async def scan(ledger: Ledger, pool: str, organization_id: str, limit: int) -> LedgerScan:
    """Raises LedgerUnavailable."""
    tag = attribution.tag_of(organization_id)
    found = LedgerScan()
    cursor: str | None = None
    while found.transactions_checked < limit:
        page = await ledger.transactions(
            pool, cursor=cursor, limit=min(PAGE, limit - found.transactions_checked)
        )
        for record in page.records:
            found.add(record, tag, pool)
        if page.cursor is None:
            found.whole_history = True
            break
        cursor = page.cursor
    return found
