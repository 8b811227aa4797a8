"""The Generator protocol every LLM backend implements, and what they share.

A generation is a `TokenStream`: iterate it for the answer's text; `cancel()` (or the
`threading.Event` passed as `cancel=`) stops it at the next token; once it has ended it carries
`usage` (prompt and completion token counts) and `finish_reason`. Every backend raises the same
typed errors: `GeneratorTimeout` when the request's time is up, `GeneratorUnavailable` when a
server cannot be reached, `GeneratorError` for the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

FinishReason = Literal["stop", "length", "cancelled"]


class ChatMessage(TypedDict):
    role: str  # system / user / assistant
    content: str


class GeneratorError(RuntimeError):
    """Generation failed; the message is safe to show to the caller."""


class GeneratorTimeout(GeneratorError):
    """The request ran past its time limit (the whole answer, or a server's silence)."""


class GeneratorUnavailable(GeneratorError):
    """The model server could not be reached (after the configured retries)."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # True where the backend had to count locally (a server that sends no usage in a stream).
    estimated: bool = False


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: FinishReason


class Deadline:
    """The time left for one request; `check()` raises GeneratorTimeout once it is spent."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._ends = None if seconds is None else time.monotonic() + seconds

    @classmethod
    def for_request(cls, timeout_s: float | None, configured_s: float | None) -> Deadline:
        """The request's own timeout when it gives one, else `llm.request_timeout_s`."""
        return cls(timeout_s if timeout_s is not None else configured_s)

    def remaining(self) -> float | None:
        return None if self._ends is None else self._ends - time.monotonic()

    def check(self) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise GeneratorTimeout(f"generation took longer than {self.seconds:g} s")


class StreamControl:
    """What a backend's generator sees of its stream: whether to stop, and where to report
    how it ended."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled
        self.usage: Usage | None = None
        self.finish_reason: FinishReason | None = None

    def finish(self, usage: Usage, reason: FinishReason) -> None:
        self.usage = usage
        self.finish_reason = "cancelled" if self.cancelled.is_set() else reason


class PieceStream(Iterator[str]):
    """Iterates `self._pieces`; `close()` ends it early, so a generator's `finally` runs."""

    _pieces: Iterator[str]

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


class TokenStream(PieceStream):
    """The answer's text as it is generated, with cancellation and, at the end, usage.

    `pieces` is the backend's generator; it reads `cancelled` between tokens and returns when
    it is set, and it calls `finish(usage, reason)` before it returns. `close()` (also called
    when the stream is garbage collected or the consumer stops early) ends the generator, so a
    backend's `finally` releases its model.
    """

    def __init__(
        self,
        start: Callable[[StreamControl], Iterator[str]],
        cancel: threading.Event | None = None,
    ) -> None:
        # The backend's generator gets the control, not this stream: were it to hold the
        # stream, the two would form a cycle, and a stream dropped early would keep the model
        # locked until Python's cycle collector happened to run.
        self._control = StreamControl(cancel or threading.Event())
        self._pieces = start(self._control)

    @property
    def cancelled(self) -> threading.Event:
        return self._control.cancelled

    @property
    def usage(self) -> Usage | None:
        return self._control.usage

    @property
    def finish_reason(self) -> FinishReason | None:
        return self._control.finish_reason

    def cancel(self) -> None:
        """Stop at the next token; safe to call from another thread."""
        self._control.cancelled.set()

    def text(self) -> str:
        """Read the whole stream and return it joined."""
        return "".join(self)


class Generator(Protocol):
    name: str
    context_tokens: int

    def count_tokens(self, text: str) -> int:
        """Tokens this model needs for `text` (used to pack the prompt into the context)."""
        ...

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        stop: list[str] | None = None,
        *,
        cancel: threading.Event | None = None,
        timeout_s: float | None = None,
        facts: Sequence[str] | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text as it is generated. Backends return a TokenStream.

        `timeout_s` overrides the configured `llm.request_timeout_s` for this request. With
        `facts`, a backend whose `constrains_facts` is true states no name or number but
        those (rag/llm/facts.py); callers pass it only to such a backend.
        """
        ...

    def complete(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        stop: list[str] | None = None,
        *,
        timeout_s: float | None = None,
        facts: Sequence[str] | None = None,
    ) -> Completion:
        """The whole answer at once, without streaming."""
        ...


class StopScanner:
    """Cuts a streamed text at the first stop string, holding back text that may be the
    start of one, so no part of a stop string is ever yielded."""

    def __init__(self, stop: list[str] | None) -> None:
        self.stop = [s for s in (stop or []) if s]
        self._held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The text that is safe to yield now; sets `stopped` when a stop string appeared."""
        if not self.stop:
            return piece
        text = self._held + piece
        cuts = [i for i in (text.find(s) for s in self.stop) if i != -1]
        if cuts:
            self.stopped = True
            self._held = ""
            return text[: min(cuts)]
        keep = max((_overlap(text, s) for s in self.stop), default=0)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def _overlap(text: str, stop: str) -> int:
    """Length of the longest end of `text` that is a beginning of `stop`."""
    for size in range(min(len(text), len(stop) - 1), 0, -1):
        if stop.startswith(text[-size:]):
            return size
    return 0
