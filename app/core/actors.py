"""Who made a change: a user, an API key, or the platform itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "user", "api_key" or "system"
    id: str | None = None


SYSTEM = Actor("system")
