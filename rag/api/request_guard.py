"""The cheap checks every request passes before the app reads its body or does any work.

FastAPI reads a body whole (and parses a multipart upload to disk) before any dependency runs,
authentication included. This pure ASGI middleware runs first, in the event loop:

1. a body is bounded per route: uploads (POST /v1/documents) by api.max_upload_mb, every
   other body by api.max_json_kb. A Content-Length over the limit is refused with 413 at once;
   a body streamed without one is counted and cut off with 413 at the limit;
2. a question for the LLM is refused with 429 while the generation queue is full, before
   authentication, retrieval or anything else that waits for a busy CPU;
3. a /v1 request with a body must carry a valid API key (or the trusted proxy's user header)
   before its body is read: 401 at once.

The routes still authenticate every request themselves; this only refuses early.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import error_body
from rag.api.generation_gate import GenerationBusy

MB = 1024 * 1024
# Room for a multipart upload's boundaries and form fields beside the file itself.
MULTIPART_OVERHEAD = 64 * 1024
# The routes whose requests wait for the LLM (their bodies are questions).
_GENERATION_ROUTES = re.compile(r"^/v1/(query|chat/completions|conversations/[^/]+/messages)/?$")


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        service = app_state.service
        limit, setting = _body_limit(scope, service.settings.api)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _refuse(scope, receive, send, 413, _too_large(setting))
            return
        gate = getattr(app_state, "generation_gate", None)
        if gate is not None and _GENERATION_ROUTES.match(scope["path"]):
            try:
                gate.check_room()
            except GenerationBusy as exc:
                headers_out = {"Retry-After": str(exc.retry_after_s)}
                await _refuse(scope, receive, send, 429, str(exc), headers_out)
                return
        if scope["path"].startswith("/v1/"):
            refusal = await _authentication_refusal(service, headers)
            if refusal is not None:
                await _refuse(scope, receive, send, 401, refusal, {"WWW-Authenticate": "Bearer"})
                return
        await self.app(scope, _bounded(receive, limit, setting), send)


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length != "0")


def _body_limit(scope: Scope, api) -> tuple[int, str]:
    """The most bytes this route's body may have, and the setting that says so."""
    if scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents":
        return int(api.max_upload_mb * MB) + MULTIPART_OVERHEAD, (
            f"{api.max_upload_mb:g} MB (api.max_upload_mb)"
        )
    return api.max_json_kb * 1024, f"{api.max_json_kb} KB (api.max_json_kb)"


def _too_large(setting: str) -> str:
    return f"request body is larger than this route's limit of {setting}"


def _bounded(receive: Receive, limit: int, setting: str) -> Receive:
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI passes an HTTPException raised while it reads the body through to
                # the error handlers: the client gets the 413 in the usual error shape.
                raise HTTPException(413, _too_large(setting))
        return message

    return bounded_receive


async def _authentication_refusal(service, headers: Headers) -> str | None:
    """Why the request is refused before its body is read, or None to let the route decide."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        key = await run_in_threadpool(service.keys.find, token.strip())
        return None if key is not None else "invalid or revoked API key"
    proxy_header = service.settings.api.trusted_user_header
    if proxy_header and headers.get(proxy_header, "").strip():
        return None  # the proxy's user: the route signs them in
    return "missing API key: send 'Authorization: Bearer <key>'"


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> None:
    # The body is left unread; the server closes the connection after the response.
    response = JSONResponse(error_body(status, message), status_code=status, headers=headers)
    await response(scope, receive, send)
