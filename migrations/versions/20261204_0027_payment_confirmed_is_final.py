"""a confirmed payment is final: the database refuses to move its status anywhere else

Revision ID: 0027_payment_confirmed_is_final
Revises: 0026_outage_imports
Create Date: 2026-12-04 17:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027_payment_confirmed_is_final"
down_revision: str | None = "0026_outage_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "a confirmed payment is final"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION apexchainx_payment_confirmed_is_final() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.status = 'confirmed' AND NEW.status <> 'confirmed' THEN
                    RAISE EXCEPTION '{MESSAGE} (payment %)', OLD.id
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER payments_confirmed_is_final BEFORE UPDATE OF status ON payments "
            "FOR EACH ROW EXECUTE FUNCTION apexchainx_payment_confirmed_is_final()"
        )
        return
    op.execute(
        "CREATE TRIGGER payments_confirmed_is_final BEFORE UPDATE OF status ON payments "
        "FOR EACH ROW WHEN OLD.status = 'confirmed' AND NEW.status <> 'confirmed' "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payments_confirmed_is_final ON payments")
        op.execute("DROP FUNCTION IF EXISTS apexchainx_payment_confirmed_is_final()")
        return
    op.execute("DROP TRIGGER IF EXISTS payments_confirmed_is_final")
