"""The one place an unexpected error of any route ends: logged by type and request id only.

An exception's message and traceback may quote what it was given (a passage, a file name, a
database row), so neither is logged nor returned: the client gets a 500 with a request id
(also in the X-Request-ID header of every response), the log gets the same id, the error's
type and the route template. Without this, Starlette re-raises to uvicorn, which logs the
whole traceback.
"""

from __future__ import annotations

import logging
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"


class ErrorBoundary:
    """Pure ASGI, so a streamed answer keeps streaming; wraps every route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            template = getattr(scope.get("route"), "path_format", None) or "unmatched route"
            log.error(
                "request %s: internal error (%s) on %s %s",
                request_id,
                type(exc).__name__,
                scope.get("method", ""),
                template,
            )
            if started:
                return  # a streamed response was under way: it ends here
            body = {
                "status": 500,
                "code": "internal",
                "message": f"internal error (request id {request_id})",
                "request_id": request_id,
            }
            response = JSONResponse(body, status_code=500)
            await response(scope, receive, send_with_id)
