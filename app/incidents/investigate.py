"""An investigation: what was happening around the incident, what it resembles, and the
likely causes, each with its evidence. Reads only; runs as a background job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import isoformat
from app.faults.models import Fault
from app.incidents import similarity
from app.incidents.models import Incident
from app.outages.models import Outage, OutageStatus

BEFORE = timedelta(hours=6)
AFTER = timedelta(hours=1)
CORPUS = 2000
SIMILAR = 5
SIMILAR_FLOOR = 0.1
RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("deploy", "deployment", "release", "rollout", "upgrade"),
        "A recent change (deployment or upgrade)",
    ),
    (("power", "ups", "generator", "battery", "mains"), "Power failure at a site"),
    (("fiber", "fibre", "cut", "backhaul"), "Fiber or backhaul cut"),
    (("bgp", "route", "routing", "dns"), "Routing or DNS misconfiguration"),
    (("certificate", "tls", "ssl", "expired"), "An expired certificate"),
    (("capacity", "load", "saturated", "congestion", "spike"), "Capacity exhausted under load"),
)


def _text(incident: Incident) -> str:
    return f"{incident.title}\n{incident.description}"


async def correlated(session: AsyncSession, incident: Incident) -> tuple[list[Outage], list[Fault]]:
    start, end = incident.created_at - BEFORE, incident.created_at + AFTER
    outages = list(
        (
            await session.execute(
                select(Outage)
                .where(
                    or_(
                        Outage.status != OutageStatus.resolved,
                        Outage.detected_at.between(start, end),
                    )
                )
                .order_by(Outage.detected_at.desc())
                .limit(50)
            )
        ).scalars()
    )
    faults = list(
        (
            await session.execute(
                select(Fault)
                .where(Fault.created_at.between(start, end))
                .order_by(Fault.id.desc())
                .limit(100)
            )
        ).scalars()
    )
    services = set(incident.services)
    words = set(similarity.tokens(_text(incident)))

    def relevant_outage(o: Outage) -> bool:
        return bool(services & set(o.services_affected)) or bool(
            words & set(similarity.tokens(f"{o.site_name} {o.site_id or ''}"))
        )

    def relevant_fault(f: Fault) -> bool:
        return f.type in services or bool(
            words & set(similarity.tokens(f"{f.type} {f.resource_id} {f.ancestry}"))
        )

    return [o for o in outages if relevant_outage(o)], [f for f in faults if relevant_fault(f)]


async def similar(
    session: AsyncSession, incident: Incident
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    past_outages = list(
        (
            await session.execute(
                select(Outage)
                .where(Outage.status == OutageStatus.resolved)
                .order_by(Outage.id.desc())
                .limit(CORPUS)
            )
        ).scalars()
    )
    past_incidents = list(
        (
            await session.execute(
                select(Incident)
                .where(Incident.id != incident.id)
                .order_by(Incident.id.desc())
                .limit(CORPUS)
            )
        ).scalars()
    )
    documents = [
        f"{o.site_name} {o.description or ''} {o.root_cause or ''} {o.resolution_notes or ''} "
        f"{' '.join(o.services_affected)}"
        for o in past_outages
    ] + [_text(i) for i in past_incidents]
    scores = similarity.rank(_text(incident), documents)
    outage_hits = sorted(
        zip(scores[: len(past_outages)], past_outages, strict=True), key=lambda p: -p[0]
    )
    incident_hits = sorted(
        zip(scores[len(past_outages) :], past_incidents, strict=True), key=lambda p: -p[0]
    )
    return (
        [
            {
                "outage_id": o.id,
                "site_name": o.site_name,
                "similarity": round(s, 3),
                "root_cause": o.root_cause,
                "resolution_notes": o.resolution_notes,
            }
            for s, o in outage_hits[:SIMILAR]
            if s >= SIMILAR_FLOOR
        ],
        [
            {
                "incident_id": i.id,
                "title": i.title,
                "similarity": round(s, 3),
                "severity": i.severity,
            }
            for s, i in incident_hits[:SIMILAR]
            if s >= SIMILAR_FLOOR
        ],
    )


def hypotheses(
    incident: Incident,
    outages: list[Outage],
    faults: list[Fault],
    similar_outages: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Candidate causes with a score in 0..1 and the evidence behind each, best first."""
    found: dict[str, dict[str, Any]] = {}

    def add(cause: str, weight: float, evidence: dict[str, Any]) -> None:
        entry = found.setdefault(cause, {"cause": cause, "score": 0.0, "evidence": []})
        entry["score"] += weight
        entry["evidence"].append(evidence)

    for fault in faults:
        weight = {"CRITICAL": 0.5, "HIGH": 0.4, "MEDIUM": 0.25}.get(fault.severity, 0.15)
        add(
            fault.cause,
            weight,
            {
                "kind": "fault",
                "fault_id": fault.id,
                "type": fault.type,
                "at": isoformat(fault.created_at),
            },
        )
    for hit in similar_outages:
        if hit["root_cause"]:
            add(
                hit["root_cause"],
                0.6 * hit["similarity"],
                {
                    "kind": "similar_outage",
                    "outage_id": hit["outage_id"],
                    "similarity": hit["similarity"],
                },
            )
    for outage in outages:
        if outage.root_cause:
            add(outage.root_cause, 0.3, {"kind": "correlated_outage", "outage_id": outage.id})
    text = set(similarity.tokens(_text(incident)))
    for keywords, cause in RULES:
        hits = sorted(text & set(keywords))
        if hits:
            add(cause, 0.2 + 0.1 * len(hits), {"kind": "keywords", "words": hits})
    ranked = sorted(found.values(), key=lambda h: -h["score"])
    for entry in ranked:
        entry["score"] = round(min(1.0, entry["score"]), 3)
    return ranked[:10]


async def findings(session: AsyncSession, incident: Incident) -> dict[str, Any]:
    outages, faults = await correlated(session, incident)
    similar_outages, similar_incidents = await similar(session, incident)
    return {
        "window": {
            "start": isoformat(incident.created_at - BEFORE),
            "end": isoformat(incident.created_at + AFTER),
        },
        "correlated_outages": [
            {
                "outage_id": o.id,
                "site_name": o.site_name,
                "severity": o.severity,
                "status": o.status,
                "services_affected": o.services_affected,
                "detected_at": isoformat(o.detected_at),
            }
            for o in outages
        ],
        "correlated_faults": [
            {
                "fault_id": f.id,
                "resource_id": f.resource_id,
                "type": f.type,
                "severity": f.severity,
                "cause": f.cause,
                "created_at": isoformat(f.created_at),
                "outage_id": f.outage_id,
            }
            for f in faults
        ],
        "similar_outages": similar_outages,
        "similar_incidents": similar_incidents,
        "hypotheses": hypotheses(incident, outages, faults, similar_outages),
    }
