"""OpenAI-compatible chat: `POST /v1/chat/completions` and `GET /v1/models`, so an unmodified
OpenAI client or chat UI can use the service as a model (base URL `…/v1`, an API key of ours).

The last message is the question (it must be the user's); the newest earlier user and
assistant turns (up to rag.service.MAX_HISTORY_TURNS) are the conversation's history, packed
into the prompt as far as the context allows. System
messages from the client are ignored: the service's own instructions keep the answer to the
documents. Citations travel twice: as a `citations` field (on the response, or on the last
chunk of a stream) and as a numbered "Sources:" block at the end of the text, for clients that
drop unknown fields.

Options honoured: `max_tokens` / `max_completion_tokens` may lower the configured
`llm.max_tokens` (never raise it; below 1 is a 422) and `finish_reason` is "length" when they
cut the answer; `stop` (a string or a list of up to 4, each at most 200 characters) ends the
model's text early (it applies to the generated text, before the sources block and before the
asker's own names replace their pseudonyms). `stream_options.include_usage` adds OpenAI's
last chunk with `choices: []` and `usage` (`stream_options` without `stream` is a 422, as
OpenAI refuses it; `n` must be 1). Everything else (temperature, top_p, seed, tools, …) is
accepted and ignored: the server's configuration decides it, so answers stay
reproducible.

`usage` counts the model's tokens: the whole prompt it read (instructions, sources, history
and question) and the tokens it generated, not the sources block. The "not in the documents"
answer calls no model, so its usage is all zeros.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.answer import Answer, Citation, GenerationLimits
from rag.api.answering import GENERATION_FAILURES, admit_answer, failure_status
from rag.api.deps import CallerDep, GateDep, ServiceDep
from rag.api.errors import ERROR_RESPONSES, GENERATION_RESPONSES, ErrorOut, error_body
from rag.api.routers.query import CitationOut, QuoteOut
from rag.api.sse import sse
from rag.config import ApiSettings
from rag.llm.base import ChatMessage
from rag.quotes import Quote

router = APIRouter(prefix="/v1", tags=["openai"])

MODEL_ID = "private-docs"
SOURCES_HEADER = "Sources:"


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = Field(
        default=None, description="Text, or a list of text parts (other parts are refused)."
    )

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = Field(
        default=False, description="Send a last chunk with `usage` and no choices."
    )


MAX_STOP_STRINGS = 4
StopString = Annotated[str, Field(max_length=200)]


class ChatCompletionRequest(BaseModel):
    # OpenAI clients send many more options; they are accepted and left to the server.
    model_config = ConfigDict(extra="allow")
    model: str = Field(description=f"Any name; the service answers as '{MODEL_ID}'.")
    messages: list[ChatMessageIn] = Field(
        min_length=1, description="The conversation; the last message is the user's question."
    )
    stream: bool = Field(default=False, description="Answer as server-sent chunks.")
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        default=None, ge=1, description="At most the server's configured maximum."
    )
    max_completion_tokens: int | None = Field(
        default=None, ge=1, description="As max_tokens; the lower of the two applies."
    )
    stop: StopString | Annotated[list[StopString], Field(max_length=MAX_STOP_STRINGS)] | None = (
        Field(default=None, description="Strings that end the generated text.")
    )
    n: int = Field(default=1, ge=1, le=1, description="One answer per question: only 1.")

    @model_validator(mode="after")
    def _stream_options_need_a_stream(self) -> ChatCompletionRequest:
        # As OpenAI: a client that asks for streamed usage without a stream has a bug to see.
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed with stream: true")
        return self

    def limits(self) -> GenerationLimits:
        """The generation options this request may set (the maximum is capped later)."""
        asked = [n for n in (self.max_tokens, self.max_completion_tokens) if n is not None]
        stop = [self.stop] if isinstance(self.stop, str) else self.stop or []
        # An empty stop string would end every answer before it began.
        return GenerationLimits(
            max_tokens=min(asked) if asked else None, stop=tuple(s for s in stop if s)
        )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = Field(
        default="stop", description="'length' when the maximum tokens cut the answer."
    )


class UsageOut(BaseModel):
    prompt_tokens: int = Field(description="Tokens the model read; 0 when none was called.")
    completion_tokens: int = Field(description="Tokens the model generated.")
    total_tokens: int

    @classmethod
    def of(cls, answer: Answer) -> UsageOut:
        usage = answer.usage()
        return cls(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.prompt_tokens + usage.completion_tokens,
        )


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut
    citations: list[CitationOut] = Field(description="The sources the answer's [n] refer to.")
    quotes: list[QuoteOut] = Field(description="The sources' sentences that answer, best first.")
    found: bool = Field(description="False when nothing relevant was found (the LLM not run).")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


_CREATED = int(time.time())
_MODEL = ModelOut(id=MODEL_ID, created=_CREATED, owned_by="private-docs-qa")


@router.get("/models", response_model=ModelList, summary="Models", responses=ERROR_RESPONSES)
def list_models(_caller: CallerDep) -> ModelList:
    """The one model this service is: answers from the documents the key may see."""
    return ModelList(data=[_MODEL])


@router.get(
    "/models/{model_id}",
    response_model=ModelOut,
    summary="One model",
    responses={**ERROR_RESPONSES, 404: {"model": ErrorOut, "description": "no such model"}},
)
def get_model(model_id: Annotated[str, PathParam(max_length=200)], _caller: CallerDep) -> ModelOut:
    if model_id != MODEL_ID:
        raise HTTPException(404, f"no model '{model_id}': this service is '{MODEL_ID}'")
    return _MODEL


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible)",
    responses=GENERATION_RESPONSES,
)
def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    service: ServiceDep,
    gate: GateDep,
    caller: CallerDep,
):
    """Answer the last user message from the documents the key may see, with the earlier
    turns as context. `stream: true` sends `chat.completion.chunk`s as server-sent events,
    the last one with `finish_reason` and `citations` (then, with
    `stream_options.include_usage`, one with `usage` and no choices), then `data: [DONE]`."""
    check_messages(service.settings.api, body.messages)
    question, history = split_conversation(body.messages)
    metrics = getattr(request.app.state, "metrics", None)
    answer = admit_answer(service, gate, metrics, question, None, caller, history, body.limits())
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        chunks = _chunks(answer, _ChunkHead(completion_id, created, include_usage))
        return StreamingResponse(chunks, media_type="text/event-stream")
    try:
        text = answer.read()
    except GENERATION_FAILURES as exc:
        raise HTTPException(failure_status(exc), str(exc)) from exc
    content = text + sources_text(answer.citations, answer.quotes)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=MODEL_ID,
        choices=[Choice(message=AssistantMessage(content=content), finish_reason=_finish(answer))],
        usage=UsageOut.of(answer),
        citations=[asdict(c) for c in answer.citations],
        quotes=[quote.public() for quote in answer.quotes],
        found=answer.found,
    )


def _finish(answer: Answer) -> Literal["stop", "length"]:
    return "length" if answer.cut_at_max_tokens() else "stop"


def check_messages(api: ApiSettings, messages: list[ChatMessageIn]) -> None:
    """Every turn is bounded, not only the question: each one is pseudonymized and parsed."""
    if len(messages) > api.max_messages:
        raise HTTPException(
            422, f"too many messages: at most {api.max_messages} (api.max_messages)"
        )
    for number, message in enumerate(messages[:-1], start=1):
        if len(message.text()) > api.max_message_chars:
            raise HTTPException(
                422,
                f"message {number} is longer than {api.max_message_chars} characters "
                "(api.max_message_chars)",
            )


def split_conversation(messages: list[ChatMessageIn]) -> tuple[str, list[ChatMessage]]:
    """(question, history): the last message, which must be the user's, and the user and
    assistant turns before it (assistant turns without their "Sources:" block)."""
    last = messages[-1]
    if last.role != "user":
        raise HTTPException(422, f"the last message must be the user's question, not '{last.role}'")
    history: list[ChatMessage] = []
    for message in messages[:-1]:
        if message.role not in ("user", "assistant"):
            continue
        text = message.text()
        if message.role == "assistant":
            text = strip_sources(text)
        if text.strip():
            history.append({"role": message.role, "content": text})
    return last.text(), history


def sources_text(citations: list[Citation], quotes: list[Quote] = ()) -> str:
    """The numbered sources block appended to an answer ("" when there are none), each
    quote (rag/quotes.py) after the sources as `> "text" [n]`."""
    if not citations:
        return ""
    lines = [f"[{c.n}] {c.title} ({c.path}, page {c.page})" for c in citations]
    lines += [f'> "{q.text}" [{q.citation}]' for q in quotes]
    return f"\n\n{SOURCES_HEADER}\n" + "\n".join(lines)


def strip_sources(text: str) -> str:
    cut = text.rfind(f"\n\n{SOURCES_HEADER}\n")
    return text[:cut] if cut != -1 else text


@dataclass(frozen=True)
class _ChunkHead:
    """What every chunk of one streamed completion carries."""

    completion_id: str
    created: int
    # OpenAI's semantics: then every chunk has `usage: null`, and a last one holds it.
    include_usage: bool

    def event(self, choices: list[dict], **extra: Any) -> str:
        data: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL_ID,
            "choices": choices,
            **({"usage": None} if self.include_usage else {}),
            **extra,
        }
        return sse(data)

    def chunk(self, delta: dict, finish: str | None, **extra: Any) -> str:
        return self.event([{"index": 0, "delta": delta, "finish_reason": finish}], **extra)


def _chunks(answer: Answer, head: _ChunkHead) -> Iterator[str]:
    yield head.chunk({"role": "assistant", "content": ""}, None)
    try:
        for piece in answer.tokens:
            yield head.chunk({"content": piece}, None)
    except GENERATION_FAILURES as exc:
        # OpenAI clients raise on a chunk with an `error` field; it holds our error shape.
        error = error_body(failure_status(exc), str(exc))
        yield sse({"error": error})
        yield sse("[DONE]")
        return
    sources = sources_text(answer.citations, answer.quotes)
    if sources:
        yield head.chunk({"content": sources}, None)
    citations = [asdict(c) for c in answer.citations]
    quotes = [quote.public() for quote in answer.quotes]
    yield head.chunk({}, _finish(answer), citations=citations, quotes=quotes, found=answer.found)
    if head.include_usage:
        yield head.event([], usage=UsageOut.of(answer).model_dump())
    yield sse("[DONE]")
