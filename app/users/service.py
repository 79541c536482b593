"""Managing an organization's users. The session is already scoped to the caller's
organization, so another organization's user ids are simply not found."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import revoke_user_sessions
from app.core.errors import Conflict, Forbidden
from app.core.loading import get_or_404
from app.identity import passwords
from app.identity.dependencies import Principal
from app.identity.models import User
from app.identity.roles import Role
from app.journal import journal
from app.journal.entries import Change
from app.users.schemas import UserCreate, UserUpdate


def list_statement() -> Select[tuple[User]]:
    return select(User)


async def get(session: AsyncSession, user_id: str) -> User:
    return await get_or_404(session, User, user_id, "User not found.")


def _refuse_above_own(principal: Principal, role: Role) -> None:
    if not principal.role.admits(role):
        raise Forbidden(
            "Nobody can grant a role above their own.",
            details={"requested_role": role.value, "your_role": principal.role.value},
        )


async def create(session: AsyncSession, principal: Principal, data: UserCreate) -> User:
    _refuse_above_own(principal, data.role)
    # Within the organization only: whether the email holds an account elsewhere is not this
    # organization's business (and answering would tell).
    member = await session.execute(select(User.id).where(User.email == data.email))
    if member.first() is not None:
        raise Conflict("This organization already has a user with this email.")
    user = User(
        organization_id=principal.organization_id,
        email=data.email,
        password_hash=await passwords.hash_password(data.password),
        full_name=data.full_name,
        role=data.role.value,
    )
    session.add(user)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=principal.organization_id,
            actor=principal.actor,
            kind="user.created",
            entity_type="user",
            entity_id=user.id,
            data={"email": user.email, "role": user.role},
        ),
    )
    return user


async def _owners_left(session: AsyncSession, excluding: str) -> int:
    """Locks the organization's active owners first, so two owners demoting each other at
    once take turns and the second sees the first's change."""
    owners = await session.execute(
        select(User.id)
        .where(User.role == Role.owner.value, User.is_active.is_(True))
        .with_for_update()
    )
    return sum(1 for owner_id in owners.scalars() if owner_id != excluding)


async def _refuse_losing_last_owner(session: AsyncSession, user: User) -> None:
    if user.role == Role.owner.value and await _owners_left(session, user.id) == 0:
        raise Conflict("The last owner of an organization cannot be removed or demoted.")


async def update(
    session: AsyncSession, principal: Principal, user_id: str, data: UserUpdate
) -> User:
    user = await get(session, user_id)
    _refuse_above_own(principal, Role(user.role))
    changes = data.model_dump(exclude_unset=True)
    if changes.get("role") is not None:
        _refuse_above_own(principal, Role(changes["role"]))
        if changes["role"] != Role.owner:
            await _refuse_losing_last_owner(session, user)
    if changes.get("is_active") is False:
        await _refuse_losing_last_owner(session, user)
        await revoke_user_sessions(session, user.id, reason="deactivated")
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value.value if isinstance(value, Role) else value)
    journal.record(
        session,
        Change(
            organization_id=principal.organization_id,
            actor=principal.actor,
            kind="user.updated",
            entity_type="user",
            entity_id=user.id,
            data={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()},
        ),
    )
    return user


async def delete(session: AsyncSession, principal: Principal, user_id: str) -> None:
    user = await get(session, user_id)
    _refuse_above_own(principal, Role(user.role))
    await _refuse_losing_last_owner(session, user)
    journal.record(
        session,
        Change(
            organization_id=principal.organization_id,
            actor=principal.actor,
            kind="user.deleted",
            entity_type="user",
            entity_id=user.id,
            data={"email": user.email},
        ),
    )
    await session.delete(user)
