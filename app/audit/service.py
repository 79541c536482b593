"""Starting and verifying the audit chain. Callers pass their session; nothing here commits.

A change's audit row is written unchained by the journal (`app.journal.journal.record`) in the
changing transaction: it exists if and only if the change commits, and no write waits for
another. The chainer
(`app/audit/chaining.py`) links it right after the commit; `verify` (`app/audit/verify.py`)
checks the chain and its anchors on the ledger.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import GENESIS_HASH, AuditChainHead
from app.audit.verify import ChainReport, LatestAnchor, verify

__all__ = [  # `verify` and its report live in app/audit/verify.py; callers reach them here
    "ChainReport",
    "LatestAnchor",
    "start_chain",
    "verify",
]


async def start_chain(session: AsyncSession, organization_id: str) -> None:
    session.add(AuditChainHead(organization_id=organization_id, seq=0, hash=GENESIS_HASH))
