"""From retrieved chunks to a cited answer: prompt packing, citations, "not in the documents"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.llm.base import ChatMessage, FinishReason, Generator, PieceStream, Usage
from rag.privacy.pseudonyms import restore_pieces
from rag.retrieve import Hit

NOT_FOUND = "I could not find this in the documents."
SNIPPET_CHARS = 300
SYSTEM_PROMPT = (
    "You are a company assistant. Answer the question using only the numbered sources. "
    "After each fact, cite its source number in brackets, like [1]. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
# Chat-template tokens around the messages: a margin, not a measurement.
TEMPLATE_OVERHEAD_TOKENS = 32
# Conversation history may take at most 1/HISTORY_SHARE of the prompt budget: the sources
# answer the question, the history only explains it. Each turn adds its template tokens.
HISTORY_SHARE = 3
HISTORY_TURN_OVERHEAD_TOKENS = 8


@dataclass(frozen=True)
class Citation:
    n: int
    document_id: int
    title: str
    path: str
    page: int
    snippet: str
    score: float


@dataclass
class Answer:
    answer: str
    citations: list[Citation] = field(default_factory=list)
    found: bool = True


def source_block(n: int, hit: Hit) -> str:
    pages = (
        f"page {hit.page_start}"
        if hit.page_start == hit.page_end
        else (f"pages {hit.page_start}-{hit.page_end}")
    )
    return f"[{n}] {hit.title} ({pages})\n{hit.text}"


def pack_prompt(
    question: str,
    hits: list[Hit],
    generator: Generator,
    max_answer_tokens: int,
    history: list[ChatMessage] | None = None,
) -> tuple[list[ChatMessage], list[Hit]]:
    """Fit the best hits, in order, into what the context leaves after the answer's tokens.
    Earlier turns of a conversation (`history`, oldest first) come before the question, the
    newest that fit in a share of the budget; the sources get the rest."""
    budget = (
        generator.context_tokens
        - max_answer_tokens
        - TEMPLATE_OVERHEAD_TOKENS
        - generator.count_tokens(SYSTEM_PROMPT)
        - generator.count_tokens(f"Question: {question}\nAnswer:")
    )
    turns = fit_history(history or [], generator, budget // HISTORY_SHARE)
    budget -= sum(generator.count_tokens(turn["content"]) for turn in turns)
    packed: list[Hit] = []
    blocks: list[str] = []
    for hit in hits:
        block = source_block(len(packed) + 1, hit)
        cost = generator.count_tokens(block + "\n\n")
        if cost > budget:
            break  # hits are best first: a lower one must not jump ahead of a better one
        budget -= cost
        packed.append(hit)
        blocks.append(block)
    sources = "\n\n".join(blocks)
    user = f"Sources:\n\n{sources}\n\nQuestion: {question}\nAnswer:"
    messages: list[ChatMessage] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        *turns,
        {"role": "user", "content": user},
    ]
    return messages, packed


def fit_history(history: list[ChatMessage], generator: Generator, budget: int) -> list[ChatMessage]:
    """The newest user/assistant turns whose tokens fit in `budget`, oldest first; a turn
    that does not fit ends the walk back, so no gap opens in the conversation."""
    kept: list[ChatMessage] = []
    for turn in reversed(history):
        if turn["role"] not in ("user", "assistant") or not turn["content"].strip():
            continue
        cost = generator.count_tokens(turn["content"]) + HISTORY_TURN_OVERHEAD_TOKENS
        if cost > budget:
            break
        budget -= cost
        kept.append({"role": turn["role"], "content": turn["content"]})
    return kept[::-1]


def citations_for(hits: list[Hit]) -> list[Citation]:
    return [
        Citation(
            n=n,
            document_id=hit.document_id,
            title=hit.title,
            path=hit.path,
            page=hit.page_start,
            snippet=_snippet(hit.text),
            score=round(hit.score, 4),
        )
        for n, hit in enumerate(hits, start=1)
    ]


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > 0 else SNIPPET_CHARS] + " …"


@dataclass(frozen=True)
class GenerationLimits:
    """What one request asks of its answer's generation. `max_tokens` can only lower the
    configured maximum (None: that maximum); `stop` strings end the answer early."""

    max_tokens: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class StreamedAnswer:
    """Citations known up front, the answer's text still to come."""

    citations: list[Citation]
    tokens: Iterator[str]
    found: bool


def start_answer(
    question: str,
    hits: list[Hit],
    generator: Generator,
    max_answer_tokens: int,
    history: list[ChatMessage] | None = None,
    limits: GenerationLimits | None = None,
) -> StreamedAnswer:
    """With no relevant hit the LLM is not called: the answer says so plainly.

    `limits` may lower `max_answer_tokens` for this answer and add stop strings. The prompt
    is packed for `max_answer_tokens` all the same, so the sources an answer gets do not
    depend on how long the client lets it be."""
    limits = limits or GenerationLimits()
    messages, packed = pack_prompt(question, hits, generator, max_answer_tokens, history)
    if not packed:
        return StreamedAnswer(citations=[], tokens=iter([NOT_FOUND]), found=False)
    max_tokens = min(max_answer_tokens, limits.max_tokens or max_answer_tokens)
    tokens = generator.stream(messages, max_tokens=max_tokens, stop=list(limits.stop) or None)
    return StreamedAnswer(citations=citations_for(packed), tokens=tokens, found=True)


class ReportingStream(PieceStream):
    """`pieces` made from a generation's stream that still tells how that generation ended:
    `usage` and `finish_reason` are the source's (a backend's TokenStream sets them once it
    has ended; None before that, and for a source that reports nothing)."""

    def __init__(self, pieces: Iterator[str], source: Iterator[str]) -> None:
        self._pieces = pieces
        self._source = source

    @property
    def usage(self) -> Usage | None:
        return getattr(self._source, "usage", None)

    @property
    def finish_reason(self) -> FinishReason | None:
        return getattr(self._source, "finish_reason", None)


def restore_stream(pieces: Iterator[str], originals: dict[str, str]) -> ReportingStream:
    """`restore_pseudonyms` over a stream: a token may arrive split across pieces, so text
    from an unclosed '<' is held back until the token closes (or clearly is not one). The
    result reports the usage of `pieces` (see ReportingStream)."""
    return ReportingStream(restore_pieces(pieces, originals), pieces)
