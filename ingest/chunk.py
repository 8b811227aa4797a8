"""Token-aware chunking with the embedding model's own tokenizer.

Chunks fit the embedding window, prefer to end at a paragraph or sentence end, and keep their
page range. A chunk cut inside a sentence (no end near its window's end, or a table row cut at
one of its "; ") is overlapped by the next, so the sentence is whole in one of them; after a
chunk that ends with its sentence, the next starts where it ends (`overlap_always` repeats
the tail there too: ~20 % more tokens to embed, bench/RESULTS.md, issue 19).
Pages are chunked one by one (short ones grouped), so a citation's page is where its text is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.loaders.base import Page
from rag.embed.pseudonym_words import StandInOffsets

PAGE_SEPARATOR = "\n\n"
SENTENCE_ENDS = (".", "?", "!", ":", ";")
# Ends after which nothing of the sentence is left for the next chunk (":" and ";" also end
# the cells of a table row, whose label the next chunk would lose).
FULL_STOPS = (".", "?", "!")
CONTEXT_SEPARATOR = " · "
_MAX_HEADING_CHARS = 120


@dataclass(frozen=True)
class TextChunk:
    ordinal: int
    text: str
    page_start: int
    page_end: int
    token_count: int
    heading: str | None = None  # the section heading of the page the chunk starts on


def chunk_context(title: str, chunk: TextChunk, name_parts: Sequence[str] = ()) -> str:
    """The short header a chunk is embedded and full-text indexed with (never shown as its
    text): document title, section heading, page. A figure in a table row is then found with
    the company and section it belongs to. `name_parts`: the tokens of the words of the
    hidden multi-word names in the chunk (rag/privacy/name_parts.py), last."""
    pages = (
        f"page {chunk.page_start}"
        if chunk.page_start == chunk.page_end
        else f"pages {chunk.page_start}-{chunk.page_end}"
    )
    title = " ".join(title.split())
    heading = " ".join((chunk.heading or "").split())[:_MAX_HEADING_CHARS].strip()
    parts = [
        title,
        heading if heading.casefold() != title.casefold() else "",
        pages,
        " ".join(name_parts),
    ]
    return CONTEXT_SEPARATOR.join(part for part in parts if part)


@dataclass(frozen=True)
class _Token:
    page: int
    start: int  # character offsets in the joined document text
    end: int


def chunk_pages(
    pages: list[Page],
    tokenizer,
    chunk_tokens: int = 200,
    overlap_tokens: int = 40,
    min_tokens: int = 24,
    pseudonym_stand_ins: bool = False,
    overlap_always: bool = False,
) -> list[TextChunk]:
    """Chunk each page on its own so a citation's page is where its text is; a page shorter
    than `min_tokens` joins the pages after it instead of making a scrap of a chunk.
    `pseudonym_stand_ins`: a pseudonym counts as the tokens of the words the embedder reads
    for it (rag/embed/pseudonym_words.py), not of its hex digits."""
    if overlap_tokens >= chunk_tokens:
        raise ValueError("overlap_tokens must be smaller than chunk_tokens")
    chunks: list[TextChunk] = []
    headings = {page.number: page.heading for page in pages}
    encoded = [
        (page, _offsets(page, tokenizer, pseudonym_stand_ins))
        for page in pages
        if page.text.strip()
    ]
    for group in _page_groups(encoded, min_tokens):
        text, tokens = _join(group)
        windows = _windows(text, tokens, chunk_tokens, overlap_tokens, overlap_always)
        for piece_start, piece_end in windows:
            first, last = tokens[piece_start], tokens[piece_end - 1]
            chunks.append(
                TextChunk(
                    ordinal=len(chunks),
                    text=text[first.start : last.end].strip(),
                    page_start=first.page,
                    page_end=last.page,
                    token_count=piece_end - piece_start,
                    heading=headings.get(first.page),
                )
            )
    return chunks


_Encoded = tuple[Page, list[tuple[int, int]]]


def _offsets(page: Page, tokenizer, pseudonym_stand_ins: bool) -> list[tuple[int, int]]:
    """Each token's character span in the page; every page is tokenized once. With stand-ins,
    the tokens of the text the embedder reads, each spanning its pseudonym where it is one."""
    read = StandInOffsets(page.text) if pseudonym_stand_ins else None
    encoded = tokenizer(
        read.text if read else page.text,
        add_special_tokens=False,
        return_offsets_mapping=True,
        verbose=False,
    )
    spans = [tuple(span) for span in encoded["offset_mapping"]]
    if read is None:
        return spans
    return [(read.original(start), read.original(end, end=True)) for start, end in spans]


def _page_groups(pages: list[_Encoded], min_tokens: int) -> list[list[_Encoded]]:
    groups: list[list[_Encoded]] = []
    current: list[_Encoded] = []
    current_tokens = 0
    for page, offsets in pages:
        current.append((page, offsets))
        current_tokens += len(offsets)
        if current_tokens >= min_tokens:
            groups.append(current)
            current, current_tokens = [], 0
    if current:
        if groups and current_tokens < min_tokens:
            groups[-1].extend(current)  # a short last page joins the one before it
        else:
            groups.append(current)
    return groups


def _windows(text: str, tokens: list[_Token], size: int, overlap: int, overlap_always: bool):
    start = 0
    while start < len(tokens):
        end = min(start + size, len(tokens))
        if end < len(tokens):
            end = _best_break(text, tokens, start, end, size)
        yield start, end
        if end >= len(tokens):
            return
        if overlap_always or not _ends_whole(text, tokens, end):
            start = _next_start(tokens, start, end, overlap)
        else:
            start = end


def _ends_whole(text: str, tokens: list[_Token], end: int) -> bool:
    """Whether the chunk ending before token `end` ends with its page, paragraph or sentence."""
    if tokens[end - 1].page != tokens[end].page:
        return True
    gap = _gap(text, tokens, end)
    return gap.count("\n") >= 2 or _ends_with(text, tokens, end, gap, FULL_STOPS)


def _gap(text: str, tokens: list[_Token], i: int) -> str:
    """The text between token `i - 1` and token `i` (whitespace, or "" inside a word)."""
    return text[tokens[i - 1].end : tokens[i].start]


def _ends_with(text: str, tokens: list[_Token], i: int, gap: str, ends: tuple[str, ...]) -> bool:
    """Whether the text before token `i` ends with one of `ends` and a space follows."""
    return bool(gap) and text[tokens[i - 1].end - 1] in ends


def _join(pages: list[_Encoded]) -> tuple[str, list[_Token]]:
    """The group's pages as one text, with token spans shifted into it."""
    tokens: list[_Token] = []
    offset = 0
    for page, offsets in pages:
        for char_start, char_end in offsets:
            if char_end > char_start:
                tokens.append(_Token(page.number, offset + char_start, offset + char_end))
        offset += len(page.text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(page.text for page, _ in pages), tokens


def _best_break(text: str, tokens: list[_Token], start: int, end: int, size: int) -> int:
    """Where to end a chunk that would otherwise stop at `end`.

    A page boundary past the first quarter of the window wins, so a citation's page is where
    its text is; else the latest paragraph end, then sentence end, in the last 40%; else `end`.
    """
    for i in range(end - 1, start + size // 4, -1):
        if tokens[i - 1].page != tokens[i].page:
            return i
    sentence_end = None
    for i in range(end - 1, start + int(size * 0.6), -1):
        gap = _gap(text, tokens, i)
        if gap.count("\n") >= 2:
            return i
        if sentence_end is None and _ends_with(text, tokens, i, gap, SENTENCE_ENDS):
            sentence_end = i
    return sentence_end or end


def _next_start(tokens: list[_Token], start: int, end: int, overlap: int) -> int:
    """Overlap with the previous chunk, but never reach back across a page boundary."""
    next_start = max(end - overlap, start + 1)
    while next_start < end and tokens[next_start].page != tokens[end].page:
        next_start += 1
    return next_start
