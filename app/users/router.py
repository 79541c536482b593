from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from app.auth import accounts
from app.auth.presenter import user_out, users_out
from app.auth.schemas import PasswordResetIssued, UserOut
from app.core.db import SessionDep
from app.core.loading import get_or_404
from app.core.pagination import Page, PageParamsDep, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, SettingsDep
from app.identity.models import User
from app.users import service
from app.users.schemas import UserCreate, UserUpdate

router = APIRouter(prefix="/users", tags=["Users"])


@router.get("", response_model=Page[UserOut], summary="List the organization's users")
async def list_users(
    principal: AdminPrincipal, session: SessionDep, page: PageParamsDep
) -> Page[UserOut]:
    """The organization's users and their roles."""
    rows, result = await paginate(session, service.list_statement(), page, id_column=User.id)
    result.results = await users_out(session, list(rows))
    return result


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Add a user to the organization",
)
async def create_user(principal: AdminPrincipal, session: SessionDep, body: UserCreate) -> UserOut:
    """The new user's role may not be above the caller's."""
    return await user_out(session, await service.create(session, principal, body))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a user's name, role or status")
async def update_user(
    user_id: str, principal: AdminPrincipal, session: SessionDep, body: UserUpdate
) -> UserOut:
    """Nobody grants a role above their own; the last owner cannot be demoted or deactivated."""
    return await user_out(session, await service.update(session, principal, user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a user",
)
async def delete_user(user_id: str, principal: AdminPrincipal, session: SessionDep) -> Response:
    """Removes a user and ends their sessions. The last owner cannot be removed (409)."""
    await service.delete(session, principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{user_id}/password-reset",
    response_model=PasswordResetIssued,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a one-time password reset token for a user",
)
async def issue_password_reset(
    user_id: Annotated[str, Path(max_length=64)],
    principal: AdminPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> PasswordResetIssued:
    """For a user of the organization whose role is not above the caller's. The token works
    once, for `PASSWORD_RESET_TTL_MINUTES` (30), at `POST /auth/password/reset`. With
    `SMTP_URL` set it is mailed to the user and not shown here. Audited."""
    user = await get_or_404(session, User, user_id, "User not found.")
    issued = await accounts.issue_reset(session, settings, user, principal.actor, principal.role)
    return PasswordResetIssued(
        user_id=issued.user_id,
        token=issued.token,
        expires_at=issued.expires_at,
        delivery=issued.delivery,
    )
