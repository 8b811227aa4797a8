"""The base class of every LLM backend: the Generator protocol's glue, written once.

A backend writes only its generation, `_generate(control, request)`: a generator of the
answer's text that reads `control.cancelled` between tokens, calls `control.finish(usage,
reason)` before it returns, and honours `request.deadline`. The base turns that into
`stream()` (a TokenStream with cancellation and usage) and `complete()` (the stream read to
its end; a backend with a cheaper whole-answer path overrides `_complete`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rag.config import LlmSettings
from rag.llm.base import (
    ChatMessage,
    Completion,
    Deadline,
    GeneratorTimeout,
    StreamControl,
    TokenStream,
)


@dataclass(frozen=True)
class GenerationRequest:
    """What one generation is asked: the chat, at most `max_tokens`, ending before any of
    `stop`, within `deadline`; with `facts`, stating no name or number but those
    (rag/llm/facts.py; honoured where the backend's `constrains_facts`)."""

    messages: list[ChatMessage]
    max_tokens: int
    stop: list[str] | None
    deadline: Deadline
    facts: tuple[str, ...] | None = None


class ModelLock:
    """One generation at a time on an in-process model; time spent waiting for it counts
    against the request's deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextmanager
    def held(self, deadline: Deadline) -> Iterator[None]:
        left = deadline.remaining()
        if not self._lock.acquire(timeout=-1 if left is None else max(left, 0)):
            raise GeneratorTimeout(f"the model stayed busy for longer than {deadline.seconds:g} s")
        try:
            yield
        finally:
            self._lock.release()


class StreamingGenerator(ABC):
    """A Generator whose backend supplies only `_generate` (and `count_tokens`)."""

    name: str
    context_tokens: int
    settings: LlmSettings
    # Whether `facts=` constrains this backend's output (else it is accepted and ignored).
    constrains_facts: bool = False

    @abstractmethod
    def count_tokens(self, text: str) -> int: ...

    @abstractmethod
    def _generate(self, control: StreamControl, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer's text; see the module's docstring for what it must keep."""

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        stop: list[str] | None = None,
        *,
        cancel: threading.Event | None = None,
        timeout_s: float | None = None,
        facts: Sequence[str] | None = None,
    ) -> TokenStream:
        request = self._generation_request(messages, max_tokens, stop, timeout_s, facts)
        return TokenStream(lambda control: self._generate(control, request), cancel)

    def complete(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        stop: list[str] | None = None,
        *,
        timeout_s: float | None = None,
        facts: Sequence[str] | None = None,
    ) -> Completion:
        request = self._generation_request(messages, max_tokens, stop, timeout_s, facts)
        return self._complete(request)

    def _complete(self, request: GenerationRequest) -> Completion:
        """The whole answer at once: by default the stream, read to its end."""
        stream = TokenStream(lambda control: self._generate(control, request))
        text = stream.text()
        assert stream.usage is not None and stream.finish_reason is not None
        return Completion(text=text, usage=stream.usage, finish_reason=stream.finish_reason)

    def _generation_request(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        stop: list[str] | None,
        timeout_s: float | None,
        facts: Sequence[str] | None = None,
    ) -> GenerationRequest:
        """The request's own timeout when it gives one, else `llm.request_timeout_s`."""
        deadline = Deadline.for_request(timeout_s, self.settings.request_timeout_s)
        kept = None if facts is None else tuple(facts)
        return GenerationRequest(messages, max_tokens, stop, deadline, kept)
