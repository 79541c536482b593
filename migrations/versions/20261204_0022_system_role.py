"""crossing tenants takes a role of its own: the application role can no longer switch it on

Revision ID: 0022_system_role
Revises: 0021_keyed_login_throttles
Create Date: 2026-12-04 03:10:00

Until now every policy admitted all rows when the transaction set `app.cross_tenant = 'on'`,
which any statement of the application role could do itself. Now the setting counts only
for a member of the system role (`DATABASE_SYSTEM_ROLE`, default `apexchainx_system`), which
the application role is not: background work (sweeps, job claiming, audit chaining) becomes
it for its transaction, through a connection whose login may (decision 0022). The few reads a
request makes before it knows its organization (sign-in by email, the tokens and keys it
presents, a payer's sequence numbers) go through the SECURITY DEFINER functions below, owned
by the system role: the application role may call them and cannot redefine them.
"""

from collections.abc import Sequence

from alembic import op

from app.config import get_settings

revision: str = "0022_system_role"
down_revision: str | None = "0021_keyed_login_throttles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "tenant_isolation"
OLD_CROSSING = "(SELECT current_setting('app.cross_tenant', true)) = 'on'"
CROSSING = "(SELECT apexchainx_crosses_tenants())"

# name -> (arguments, result, body): plain SQL, parameters only, search_path pinned.
LOOKUPS: dict[str, tuple[str, str, str]] = {
    # The organization of a secret presented (its hash): a refresh token, an API key, a
    # password reset or a share token. Whoever holds the secret may learn where it belongs.
    "apexchainx_secret_owner": (
        "p_kind text, p_hash text",
        "TABLE (id text, organization_id text)",
        """
        SELECT id::text, organization_id::text FROM refresh_tokens
            WHERE p_kind = 'refresh_token' AND token_hash = p_hash
        UNION ALL
        SELECT id::text, organization_id::text FROM api_keys
            WHERE p_kind = 'api_key' AND key_hash = p_hash
        UNION ALL
        SELECT id::text, organization_id::text FROM password_resets
            WHERE p_kind = 'password_reset' AND token_hash = p_hash
        UNION ALL
        SELECT id::text, organization_id::text FROM fault_share_tokens
            WHERE p_kind = 'share_token' AND token_hash = p_hash
        """,
    ),
    # The one account a sign-in attempt is about (app/auth/service.py `_account_for`).
    "apexchainx_sign_in_account": (
        "p_email text, p_organization text",
        "TABLE (id text, organization_id text, password_hash text)",
        """
        SELECT id::text, organization_id::text, password_hash::text FROM users
        WHERE email = p_email AND is_active
          AND (p_organization IS NULL OR organization_id = p_organization)
        ORDER BY created_at, id
        LIMIT 1
        """,
    ),
    # An email's accounts: registration refuses a taken email; a lockout is told to each.
    "apexchainx_email_accounts": (
        "p_email text",
        "TABLE (id text, organization_id text, is_active boolean)",
        "SELECT id::text, organization_id::text, is_active FROM users WHERE email = p_email",
    ),
    # A payer's account has one sequence, whoever issued its envelopes
    # (app/payments/sequencing.py).
    "apexchainx_payer_sequences": (
        "p_payer text, p_above bigint, p_besides text, p_statuses text[],"
        " p_alive_after timestamptz",
        "TABLE (sequence bigint)",
        """
        SELECT sequence FROM payments
        WHERE from_address = p_payer AND status::text = ANY (p_statuses)
          AND sequence > p_above AND id <> p_besides
          AND (valid_until IS NULL OR valid_until > p_alive_after)
        """,
    ),
    "apexchainx_payer_waiting": (
        "p_payer text, p_sequence bigint, p_reason text",
        "TABLE (id text, organization_id text)",
        """
        SELECT id::text, organization_id::text FROM payments
        WHERE from_address = p_payer AND status = 'pending' AND pending_reason = p_reason
          AND sequence > p_sequence
        """,
    ),
}


def _names() -> tuple[str, str]:
    settings = get_settings()
    # Both names are held by the settings to [a-z_][a-z0-9_]*: safe to write into SQL.
    return settings.database_role, settings.database_system_role


def _create_system_role(system: str, app_role: str) -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{system}') THEN
                CREATE ROLE "{system}" NOLOGIN;
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
            IF NOT pg_has_role(current_user, '{system}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{system}', current_user);
            END IF;
        END
        $$
        """
    )
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{system}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{system}"')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{system}"')
    op.execute(f'REVOKE ALL ON alembic_version FROM "{system}"')
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{system}"'
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{system}"'
    )
    if app_role:  # what the application role may still do: call the functions, not define
        op.execute(f'REVOKE CREATE ON SCHEMA public FROM "{app_role}"')


def _crossing_function(system: str) -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION apexchainx_crosses_tenants() RETURNS boolean
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT coalesce(current_setting('app.cross_tenant', true), '') = 'on'
                AND pg_has_role(current_user, '{system}', 'MEMBER')
        $$
        """
    )


# The tenant clause as PostgreSQL prints it back in pg_policies.qual; group 1 is its column.
TENANT_CLAUSE_PATTERN = r"\(\((\w+)\)::text = \( SELECT current_setting\('app.tenant'"


def _rewrite_policies(crossing_from: str, crossing_to: str) -> None:
    """Every tenant policy gets the new crossing clause; its tenant clause stays as is."""
    op.execute(
        f"""
        DO $$
        DECLARE
            p record;
            tenant_column text;
            rule text;
        BEGIN
            FOR p IN SELECT tablename, qual FROM pg_policies
                     WHERE schemaname = 'public' AND policyname = '{POLICY}'
            LOOP
                tenant_column := substring(p.qual FROM {_quote(TENANT_CLAUSE_PATTERN)});
                IF tenant_column IS NULL THEN
                    RAISE EXCEPTION 'policy on % has an unexpected shape: %', p.tablename, p.qual;
                END IF;
                rule := format(
                    '%s OR %I = (SELECT current_setting(''app.tenant'', true))',
                    {_quote(crossing_to)}, tenant_column
                );
                EXECUTE format(
                    'ALTER POLICY {POLICY} ON %I USING (%s) WITH CHECK (%s)',
                    p.tablename, rule, rule
                );
            END LOOP;
        END
        $$
        """  # noqa: S608 (the policy name and clauses are this module's constants)
    )
    del crossing_from  # the tenant clause is read from the catalog; the old one is replaced


def _quote(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def _create_lookups(system: str, app_role: str) -> None:
    op.execute(f'GRANT CREATE ON SCHEMA public TO "{system}"')  # to own the functions
    for name, (arguments, result, body) in LOOKUPS.items():
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS {result}
            LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = public, pg_temp
            SET app.cross_tenant = 'on'
            AS $$ {body} $$
            """
        )
        signature = f"{name}({_types(arguments)})"
        op.execute(f'ALTER FUNCTION {signature} OWNER TO "{system}"')
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        if app_role:
            op.execute(f'GRANT EXECUTE ON FUNCTION {signature} TO "{app_role}"')
    op.execute(f'REVOKE CREATE ON SCHEMA public FROM "{system}"')


def _types(arguments: str) -> str:
    return ", ".join(argument.split()[1] for argument in arguments.split(", "))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    app_role, system = _names()
    _create_system_role(system, app_role)
    _crossing_function(system)
    _rewrite_policies(OLD_CROSSING, CROSSING)
    _create_lookups(system, app_role)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (arguments, _, _) in LOOKUPS.items():
        op.execute(f"DROP FUNCTION IF EXISTS {name}({_types(arguments)})")
    _rewrite_policies(CROSSING, OLD_CROSSING)
    op.execute("DROP FUNCTION IF EXISTS apexchainx_crosses_tenants()")
