"""`GET/PUT /users/me/preferences`: the signed-in person's settings, validated, per account."""

from __future__ import annotations

from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal, Principal
from app.preferences import service
from app.preferences.schemas import Preferences, PreferencesOut

router = APIRouter(prefix="/users/me", tags=["Users"])


def _user_of(principal: Principal) -> str:
    if principal.kind != "user":
        raise NotFound("API keys have no preferences; sign in as a person.")
    return principal.id


@router.get("/preferences", response_model=PreferencesOut, summary="My preferences")
async def get_preferences(principal: CurrentPrincipal, session: SessionDep) -> PreferencesOut:
    """The stored document, with defaults where nothing was saved."""
    stored = await service.preferences_of(session, _user_of(principal))
    return PreferencesOut.model_validate(stored.model_dump())


@router.put("/preferences", response_model=PreferencesOut, summary="Replace my preferences")
async def put_preferences(
    body: Preferences, principal: CurrentPrincipal, session: SessionDep
) -> PreferencesOut:
    """Replaces the whole document (fields left out return to their defaults)."""
    saved = await service.save(session, _user_of(principal), body)
    return PreferencesOut.model_validate(saved.model_dump())
