"""From retrieved chunks to a cited answer: prompt packing, citations, "not in the documents"."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from rag.figure_units import units_from_quotes
from rag.grounding import SentenceCheck, check_answer
from rag.llm.base import ChatMessage, Generator, Usage
from rag.llm.facts import facts_in
from rag.quotes import Quote
from rag.retrieve import Hit
from rag.table_cells import asked_cells

if TYPE_CHECKING:
    from rag.privacy.anonymizer import AnonymizedText

NOT_FOUND = "I could not find this in the documents."
SNIPPET_CHARS = 300
# One short sentence: a fact is what is asked. No citation marks are asked for (the citations are
# the packed sources whatever the answer says): the prompt measured in bench/RESULTS.md, "Answers".
SYSTEM_PROMPT = (
    "Answer the question in one short sentence, using only the sources. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
# Chat-template tokens around the messages: a margin, not a measurement.
TEMPLATE_OVERHEAD_TOKENS = 32
# Conversation history may take at most 1/HISTORY_SHARE of the prompt budget: the sources
# answer the question, the history only explains it. Each turn adds its template tokens.
HISTORY_SHARE = 3
HISTORY_TURN_OVERHEAD_TOKENS = 8
# Kept for the quotes that open a prompt: two quotes of rag/quotes.py's MAX_WORDS (60) words.
QUOTE_RESERVE_TOKENS = 200


@dataclass(frozen=True)
class Citation:
    n: int
    document_id: int
    title: str
    path: str  # as readers see it: names anonymized (rag/privacy/path_names.py)
    page: int
    snippet: str
    score: float
    # Shown beside the title ("Q3 report (2022 Q3 AAPL.pdf)"): the last part of `path`, so
    # anonymized like it; never the raw name.
    file_name: str = ""


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
    source_tokens: int | None = None,
) -> tuple[list[ChatMessage], list[Hit]]:
    """The prompt's messages and the hits packed into it (choose_sources, then
    prompt_messages without quotes)."""
    turns, packed = choose_sources(
        question, hits, generator, max_answer_tokens, history, source_tokens
    )
    return prompt_messages(question, packed, turns), packed


def choose_sources(
    question: str,
    hits: list[Hit],
    generator: Generator,
    max_answer_tokens: int,
    history: list[ChatMessage] | None = None,
    source_tokens: int | None = None,
    reserved_tokens: int = 0,
) -> tuple[list[ChatMessage], list[Hit]]:
    """(the history turns kept, the hits packed): the best hits, in order, that fit in what
    the context leaves after the answer's tokens, and at most `source_tokens` (None: the whole
    rest; fewer prompt tokens, a sooner first token; the best hit is kept past it). Earlier
    turns of a conversation (`history`, oldest first) come before the question, the newest that
    fit in a share of the budget; the sources get the rest, less `reserved_tokens` (the quotes
    put before them)."""
    budget = (
        generator.context_tokens
        - max_answer_tokens
        - TEMPLATE_OVERHEAD_TOKENS
        - generator.count_tokens(SYSTEM_PROMPT)
        - generator.count_tokens(f"Question: {question}\nAnswer:")
        - reserved_tokens
    )
    turns = fit_history(history or [], generator, budget // HISTORY_SHARE)
    budget -= sum(generator.count_tokens(turn["content"]) for turn in turns)
    cap = source_tokens
    packed: list[Hit] = []
    for hit in hits:
        cost = generator.count_tokens(source_block(len(packed) + 1, hit) + "\n\n")
        # The best hit goes in past the cap (a cap must not make an answer "not found").
        if cost > budget or (packed and cap is not None and cost > cap):
            break  # hits are best first: a lower one must not jump ahead of a better one
        budget -= cost
        cap = None if cap is None else cap - cost
        packed.append(hit)
    return turns, packed


def prompt_messages(
    question: str,
    packed: list[Hit],
    turns: list[ChatMessage],
    quotes: Sequence[Quote] = (),
) -> list[ChatMessage]:
    """System prompt, history, then the user turn: the best quotes first (a small model reads
    the start of its context best), the numbered sources, the question."""
    sources = "\n\n".join(source_block(n, hit) for n, hit in enumerate(packed, start=1))
    lead = quote_block(quotes)
    body = f"Sources:\n\n{sources}\n\n" if packed else ""
    user = f"{lead}{body}Question: {question}\nAnswer:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, *turns, {"role": "user", "content": user}]


def quote_block(quotes: Sequence[Quote]) -> str:
    """The quotes as the prompt's first lines ("" without quotes)."""
    if not quotes:
        return ""
    lines = "\n".join(f"[{q.citation}] {q.text}" for q in quotes)
    return f"Most relevant:\n{lines}\n\n"


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
            file_name=file_name_of(hit.path),
        )
        for n, hit in enumerate(hits, start=1)
    ]


def file_name_of(path: str) -> str:
    """The file's name in a document's stored (reader-safe) path."""
    return path.rsplit("/", 1)[-1]


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
class Answer:
    """The one answer object, from here to the HTTP layer: citations known up front, the text
    still to come in `tokens` (which the API's generation gate and pseudonym restoring wrap).

    `generation` is the model's own stream (None when no model was called): once `tokens` has
    been read to the end it holds `usage` and `finish_reason`. `question` is the question as
    searched, pseudonymized (set by the service; the chat stores it)."""

    citations: list[Citation]
    found: bool
    tokens: Iterator[str]
    generation: Iterator[str] | None = None
    question: AnonymizedText | None = None
    # The cited passages' texts, [n] at n - 1, and the quotes that answer from them
    # (rag/quotes.py, put there by the service).
    passages: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    # answer.unsupported = quotes: an answer with an unsupported sentence is shown as its quotes.
    replace_unsupported: bool = False
    # The question as the passages read (the asker's values restored): the grounding check
    # asks that a fact stand in a passage sentence on it.
    asked: str | None = None
    text: str | None = field(default=None, init=False)

    def read(self) -> str:
        """Read `tokens` to the end: the whole answer's text, kept in `text`."""
        if self.text is None:
            self.text = "".join(self.tokens).strip()
        return self.text

    def checked(self, text: str) -> tuple[str, list[SentenceCheck]]:
        """(the text to show, the grounding check of each sentence of `text`, the generated
        answer, against the cited passages: rag/grounding.py). The text is `text`, or the
        quotes when `replace_unsupported` and a sentence is not supported."""
        sentences = check_answer(text, self.passages, self.asked, [q.text for q in self.quotes])
        if self.replace_unsupported and self.quotes and not all(s.grounded for s in sentences):
            return " ".join(f"“{q.text}” [{q.citation}]" for q in self.quotes), sentences
        return text, sentences

    def usage(self) -> Usage:
        """The generation's token counts; zeros without one (or from a backend that reported
        none). Read it after `tokens`."""
        usage = getattr(self.generation, "usage", None)
        return usage if usage is not None else Usage(prompt_tokens=0, completion_tokens=0)

    def cut_at_max_tokens(self) -> bool:
        """Whether the answer ended because it reached its maximum tokens. Read after `tokens`."""
        return getattr(self.generation, "finish_reason", None) == "length"


def start_answer(
    question: str,
    hits: list[Hit],
    generator: Generator,
    max_answer_tokens: int,
    history: list[ChatMessage] | None = None,
    limits: GenerationLimits | None = None,
    *,
    source_tokens: int | None = None,
    find_quotes: Callable[[list[str]], list[Quote]] | None = None,
    quotes_in_prompt: bool = False,
    sources_in_prompt: bool = True,
    facts_from_prompt: bool = False,
) -> Answer:
    """With no relevant hit the LLM is not called: the answer says so plainly.

    `limits` may lower `max_answer_tokens` for this answer and add stop strings. The prompt
    is packed for `max_answer_tokens` all the same, so the sources an answer gets do not
    depend on how long the client lets it be. `source_tokens` caps the sources' tokens;
    `find_quotes` picks the quotes from the packed passages' texts (rag/quotes.py), and with
    `quotes_in_prompt` they open the prompt, in QUOTE_RESERVE_TOKENS kept for them; without
    `sources_in_prompt` (and with quotes found) the quotes are all the prompt holds: the packed
    passages still give the quotes, the citations and the grounding check, and are packed
    without `source_tokens`. With `facts_from_prompt`, a backend that can (`constrains_facts`)
    states no name or number the prompt's question, history, quotes and sources do not hold
    (rag/llm/facts.py)."""
    limits = limits or GenerationLimits()
    reserved = QUOTE_RESERVE_TOKENS if find_quotes and quotes_in_prompt else 0
    # The cap keeps the prompt short; sources left out of the prompt cost it nothing, and more
    # of them give the quotes more sentences to choose from.
    cap = source_tokens if sources_in_prompt else None
    turns, packed = choose_sources(
        question, hits, generator, max_answer_tokens, history, cap, reserved
    )
    if not packed:
        return Answer(citations=[], found=False, tokens=iter([NOT_FOUND]))
    passages = [hit.text for hit in packed]
    quotes = find_quotes(passages) if find_quotes else []
    shown = _fitting(quotes, generator, reserved) if quotes_in_prompt else []
    # The prompt's table rows hold only the cells asked for; the answer's quotes stay whole.
    shown = [_for_the_prompt(question, quote) for quote in shown]
    in_prompt = packed if sources_in_prompt or not shown else []
    messages = prompt_messages(question, in_prompt, turns, shown)
    max_tokens = min(max_answer_tokens, limits.max_tokens or max_answer_tokens)
    options = {}
    if facts_from_prompt and getattr(generator, "constrains_facts", False):
        # What the prompt quotes, not how it lays it out: "(page 3)" is no figure to state.
        said = [question, *(turn["content"] for turn in turns), *(q.text for q in shown)]
        said += [f"{hit.title}\n{hit.text}" for hit in in_prompt]
        options["facts"] = facts_in(said)
    generation = generator.stream(
        messages, max_tokens=max_tokens, stop=list(limits.stop) or None, **options
    )
    return Answer(
        citations=citations_for(packed),
        found=True,
        tokens=units_from_quotes(generation, [quote.text for quote in quotes], question),
        generation=generation,
        passages=passages,
        quotes=quotes,
    )


def _for_the_prompt(question: str, quote: Quote) -> Quote:
    return replace(quote, text=asked_cells(question, quote.text)) if quote.table_row else quote


def _fitting(quotes: list[Quote], generator: Generator, budget: int) -> list[Quote]:
    """The best quotes, in order, whose block fits in `budget` tokens."""
    kept: list[Quote] = []
    for quote in quotes:
        if generator.count_tokens(quote_block([*kept, quote])) > budget:
            break
        kept.append(quote)
    return kept
