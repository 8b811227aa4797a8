"""One error shape everywhere: {"status", "code", "message"}; never a stack trace."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.api.error_boundary import ErrorBoundary

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
    504: "timeout",
}


class ErrorOut(BaseModel):
    """Every error response, whatever the route."""

    status: int = Field(description="The HTTP status, repeated.")
    code: str = Field(description="A stable, machine-readable name for the error.")
    message: str = Field(description="What went wrong, for a person.")


# For the routers' `responses=`: the error shape documented in the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (401, "missing, invalid or revoked API key"),
        (403, "the key's role may not use this route"),
        (422, "invalid request"),
        (429, "rate limit reached (see Retry-After)"),
    )
}

# For the routes that generate an answer (plain JSON or server-sent events).
GENERATION_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"text/event-stream": {}}},
    **ERROR_RESPONSES,
    429: {
        "model": ErrorOut,
        "description": "rate limit reached, or the answer generator is busy (Retry-After)",
    },
    503: {"model": ErrorOut, "description": "generation failed"},
    504: {"model": ErrorOut, "description": "generation ran past its time limit"},
}


def error_body(status: int, message: str, code: str | None = None) -> dict:
    return {"status": status, "code": code or _CODES.get(status, "error"), "message": message}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(error_body(422, problems or "invalid request"), status_code=422)

    # Any other error: logged by type and request id only (rag/api/error_boundary.py).
    app.add_middleware(ErrorBoundary)
