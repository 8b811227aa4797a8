"""POST /v1/query: a question in, a cited answer out (plain JSON or server-sent events)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from rag.answer import Answer
from rag.api.answering import GENERATION_FAILURES, admit_answer, failure_status
from rag.api.deps import CallerDep, GateDep, ServiceDep
from rag.api.errors import GENERATION_RESPONSES
from rag.api.sse import answer_events

router = APIRouter(prefix="/v1", tags=["query"])


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, description="The question, in plain words.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="How many passages to use.")
    stream: bool = Field(default=False, description="Answer as server-sent events.")


class CitationOut(BaseModel):
    n: int = Field(description="The number the answer cites it by, [n].")
    document_id: int
    title: str
    path: str = Field(
        description="The document's path inside its source folder, personal data in its "
        "folder and file names anonymized."
    )
    file_name: str = Field(
        default="",
        description="The document's file name, shown beside its title (the last part of "
        "`path`, so anonymized like it).",
    )
    page: int = Field(description="The first page of the passage.")
    snippet: str = Field(description="The start of the passage (pseudonymized).")
    score: float = Field(description="Cosine similarity of the passage to the question.")


class QuoteOut(BaseModel):
    citation: int = Field(description="The citation it is from, its n.")
    text: str = Field(description="At most two sentences or one table row, 60 words.")
    start: int = Field(
        description="Where it starts in the passage's text with whitespace collapsed (the "
        "citation's snippet is the start of that text)."
    )
    end: int = Field(description="Where it ends there (exclusive).")


class SentenceOut(BaseModel):
    text: str = Field(description="A sentence of the generated answer.")
    grounded: bool = Field(
        description="Whether its numbers, dates and names stand in the cited passages with "
        "what they measure (a sentence stating none is grounded)."
    )
    reason: str = Field(description="Why, in a few words.")


class QueryResponse(BaseModel):
    answer: str
    found: bool = Field(description="False when nothing relevant was found (the LLM not run).")
    citations: list[CitationOut]
    quotes: list[QuoteOut] = Field(
        description="The passages' sentences that answer the question, best first, chosen "
        "without the LLM."
    )
    sentences: list[SentenceOut] = Field(
        description="The generated answer's sentences, each checked against the cited passages "
        "(with answer.unsupported = quotes, an answer with an unsupported one is its quotes)."
    )


@router.post(
    "/query",
    response_model=QueryResponse,
    summary="Answer a question from the documents the key may see",
    responses=GENERATION_RESPONSES,
)
def query(
    body: QueryRequest, request: Request, service: ServiceDep, gate: GateDep, caller: CallerDep
):
    """Answer from the documents with numbered citations. Only documents the key's groups may
    see are searched.

    With `stream: true` the response is `text/event-stream`: one `citations` event, one
    `quotes` event, `token` events as the answer is generated, then a `done` event holding
    the whole response (or an `error` event with the usual error body, e.g. status 504 when
    the answer timed out).
    """
    metrics = getattr(request.app.state, "metrics", None)
    answer = admit_answer(service, gate, metrics, body.question, body.top_k, caller)
    if body.stream:
        return StreamingResponse(_events(answer), media_type="text/event-stream")
    try:
        text = answer.read()
    except GENERATION_FAILURES as exc:
        raise HTTPException(failure_status(exc), str(exc)) from exc
    return QueryResponse(**_response(answer, text))


def _events(answer: Answer):
    return answer_events(answer, lambda text: _response(answer, text))


def _response(answer: Answer, text: str) -> dict:
    shown, sentences = answer.checked(text)
    return {
        "answer": shown,
        "found": answer.found,
        "citations": [asdict(c) for c in answer.citations],
        "quotes": [quote.public() for quote in answer.quotes],
        "sentences": [asdict(sentence) for sentence in sentences],
    }
