"""Who may approve what moves money: a person with approver rights (admin or owner) who is
not the one whose claim the approval settles."""

from __future__ import annotations

from app.core.actors import Actor
from app.core.errors import Forbidden


def second_person(actor: Actor, *parties: str | None, what: str) -> None:
    """An approval counts only from a person other than the ones whose claim it settles."""
    if actor.type != "user":
        raise Forbidden(f"{what} needs a person with approver rights, not an API key.")
    if actor.id in {p for p in parties if p}:
        raise Forbidden(
            f"{what} needs a second person: whoever made or stands behind the claim cannot "
            "approve it.",
            details={"rule": "second_person", "actor_id": actor.id},
        )
