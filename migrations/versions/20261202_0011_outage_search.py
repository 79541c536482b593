"""outage search through the GIN index under row-level security; no organization-only index
on outages

Revision ID: 0011_outage_search
Revises: 0010_keyed_audit_chain
Create Date: 2026-12-02 01:00:00

Under row-level security PostgreSQL evaluates the policy before any operator that is not
leakproof, and `@@` is not: a search could not use `ix_outages_search` and read the whole
organization instead (over a second at a million outages). `apexchainx_outage_matches` runs the
search as a role that owns nothing and reads outages through a policy of its own; the function
itself confines the search to the caller's tenant (`app.tenant`), and only the application
role may call it. See docs/decisions/0011-search-under-row-level-security.md.
"""

from collections.abc import Sequence

from alembic import op

from app.config import get_settings

revision: str = "0011_outage_search"
down_revision: str | None = "0010_keyed_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "apexchainx_outage_matches(text, integer)"
# The matches come from the GIN index whatever the statistics say (right after a bulk load they
# know nothing of the organization or the word): the organization test is written so no index
# serves it, and sequential scans are off. Unordered and limited, the scan stops at `p_cap`:
# a caller that gets `p_cap` ids knows only that the word is common.
FUNCTION = """
CREATE OR REPLACE FUNCTION apexchainx_outage_matches(p_query text, p_cap integer)
RETURNS TABLE (id text) LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp SET enable_seqscan = off AS $$
    SELECT o.id::text FROM outages o
    WHERE o.organization_id || '' = coalesce(current_setting('app.tenant', true), '')
      AND o.search_vector @@ plainto_tsquery('simple', p_query)
    LIMIT p_cap
$$
"""


def _upgrade_postgresql(app_role: str) -> None:
    role = f"{app_role or 'apexchainx'}_search"[:63]
    # Names come from DATABASE_ROLE, which the settings hold to [a-z_][a-z0-9_]*.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END
        $$
        """  # noqa: S608
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);
            END IF;
        END
        $$
        """
    )
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute(f'GRANT SELECT ON outages TO "{role}"')
    op.execute(f'CREATE POLICY search_index ON outages FOR SELECT TO "{role}" USING (true)')
    op.execute(FUNCTION)
    op.execute(f'ALTER FUNCTION {SIGNATURE} OWNER TO "{role}"')
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    # Without DATABASE_ROLE the service connects as the login user running this migration.
    grantee = f'"{app_role}"' if app_role else "CURRENT_USER"
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {grantee}")


def upgrade() -> None:
    op.drop_index(op.f("ix_outages_organization_id"), table_name="outages")
    app_role = get_settings().database_role
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql(app_role)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
        op.execute("DROP POLICY IF EXISTS search_index ON outages")
    op.create_index(op.f("ix_outages_organization_id"), "outages", ["organization_id"])
