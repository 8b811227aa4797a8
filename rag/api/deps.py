"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.db.models import ApiKey
from rag.keys import find_key
from rag.service import RagService

_bearer = HTTPBearer(auto_error=False)


def get_service(request: Request) -> RagService:
    return request.app.state.service


ServiceDep = Annotated[RagService, Depends(get_service)]


def get_api_key(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(
            401, "missing API key: send 'Authorization: Bearer <key>'", unauthorized
        )
    with service.session_factory() as session:
        key = find_key(session, credentials.credentials)
    if key is None:
        raise HTTPException(401, "invalid or revoked API key", unauthorized)
    return key


def require_admin(key: Annotated[ApiKey, Depends(get_api_key)]) -> ApiKey:
    if key.role != "admin":
        raise HTTPException(403, "this route needs an admin key")
    return key


ReaderKey = Annotated[ApiKey, Depends(get_api_key)]
AdminKey = Annotated[ApiKey, Depends(require_admin)]
