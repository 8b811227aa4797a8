"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from rag.api.errors import install_error_handlers
from rag.api.routers import health, query
from rag.config import Settings, get_settings
from rag.service import RagService


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    """Build the app. Models and index load before the first request is served, so a missing
    model stops the server at startup with a message naming it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal service
        owned = service is None
        if service is None:
            service = RagService(settings or get_settings())
        service.load_all()
        app.state.service = service
        yield
        if owned:
            service.close()

    app = FastAPI(
        title="Private documents Q&A",
        version="0.1.0",
        description="Answers from your own documents, with citations. Nothing leaves the premises.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(query.router)
    return app
