"""Seeds one organization with 1 000 000 outages, straight in SQL (a minute, not an hour).

Descriptions are chosen so some words are common ("fiber": one outage in four) and some rare
("transformer": one in ten thousand); ids sort below every id the API creates.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from sqlalchemy.engine import make_url

SEED_SQL = """
INSERT INTO outages (id, organization_id, site_name, site_id, severity, status, description,
                     services_affected, region, detected_at, resolved_at, mttr_minutes,
                     created_at, updated_at)
SELECT 'out_00' || lpad(g::text, 24, '0'),
       $1,
       'Site ' || (g % 5000),
       'SITE' || (g % 5000),
       (ARRAY['critical', 'high', 'medium', 'low'])[1 + g % 4],
       CASE WHEN g % 10 < 7 THEN 'resolved' ELSE 'open' END,
       'Outage at site ' || (g % 5000) || ': ' ||
         CASE WHEN g % 4 = 0 THEN 'fiber cut near the road'
              WHEN g % 10000 = 7 THEN 'transformer fire in the shelter'
              ELSE 'power failure after a storm' END,
       '["4G", "5G"]'::jsonb,
       (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4],
       now() - make_interval(secs => 2000000 - g),
       CASE WHEN g % 10 < 7 THEN now() - make_interval(secs => 2000000 - g - 1800) END,
       CASE WHEN g % 10 < 7 THEN 30 END,
       now() - make_interval(secs => 2000000 - g),
       now() - make_interval(secs => 2000000 - g)
FROM generate_series(1, $2) AS g
"""


async def _seed(database_url: str, email: str, count: int) -> float:
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        organization_id = await connection.fetchval(
            "SELECT organization_id FROM users WHERE email = $1", email
        )
        started = time.perf_counter()
        await connection.execute(SEED_SQL, organization_id, count)
        return round(time.perf_counter() - started, 1)
    finally:
        await connection.close()


async def _vacuum_analyze(database_url: str) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute("VACUUM ANALYZE outages")
    finally:
        await connection.close()


def seed_million(database_url: str, email: str, count: int = 1_000_000) -> float:
    """Seconds the rows took to write. Statistics are left as the load left them: the first
    measurements run "right after seeding", before any ANALYZE of ours."""
    return asyncio.run(_seed(database_url, email, count))


def vacuum_analyze(database_url: str) -> None:
    asyncio.run(_vacuum_analyze(database_url))
