"""the request's first statement also switches off what planner methods its route declares

Revision ID: 0028_principal_sets_planner
Revises: 0027_payment_confirmed_is_final
Create Date: 2026-12-04 20:00:00

A list of outages walks an index newest first, and its transaction switches sorts off so the
planner cannot choose otherwise on missing statistics (app/lifecycle/queries.py). That was a
round trip of its own on every list; the function that sets the tenant and reads the caller
(0009) now sets these too, for the routes that declare them. Only `enable_*` planner methods
may be switched off, for the transaction only (SECURITY INVOKER: nothing a caller could not
SET LOCAL itself).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_principal_sets_planner"
down_revision: str | None = "0027_payment_confirmed_is_final"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETURNS = """RETURNS TABLE (
    user_id text, organization_id text, role text, email text, is_active boolean,
    revoked_at timestamptz, expires_at timestamptz
) LANGUAGE plpgsql AS $$
#variable_conflict use_column"""

LOOKUP = """
    RETURN QUERY
        SELECT u.id::text, u.organization_id::text, u.role::text, u.email::text, u.is_active,
               f.revoked_at, f.expires_at
        FROM users u JOIN token_families f ON f.user_id = u.id
        WHERE u.id = p_user AND f.id = p_session;
END
$$"""

WITH_PLANNER = f"""
CREATE FUNCTION apexchainx_request_principal(
    p_tenant text, p_user text, p_session text, p_planner_off text[]
) {RETURNS}
DECLARE
    method text;
BEGIN
    PERFORM set_config('app.tenant', p_tenant, true), set_config('app.cross_tenant', '', true);
    FOREACH method IN ARRAY coalesce(p_planner_off, '{{}}') LOOP
        IF method !~ '^enable_[a-z]+$' THEN
            RAISE EXCEPTION 'not a planner method: %', method
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM set_config(method, 'off', true);
    END LOOP;
{LOOKUP}
"""

WITHOUT = f"""
CREATE FUNCTION apexchainx_request_principal(
    p_tenant text, p_user text, p_session text
) {RETURNS}
BEGIN
    PERFORM set_config('app.tenant', p_tenant, true), set_config('app.cross_tenant', '', true);
{LOOKUP}
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION apexchainx_request_principal(text, text, text)")
        op.execute(WITH_PLANNER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION apexchainx_request_principal(text, text, text, text[])")
        op.execute(WITHOUT)
