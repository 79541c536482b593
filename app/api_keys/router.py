from __future__ import annotations

from fastapi import Response, status

from app.api_keys import service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from app.core.db import SessionDep
from app.core.pagination import Page, PageParamsDep, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal
from app.identity.models import ApiKey

router = APIRouter(prefix="/api-keys", tags=["API keys"])


@router.get("", response_model=Page[ApiKeyOut], summary="List the organization's API keys")
async def list_keys(
    principal: AdminPrincipal, session: SessionDep, page: PageParamsDep
) -> Page[ApiKeyOut]:
    """The organization's API keys: name, role, prefix, last use and revocation; never the key
    itself."""
    rows, result = await paginate(session, service.list_statement(), page, id_column=ApiKey.id)
    result.results = [ApiKeyOut.model_validate(row) for row in rows]
    return result


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key (the secret is shown once)",
)
async def create_key(
    principal: AdminPrincipal, session: SessionDep, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Machine clients send it as `X-API-Key` on the intake routes. Its role is at most
    `operator`. Only a hash is stored: keep the secret now."""
    key, secret = await service.create(session, principal, body)
    return ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "key": secret}
    )


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke an API key",
)
async def revoke_key(key_id: str, principal: AdminPrincipal, session: SessionDep) -> Response:
    """Revokes a key at once: requests carrying it answer 401 from now on. Audited."""
    await service.revoke(session, principal, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
