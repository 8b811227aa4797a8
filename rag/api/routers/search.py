"""POST /v1/search: the passages a question retrieves, without the LLM."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from rag.api.answering import check_question
from rag.api.deps import CallerDep, ServiceDep
from rag.api.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["search"])


class SearchRequest(BaseModel):
    question: str = Field(min_length=1, description="The question or search words.")
    top_k: int | None = Field(
        default=None, ge=1, le=50, description="At most this many passages (default: config)."
    )


class SearchHit(BaseModel):
    chunk_id: int
    document_id: int
    title: str
    path: str = Field(description="The document's path inside its source folder.")
    page_start: int
    page_end: int
    text: str = Field(description="The passage (personal data pseudonymized).")
    score: float = Field(description="Cosine similarity of the passage to the question.")


class SearchResponse(BaseModel):
    results: list[SearchHit] = Field(
        description="Relevant passages, best first; empty when nothing relevant was found."
    )


@router.post(
    "/search",
    response_model=SearchResponse,
    summary="Retrieve passages (no answer generated)",
    responses=ERROR_RESPONSES,
)
def search(
    body: SearchRequest, request: Request, service: ServiceDep, caller: CallerDep
) -> SearchResponse:
    """Hybrid retrieval (dense + full-text, fused) over the documents the key may see, with
    the same relevance threshold as /v1/query. Never waits for the LLM."""
    check_question(service, body.question)
    started = time.perf_counter()
    hits = service.search_for(body.question, body.top_k, caller)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics:
        metrics.retrieval.observe(time.perf_counter() - started)
    return SearchResponse(
        results=[
            SearchHit(
                chunk_id=hit.chunk_id,
                document_id=hit.document_id,
                title=hit.title,
                path=hit.path,
                page_start=hit.page_start,
                page_end=hit.page_end,
                text=hit.text,
                score=round(hit.score, 4),
            )
            for hit in hits
        ]
    )
