"""the request's first statement: set the tenant and read the caller's session in one round
trip (PostgreSQL)

Revision ID: 0009_request_principal
Revises: 0008_accounts
Create Date: 2026-11-30 02:00:00

Every authenticated request used to start with two round trips: `set_config` for row-level
security, then the principal lookup. This function does both, in that order, so the lookup
already runs inside the tenant (SECURITY INVOKER: the policies bind it as they bind the
caller).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_request_principal"
down_revision: str | None = "0008_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION apexchainx_request_principal(
    p_tenant text, p_user text, p_session text
) RETURNS TABLE (
    user_id text, organization_id text, role text, email text, is_active boolean,
    revoked_at timestamptz, expires_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.tenant', p_tenant, true), set_config('app.cross_tenant', '', true);
    RETURN QUERY
        SELECT u.id::text, u.organization_id::text, u.role::text, u.email::text, u.is_active,
               f.revoked_at, f.expires_at
        FROM users u JOIN token_families f ON f.user_id = u.id
        WHERE u.id = p_user AND f.id = p_session;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS apexchainx_request_principal(text, text, text)")
