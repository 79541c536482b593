"""API keys for machine clients: shown once, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.schemas import ApiKeyCreate
from app.core.clock import utcnow
from app.core.errors import Forbidden, ValidationFailed
from app.core.loading import get_or_404
from app.identity import tokens
from app.identity.dependencies import Principal
from app.identity.models import ApiKey
from app.identity.roles import MAX_API_KEY_ROLE, Role
from app.journal import journal
from app.journal.entries import Change


def list_statement() -> Select[tuple[ApiKey]]:
    return select(ApiKey)


async def create(
    session: AsyncSession, principal: Principal, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    role = Role(data.role)
    if not MAX_API_KEY_ROLE.admits(role):
        raise ValidationFailed(
            f"An API key's role is at most {MAX_API_KEY_ROLE.value}.",
            details={
                "errors": [
                    {
                        "loc": ["body", "role"],
                        "msg": "role too high for a key",
                        "type": "value_error",
                    }
                ]
            },
        )
    if not principal.role.admits(role):
        raise Forbidden("Nobody can grant a role above their own.")
    secret = tokens.new_secret("api_key")
    key = ApiKey(
        organization_id=principal.organization_id,
        name=data.name,
        key_prefix=secret[:12],
        key_hash=tokens.hash_secret(secret),
        role=role.value,
        created_by=principal.id,
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=principal.organization_id,
            actor=principal.actor,
            kind="api_key.created",
            entity_type="api_key",
            entity_id=key.id,
            data={"name": key.name, "role": key.role},
        ),
    )
    return key, secret


async def revoke(session: AsyncSession, principal: Principal, key_id: str) -> None:
    key = await get_or_404(session, ApiKey, key_id, "API key not found.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        journal.record(
            session,
            Change(
                organization_id=principal.organization_id,
                actor=principal.actor,
                kind="api_key.revoked",
                entity_type="api_key",
                entity_id=key.id,
            ),
        )
