"""The registry of reactions: what follows, in the same transaction, from a kind of change.

Features record changes (`app.journal.journal.record`); what follows from them is declared in
one place, `app/reactions.py` (the composition root installs it), so no feature imports another
to hand on work, and the whole chain from a resolve to a payout reads in one file. A reaction
gets the session, the change and its subject (the object changed, already loaded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from app.journal.entries import Change

Reaction = Callable[[AsyncSession, "Change", Any], Awaitable[None]]


class Reactions:
    def __init__(self) -> None:
        self._by_kind: defaultdict[str, list[Reaction]] = defaultdict(list)
        self.installed = False

    def on(self, kind: str, reaction: Reaction) -> None:
        if reaction not in self._by_kind[kind]:
            self._by_kind[kind].append(reaction)

    def declared(self, kind: str) -> bool:
        if not self.installed:
            raise RuntimeError(
                "No reactions are installed: call app.reactions.install() at start-up."
            )
        return kind in self._by_kind

    def of(self, kind: str) -> tuple[Reaction, ...]:
        return tuple(self._by_kind.get(kind, ()))


REACTIONS = Reactions()
