"""Asking from a route: the question checked, retrieval for the caller, generation through the
gate, both timed. Shared by /v1/query and /v1/chat/completions.

The place in the generation gate is taken before retrieval, so an overloaded server answers
429 at once; retrieval itself never waits for the LLM. Only a question with relevant passages
occupies a generation slot (the "not in the documents" answer needs no LLM).

Once its tokens have been read to the end, an answer reports the generation's token usage and
why it stopped; the "not in the documents" answer reports zeros (no model read a prompt).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

from fastapi import HTTPException

from rag.access import Caller
from rag.answer import Answer, GenerationLimits
from rag.api.generation_gate import GenerationBusy, GenerationGate, GenerationTimedOut
from rag.api.metrics import ApiMetrics
from rag.llm.base import ChatMessage, GeneratorError, GeneratorTimeout
from rag.service import RagService


def check_question(service: RagService, question: str) -> None:
    limit = service.settings.api.max_question_chars
    if len(question) > limit:
        raise HTTPException(422, f"question is longer than {limit} characters")
    if not question.strip():
        raise HTTPException(422, "question is empty")


def busy_error(exc: GenerationBusy) -> HTTPException:
    return HTTPException(429, str(exc), {"Retry-After": str(exc.retry_after_s)})


# What reading an answer's tokens may raise, and the status each is reported with.
GENERATION_FAILURES = (GenerationTimedOut, GeneratorError)


def failure_status(exc: Exception) -> int:
    """504 for an answer stopped at its time limit, 503 for a failed generation."""
    return 504 if isinstance(exc, GenerationTimedOut | GeneratorTimeout) else 503


def admit_answer(
    service: RagService,
    gate: GenerationGate,
    metrics: ApiMetrics | None,
    question: str,
    top_k: int | None,
    caller: Caller,
    history: list[ChatMessage] | None = None,
    limits: GenerationLimits | None = None,
    earlier_values: list[dict[str, str]] | None = None,
) -> Answer:
    """Admit the request to the generation queue (HTTPException 429 when it is full), then
    retrieve for `caller` and start the answer, its tokens generated in the admitted slot.
    `limits` may lower the configured maximum tokens and add stop strings (rag.answer);
    `earlier_values` are the asker's values of a pseudonymized history (RagService.ask_stream)."""
    check_question(service, question)
    try:
        ticket = gate.admit()
    except GenerationBusy as exc:
        raise busy_error(exc) from exc
    try:
        started = time.perf_counter()
        answer = service.ask_stream(
            question,
            top_k,
            caller=caller,
            history=history,
            limits=limits,
            earlier_values=earlier_values,
        )
        if metrics:
            metrics.retrieval.observe(time.perf_counter() - started)
    except BaseException:
        ticket.release()
        raise
    if not answer.found:
        ticket.release()
        return answer
    return replace(answer, tokens=_timed(ticket.run(answer.tokens), metrics))


def _timed(tokens: Iterator[str], metrics: ApiMetrics | None) -> Iterator[str]:
    started = time.perf_counter()
    yield from tokens
    if metrics:
        metrics.generation.observe(time.perf_counter() - started)
