"""Triage without an external AI service: keyword rules read severity and affected services
from an incident's text. Pure; the rules are documented in docs/api.md (decision 57).

Severity: the highest level whose phrases appear; medium when none does.
Services: known service words (a built-in vocabulary plus the organization's own services
from its outages and fault types) that appear as whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SEVERITY_PHRASES: dict[str, tuple[str, ...]] = {
    "critical": (
        "outage",
        "down",
        "all customers",
        "all users",
        "data loss",
        "breach",
        "total loss",
        "completely",
        "unreachable",
        "cannot connect",
        "no service",
        "emergency",
        "nationwide",
    ),
    "high": (
        "503",
        "502",
        "500",
        "5xx",
        "errors",
        "failing",
        "failure",
        "timeout",
        "timeouts",
        "degraded",
        "packet loss",
        "many customers",
        "eu customers",
        "region",
    ),
    "low": ("minor", "cosmetic", "typo", "intermittent for one", "single user", "question"),
}
ORDER = ("critical", "high", "low")
SERVICE_WORDS = (
    "2g",
    "3g",
    "4g",
    "5g",
    "lte",
    "voip",
    "sms",
    "dns",
    "bgp",
    "fiber",
    "fibre",
    "wan",
    "lan",
    "vpn",
    "power",
    "ups",
    "billing",
    "checkout",
    "payment",
    "payments",
    "api",
    "database",
    "auth",
    "login",
    "email",
    "web",
    "cdn",
    "backhaul",
    "microwave",
    "core",
    "radio",
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9_.:-]*", text.lower())


@dataclass(frozen=True, slots=True)
class Triage:
    severity: str
    services: list[str]
    matched: dict[str, list[str]]  # severity -> the phrases that matched


def classify(title: str, description: str, known_services: Iterable[str] = ()) -> Triage:
    text = f"{title}\n{description}".lower()
    padded = f" {' '.join(words(text))} "
    matched = {
        level: [
            p for p in SEVERITY_PHRASES[level] if f" {p} " in padded or (" " in p and p in text)
        ]
        for level in ORDER
    }
    severity = next((level for level in ORDER[:2] if matched[level]), None)
    if severity is None:
        severity = "low" if matched["low"] else "medium"
    vocabulary = {s.lower(): s for s in (*SERVICE_WORDS, *known_services) if s}
    present = set(words(text))
    services = sorted({vocabulary[w] for w in present if w in vocabulary})
    return Triage(severity, services, {k: v for k, v in matched.items() if v})
