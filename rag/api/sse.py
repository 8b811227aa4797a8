"""Server-sent events for every streaming route: one event's text, and an answer as the
`citations`, `token`s, then `done` (or `error`) events of /v1/query and the chat page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from rag.answer import Answer
from rag.api.answering import GENERATION_FAILURES, failure_status
from rag.api.errors import error_body


def sse(data: dict[str, Any] | str, event: str | None = None) -> str:
    """One event: `data` as JSON (a string as it is, e.g. OpenAI's "[DONE]")."""
    payload = data if isinstance(data, str) else json.dumps(data, default=str)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


def answer_events(answer: Answer, done: Callable[[str], dict[str, Any]]) -> Iterator[str]:
    """`citations`, `quotes` (rag/quotes.py: the sources' own words, before the model's), a
    `token` per piece, then `done` with what `done(text)` returns for the whole answer; a
    failed generation ends with an `error` event in the usual error shape."""
    citations = [asdict(c) for c in answer.citations]
    yield sse({"citations": citations, "found": answer.found}, "citations")
    yield sse({"quotes": [quote.public() for quote in answer.quotes]}, "quotes")
    pieces: list[str] = []
    try:
        for piece in answer.tokens:
            pieces.append(piece)
            yield sse({"text": piece}, "token")
    except GENERATION_FAILURES as exc:
        yield sse(error_body(failure_status(exc), str(exc)), "error")
        return
    yield sse(done("".join(pieces).strip()), "done")
