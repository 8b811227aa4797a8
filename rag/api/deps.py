"""Dependencies shared by the routers, as Annotated aliases.

Every route but the health checks takes a key: `CallerDep` (any valid key, as a `Caller` with
its role and groups) or `AdminCallerDep` (admin keys only). `ReaderKey`/`AdminKey` give the
key itself (a `KeyView`, never its secret). Each authenticated request also counts against its
key's rate limit.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.access import Caller
from rag.api.generation_gate import GenerationGate
from rag.api.rate_limit import RateLimiter, build_rate_limiter
from rag.service import RagService
from rag.use_cases.keys import KeyView

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rag_…`")
_state_lock = threading.Lock()


def get_service(request: Request) -> RagService:
    return request.app.state.service


ServiceDep = Annotated[RagService, Depends(get_service)]


def _app_state(request: Request, name: str, build):
    """One object per app, made from the settings on first use."""
    state = request.app.state
    value = getattr(state, name, None)
    if value is None:
        with _state_lock:
            value = getattr(state, name, None)
            if value is None:
                value = build(state.service.settings.api)
                setattr(state, name, value)
    return value


def get_generation_gate(request: Request) -> GenerationGate:
    return _app_state(
        request,
        "generation_gate",
        lambda api: GenerationGate(
            api.max_concurrent_generations, api.generation_queue, api.generation_timeout_s
        ),
    )


def get_rate_limiter(request: Request) -> RateLimiter:
    service = request.app.state.service
    return _app_state(request, "rate_limiter", lambda api: build_rate_limiter(api, service))


GateDep = Annotated[GenerationGate, Depends(get_generation_gate)]


def get_api_key(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> KeyView:
    """The valid, unrevoked key of the request, or 401."""
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(
            401, "missing API key: send 'Authorization: Bearer <key>'", unauthorized
        )
    key = service.keys.find(credentials.credentials)
    if key is None:
        raise HTTPException(401, "invalid or revoked API key", unauthorized)
    return key


def get_rate_limited_key(
    request: Request, key: Annotated[KeyView, Depends(get_api_key)]
) -> KeyView:
    """The key, once its request is counted against its per-minute limit (429 beyond it)."""
    wait_s = get_rate_limiter(request).check(key.id)
    if wait_s is not None:
        limit = request.app.state.service.settings.api.requests_per_minute
        raise HTTPException(
            429,
            f"rate limit of {limit} requests per minute for this key reached: retry in {wait_s} s",
            {"Retry-After": str(wait_s)},
        )
    return key


def require_admin(key: Annotated[KeyView, Depends(get_rate_limited_key)]) -> KeyView:
    if key.role != "admin":
        raise HTTPException(403, "this route needs an admin key")
    return key


ReaderKey = Annotated[KeyView, Depends(get_rate_limited_key)]
AdminKey = Annotated[KeyView, Depends(require_admin)]


def get_caller(key: ReaderKey) -> Caller:
    return Caller.from_key(key)


def get_admin_caller(key: AdminKey) -> Caller:
    return Caller.from_key(key)


CallerDep = Annotated[Caller, Depends(get_caller)]
AdminCallerDep = Annotated[Caller, Depends(get_admin_caller)]
