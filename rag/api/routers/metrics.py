"""GET /metrics: Prometheus text format (admin keys only: it counts the whole corpus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rag.api.deps import AdminCallerDep
from rag.api.errors import ERROR_RESPONSES

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **ERROR_RESPONSES},
)
def metrics(request: Request, _admin: AdminCallerDep) -> Response:
    """Requests and latency per route, retrieval and generation time, generation queue depth,
    index size and jobs by state, for Prometheus to scrape with an admin key."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
