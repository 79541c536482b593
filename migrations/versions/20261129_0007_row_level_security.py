"""row-level security on every tenant-owned table; the application role; idempotency records
are written with the response (no in-flight rows)

Revision ID: 0007_row_level_security
Revises: 0006_incidents
Create Date: 2026-11-29 23:00:00

The application acts as a role that owns nothing (`DATABASE_ROLE`, default `apexchainx_app`;
it `SET ROLE`s to it on every connection), so the policies below apply to it. Each policy
admits the rows of the organization set for the transaction (`app.tenant`), or every row when
the transaction says it crosses tenants on purpose (`app.cross_tenant = 'on'`). A transaction
that sets neither sees no rows. FORCE makes the policies bind the tables' owner too; only a
superuser (or BYPASSRLS) is above them, and the service refuses to start as one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db
from app.config import get_settings

revision: str = "0007_row_level_security"
down_revision: str | None = "0006_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose rows belong to one organization, and the column that names it.
TENANT_TABLES: dict[str, str] = {
    "api_keys": "organization_id",
    "audit_chain_heads": "organization_id",
    "audit_log": "organization_id",
    "disputes": "organization_id",
    "events": "organization_id",
    "fault_comments": "organization_id",
    "fault_rules": "organization_id",
    "fault_share_tokens": "organization_id",
    "faults": "organization_id",
    "idempotency_keys": "scope",
    "incidents": "organization_id",
    "investigations": "organization_id",
    "jobs": "organization_id",
    "monthly_usage": "organization_id",
    "organizations": "id",
    "outage_rcas": "organization_id",
    "outage_timeline": "organization_id",
    "outages": "organization_id",
    "payment_attempts": "organization_id",
    "payments": "organization_id",
    "refresh_tokens": "organization_id",
    "sla_policies": "organization_id",
    "sla_results": "organization_id",
    "token_families": "organization_id",
    "users": "organization_id",
    "wallets": "organization_id",
    "webhook_attempts": "organization_id",
    "webhook_deliveries": "organization_id",
    "webhooks": "organization_id",
}

POLICY = "tenant_isolation"
# The settings are read through scalar subqueries: PostgreSQL evaluates each once per
# statement (an InitPlan) instead of once per row scanned.
_RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR {column} = (SELECT current_setting('app.tenant', true))"
)


def _create_role(role: str) -> None:
    # Roles belong to the cluster, not the database: another database of this cluster (or a
    # concurrent migration) may have created it already. `role` is DATABASE_ROLE, which the
    # settings hold to [a-z_][a-z0-9_]*: it is safe to write into the statements below.
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
    # The login user running the migrations (and, by default, the service) may act as it.
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
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    op.execute(f'REVOKE ALL ON alembic_version FROM "{role}"')
    # Tables of later migrations, created by this same user, are granted as they appear.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"'
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}"'
    )


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("locked_at")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DELETE FROM idempotency_keys WHERE status = 'in_flight'")
    role = get_settings().database_role
    if role:
        _create_role(role)
    for table, column in TENANT_TABLES.items():
        rule = _RULE.format(column=column)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({rule}) WITH CHECK ({rule})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(
            sa.Column(
                "locked_at", app.core.db.UTCDateTime(), nullable=False, server_default=sa.func.now()
            )
        )
