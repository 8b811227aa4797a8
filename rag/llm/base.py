"""The Generator protocol every LLM backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    role: str  # system / user / assistant
    content: str


class GeneratorError(RuntimeError):
    """Generation failed; the message is safe to show to the caller."""


class Generator(Protocol):
    name: str
    context_tokens: int

    def count_tokens(self, text: str) -> int:
        """Tokens this model needs for `text` (used to pack the prompt into the context)."""
        ...

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield the answer's text as it is generated."""
        ...
