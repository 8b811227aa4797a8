"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from rag.api.background import start_background_worker
from rag.api.docs_page import install_docs_page
from rag.api.errors import install_error_handlers
from rag.api.metrics import install_metrics
from rag.api.request_guard import RequestGuard
from rag.api.routers import (
    conversations,
    documents,
    health,
    jobs,
    keys,
    metrics,
    openai_compat,
    query,
    search,
    sources,
    web,
)
from rag.config import Settings, get_settings
from rag.service import RagService


def create_app(
    settings: Settings | None = None,
    service: RagService | None = None,
    *,
    run_worker: bool | None = None,
) -> FastAPI:
    """Build the app. Models and index load before the first request is served, so a missing
    model stops the server at startup with a message naming it. With run_worker (default:
    worker.in_process from the config) the server also runs indexing jobs in a thread."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal service
        owned = service is None
        if service is None:
            service = RagService(settings or get_settings())
        service.load_all()
        app.state.service = service
        in_process = service.settings.worker.in_process if run_worker is None else run_worker
        worker = start_background_worker(service) if in_process else None
        yield
        if worker:
            worker.shutdown()
        if owned:
            service.close()

    app = FastAPI(
        title="Private documents Q&A",
        version="0.1.0",
        description="Answers from your own documents, with citations. Nothing leaves the premises.",
        lifespan=lifespan,
        docs_url=None,  # /docs is served from the installed swagger-ui-bundle, not a CDN
        redoc_url=None,
    )
    install_docs_page(app)
    install_error_handlers(app)
    # Bodies bounded and callers authenticated before a body is read (request_guard.py);
    # added before the metrics, so that its refusals are counted too.
    app.add_middleware(RequestGuard)
    install_metrics(app)
    app.include_router(health.router)
    app.include_router(query.router)
    app.include_router(search.router)
    app.include_router(openai_compat.router)
    app.include_router(keys.router)
    app.include_router(metrics.router)
    app.include_router(sources.router)
    app.include_router(jobs.router)
    app.include_router(documents.router)
    app.include_router(conversations.router)
    app.include_router(web.router)
    return app
