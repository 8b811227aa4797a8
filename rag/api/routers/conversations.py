"""Conversations of the chat page, kept per API key: list, start, read, delete, and ask a
follow-up, answered as server-sent events like POST /v1/query with `stream: true`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from rag.access import Caller
from rag.answer import Answer
from rag.api.answering import admit_answer
from rag.api.deps import GateDep, ServiceDep
from rag.api.errors import GENERATION_RESPONSES
from rag.api.routers.web import ChatKey
from rag.api.sse import answer_events
from rag.conversations import ConversationNotFound, ConversationStore

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


def get_store(service: ServiceDep) -> ConversationStore:
    return service.conversations


StoreDep = Annotated[ConversationStore, Depends(get_store)]


class ConversationCreate(BaseModel):
    title: str = Field(default="", max_length=200)


class MessageCreate(BaseModel):
    question: str = Field(min_length=1, description="The question, in plain words.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="How many passages to use.")


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    citations: list[dict[str, Any]]
    found: bool
    created_at: datetime


class ConversationOut(BaseModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut] = []


def _not_found(exc: ConversationNotFound) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("", response_model=list[ConversationOut])
def list_conversations(store: StoreDep, key: ChatKey, limit: int = 100):
    """The caller's conversations, most recent first (without their messages)."""
    return [asdict(c) for c in store.list(key.id, limit=max(1, min(limit, 500)))]


@router.post("", response_model=ConversationOut, status_code=201)
def create_conversation(
    store: StoreDep, service: ServiceDep, key: ChatKey, body: ConversationCreate | None = None
):
    """Start a conversation; its title is stored pseudonymized, as questions are."""
    title = service.question_anonymizer.anonymize((body or ConversationCreate()).title)
    return asdict(store.create(key.id, title.text, title.originals))


@router.get("/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: int, store: StoreDep, key: ChatKey):
    try:
        return asdict(store.get(key.id, conversation_id, Caller.from_key(key)))
    except ConversationNotFound as exc:
        raise _not_found(exc) from exc


@router.delete("/{conversation_id}", status_code=204)
def delete_conversation(conversation_id: int, store: StoreDep, key: ChatKey) -> Response:
    try:
        store.delete(key.id, conversation_id)
    except ConversationNotFound as exc:
        raise _not_found(exc) from exc
    return Response(status_code=204)


@router.post(
    "/{conversation_id}/messages",
    responses=GENERATION_RESPONSES,
)
def ask(
    conversation_id: int,
    body: MessageCreate,
    request: Request,
    service: ServiceDep,
    gate: GateDep,
    store: StoreDep,
    key: ChatKey,
) -> StreamingResponse:
    """Ask in a conversation; earlier turns give the question its context.

    Server-sent events: `citations`, `quotes` (the sources' own words), `token`s as the answer
    is generated, then `done` holding the whole answer, its `sentences` each checked against
    the cited passages (`grounded`, `reason`) and the stored messages' ids; `error` (the
    usual error body, e.g. 504 when the answer timed out) if generation fails midway. Both
    turns are stored (pseudonymized; the asker's own values encrypted). A busy generator
    answers 429 with Retry-After before anything is stored.
    """
    caller = Caller.from_key(key)
    try:
        history = store.history(key.id, conversation_id, caller)
    except ConversationNotFound as exc:
        raise _not_found(exc) from exc
    metrics = getattr(request.app.state, "metrics", None)
    answer = admit_answer(
        service,
        gate,
        metrics,
        body.question,
        body.top_k,
        caller,
        history.messages,
        earlier_values=history.turn_values,
    )
    # The service restored the asker's values (this question's and earlier turns', capped).
    turn = _Turn(store, key.id, conversation_id, answer, history.originals)
    return StreamingResponse(turn.events(), media_type="text/event-stream")


class _Turn:
    """One question and its answer, stored as the stream runs: the question (as the service
    pseudonymized it) when it starts, the answer once it is complete."""

    def __init__(
        self,
        store: ConversationStore,
        key_id: int,
        conversation_id: int,
        answer: Answer,
        earlier_originals: dict[str, str],
    ) -> None:
        assert answer.question is not None  # the service sets it
        self.store, self.key_id, self.conversation_id = store, key_id, conversation_id
        self.answer = answer
        self.question = answer.question
        self.originals = {**earlier_originals, **self.question.originals}

    def events(self) -> Iterator[str]:
        question_id = self.store.add_question(
            self.key_id, self.conversation_id, self.question.text, self.question.originals
        )
        yield from answer_events(self.answer, lambda text: self._store_answer(question_id, text))

    def _store_answer(self, question_id: int, text: str) -> dict[str, Any]:
        citations = [asdict(c) for c in self.answer.citations]
        found = self.answer.found
        # As /v1/query shows it: each sentence checked against the passages (the page marks
        # an unsupported one), the text replaced by the quotes where so configured.
        shown, sentences = self.answer.checked(text) if found else (text, [])
        answer_id = self.store.add_answer(
            self.key_id, self.conversation_id, shown, citations, found, self.originals
        )
        title = self.store.get(self.key_id, self.conversation_id).title
        return {
            "answer": shown,
            "found": found,
            "citations": citations,
            "sentences": [asdict(sentence) for sentence in sentences],
            "conversation_id": self.conversation_id,
            "title": title,
            "message_ids": [question_id, answer_id],
        }
