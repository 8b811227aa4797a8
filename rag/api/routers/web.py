"""The chat page: its static files, a strict Content-Security-Policy, and who is signed in.

The page signs in one of two ways. An employee pastes an API key, which the page keeps in the
browser's session storage and sends as a Bearer token. Or, when `api.trusted_user_header` is
set, the company's reverse proxy names the user in that header: the user then acts with the
role and groups of the API key named by `api.trusted_user_key` (one place where an admin decides
what proxy users may read), and gets an `api_keys` row of their own, with no usable secret, so
their conversations are theirs alone. That row's name is an HMAC of the user name under the
service's secret, so SQL holds no user name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.api.deps import ServiceDep, get_api_key, get_rate_limited_key
from rag.api.trusted_proxy import from_trusted_proxy
from rag.service import RagService
from rag.use_cases.keys import PROXY_KEY_PREFIX, KeyView, ProxySignInBusy, ProxySignInRefused

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
# Only these files are served: a name from the URL never reaches the file system. The scripts
# are ES modules, which a browser runs only when served as JavaScript.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "chat.js": "text/javascript; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# Everything from this origin only: no inline script or style, no frames, no outside fonts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A redeploy changes the files; the browser revalidates instead of keeping a stale page.
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["chat page"])
_bearer = HTTPBearer(auto_error=False)


def _file(name: str, media_type: str) -> Response:
    return Response((WEB_DIR / name).read_bytes(), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/", include_in_schema=False)
def index() -> Response:
    return _file("index.html", "text/html; charset=utf-8")


@router.get("/web/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no such file: {name}")
    return _file(name, media_type)


# -- sign-in ---------------------------------------------------------------------------------


def proxy_user(request: Request, service: RagService) -> str | None:
    """The user the reverse proxy asserts, when the config trusts it to. The header from any
    address but the proxy's (api.trusted_proxies) is refused with 401, not ignored."""
    api = service.settings.api
    header = api.trusted_user_header
    if not header or header not in request.headers:
        return None
    if not from_trusted_proxy(request, api.trusted_proxies):
        raise HTTPException(
            401,
            f"the {header} header is accepted only from the reverse proxy (api.trusted_proxies)",
        )
    return request.headers[header].strip() or None


def proxy_user_key(service: RagService, user: str) -> KeyView:
    """The user's own key, kept in step with the role and groups of the configured key."""
    try:
        return service.keys.sign_in_by_proxy(user, service.settings.api.trusted_user_key)
    except ProxySignInRefused as exc:
        raise HTTPException(401, str(exc)) from exc
    except ProxySignInBusy as exc:
        raise HTTPException(503, str(exc)) from exc


def chat_key(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> KeyView:
    """A Bearer key when one is sent; otherwise the proxy's user, when trusted. Either counts
    against its key's rate limit."""
    user = proxy_user(request, service)  # first: a header from elsewhere is refused
    if credentials is None and user:
        key = proxy_user_key(service, user)
    else:
        key = get_api_key(service, credentials)
    return get_rate_limited_key(request, key)


ChatKey = Annotated[KeyView, Depends(chat_key)]


@router.get("/v1/me", tags=["chat page"])
def me(request: Request, service: ServiceDep, key: ChatKey) -> dict:
    """Who the page is signed in as: name, role (reader/admin), groups, and how."""
    user = proxy_user(request, service) if key.name.startswith(PROXY_KEY_PREFIX) else None
    return {
        "name": user or key.name,
        "role": key.role,
        "groups": list(key.groups),
        "via": "proxy" if user else "key",
    }
