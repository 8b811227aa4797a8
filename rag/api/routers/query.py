"""POST /v1/query: a question in, a cited answer out (plain JSON or server-sent events)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from rag.api.deps import ReaderKey, ServiceDep
from rag.api.errors import error_body
from rag.llm.base import GeneratorError
from rag.service import AnswerStream

router = APIRouter(prefix="/v1", tags=["query"])


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, description="The question, in plain words.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="How many passages to use.")
    stream: bool = Field(default=False, description="Answer as server-sent events.")


class CitationOut(BaseModel):
    n: int
    document_id: int
    title: str
    path: str
    page: int
    snippet: str
    score: float


class QueryResponse(BaseModel):
    answer: str
    found: bool
    citations: list[CitationOut]


@router.post(
    "/query",
    response_model=QueryResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def query(body: QueryRequest, service: ServiceDep, _key: ReaderKey):
    """Answer from the documents with numbered citations.

    With `stream: true` the response is `text/event-stream`: one `citations` event, `token`
    events as the answer is generated, then a `done` event holding the whole response.
    """
    limit = service.settings.api.max_question_chars
    if len(body.question) > limit:
        raise HTTPException(422, f"question is longer than {limit} characters")
    if not body.question.strip():
        raise HTTPException(422, "question is empty")
    answer_stream = service.ask_stream(body.question, body.top_k)
    if body.stream:
        return StreamingResponse(_events(answer_stream), media_type="text/event-stream")
    try:
        text = "".join(answer_stream.tokens).strip()
    except GeneratorError as exc:
        raise HTTPException(503, str(exc)) from exc
    citations = [asdict(c) for c in answer_stream.citations]
    return QueryResponse(answer=text, found=answer_stream.found, citations=citations)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _events(answer_stream: AnswerStream) -> Iterator[str]:
    citations = [asdict(c) for c in answer_stream.citations]
    yield _sse("citations", {"citations": citations, "found": answer_stream.found})
    pieces: list[str] = []
    try:
        for piece in answer_stream.tokens:
            pieces.append(piece)
            yield _sse("token", {"text": piece})
    except GeneratorError as exc:
        yield _sse("error", error_body(503, str(exc)))
        return
    done = {"answer": "".join(pieces).strip(), "found": answer_stream.found, "citations": citations}
    yield _sse("done", done)
