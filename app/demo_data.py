"""A realistic month for the demo organization: sites, outages (most resolved, with SLA
results and payments), faults, an incident. Deterministic (seeded random), and only once: an
organization that already has outages is left alone."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import Database
from app.core.tenancy import tenant_session
from app.faults.models import Fault, FaultStatus
from app.lifecycle.resolve import resolve
from app.outages import service as outages
from app.outages.models import Outage
from app.outages.schemas import OutageCreate, ResolveRequest

SITES = [
    ("site_lagos_01", "Lagos Island Tower"),
    ("site_abuja_02", "Abuja Central Hub"),
    ("site_kano_03", "Kano North Cell"),
    ("site_ibadan_04", "Ibadan Ring Node"),
    ("site_ph_05", "Port Harcourt Coastal"),
    ("site_enugu_06", "Enugu Hill Relay"),
]
CAUSES = [
    ("power", "Mains failure; UPS batteries exhausted before the generator started"),
    ("fiber", "Fiber cut by road works on the backhaul route"),
    ("bgp", "BGP session flap after a configuration push"),
    ("radio", "Radio unit overheated during a heat wave"),
    ("microwave", "Microwave link misaligned by high winds"),
]
SERVICES = [["4G", "5G"], ["4G"], ["VoIP", "SMS"], ["5G", "fiber"], ["4G", "LTE", "SMS"]]
SEVERITIES = ["critical", "high", "high", "medium", "medium", "low"]
DEMO = Actor("system", "demo")


async def seed_demo_data(database: Database, organization_id: str, *, days: int = 30) -> int:
    """Returns how many outages were created (0 when the organization has some already)."""
    rng = random.Random(2026)  # noqa: S311 (demo data, not secrets)
    now = utcnow()
    created = 0
    async with tenant_session(database, organization_id) as session:
        if (await session.execute(select(func.count()).select_from(Outage))).scalar_one():
            return 0
        for day in range(days, 0, -1):
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                site_id, site_name = rng.choice(SITES)
                kind, cause = rng.choice(CAUSES)
                detected = now - timedelta(days=day, minutes=rng.randint(0, 1200))
                outage = await outages.create(
                    session,
                    organization_id,
                    DEMO,
                    OutageCreate(
                        site_name=site_name,
                        site_id=site_id,
                        severity=rng.choice(SEVERITIES),
                        description=f"{kind.upper()} incident at {site_name}",
                        services_affected=rng.choice(SERVICES),
                        affected_subscribers=rng.randint(200, 40000),
                        detected_at=detected,
                    ),
                )
                created += 1
                _faults(session, organization_id, outage, kind, cause, rng)
                if day > 2 or rng.random() < 0.4:
                    mttr = max(3, int(rng.lognormvariate(3.3, 0.6)))
                    restored = min(now, detected + timedelta(minutes=mttr))
                    await resolve(
                        session,
                        outage.id,
                        DEMO,
                        ResolveRequest(
                            resolution_notes=f"Restored after {mttr} minutes",
                            root_cause=cause,
                        ),
                        clock_reading=restored,  # history: the clock stopped back then
                    )
            await session.commit()
    return created


def _faults(
    session: AsyncSession,
    organization_id: str,
    outage: Outage,
    kind: str,
    cause: str,
    rng: random.Random,
) -> None:
    for n in range(rng.randint(1, 4)):
        device = f"dev_{outage.site_id}_{n}"
        at = outage.detected_at + timedelta(minutes=n)
        resolved = outage.detected_at < utcnow() - timedelta(days=1)
        session.add(
            Fault(
                organization_id=organization_id,
                resource_id=device,
                microservice_id="nms-poller",
                type=kind,
                severity=rng.choice(["CRITICAL", "HIGH", "MEDIUM", "WARNING"]),
                status=FaultStatus.resolved if resolved else FaultStatus.unresolved,
                message=f"{kind} alarm on {device}",
                cause=cause,
                resource_ancestry_path=f"region_ng|{outage.site_id}|{device}",
                ancestry=f"|region_ng|{outage.site_id}|{device}|",
                created_at=at,
                last_seen_at=at,
                occurrences=rng.randint(1, 12),
                resolved_at=at + timedelta(minutes=30) if resolved else None,
                ttl=int((at + timedelta(days=60)).timestamp()),
                outage_id=outage.id,
            )
        )
