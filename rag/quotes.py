"""Quotes: the sentence or two of the cited passages that answer the question, chosen without
the LLM, so a reader sees the source's own words even when the model's answer is wrong.

Every sentence and table row (rag/text_units.py) of the best passages is scored by the
question's embedding against its own (cosine) and by the question's content words it holds,
each weighed by how rare it is among the candidates; the weighted sum orders them (weights
measured on squad-dev: bench/RESULTS.md, "Quotes"); headings and header rows are left out. A
quote is one unit, cut at MAX_WORDS; a short sentence takes the next one of its passage with it
(at most two sentences).

Offsets are in the passage's text with whitespace collapsed, as a citation's snippet shows it:
the snippet is its first characters, so `snippet[start:end] == text` when the quote lies there.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.privacy.pseudonyms import restore_pseudonyms
from rag.text_units import Unit, collapsed, content_stems, units

MAX_WORDS = 60
# A sentence this short is often a fragment ("It was 27 days.") that needs its neighbour.
SHORT_SENTENCE_WORDS = 8
# Measured on the first 500 squad-dev questions (bench/RESULTS.md, "Quotes"): 0 and 1 did worse.
DENSE_WEIGHT = 0.75
QUOTED_PASSAGES = 3
MAX_QUOTES = 2
_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class Quote:
    citation: int  # the citation's number, [n]
    text: str
    start: int  # in the citation's passage text, whitespace collapsed
    end: int
    score: float

    def public(self) -> dict:
        """What the API shows (the score is for measuring)."""
        return {"citation": self.citation, "text": self.text, "start": self.start, "end": self.end}


class SentenceEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, texts: Sequence[str]) -> np.ndarray: ...


class QuoteFinder(Protocol):
    def find(self, question: str, passages: Sequence[str]) -> list[Quote]:
        """Quotes for `question` from `passages` (best first; passage i is citation i + 1)."""
        ...


class SentenceQuotes:
    """Quotes by sentence embedding plus rare-word overlap. Sentence vectors are cached by
    text (the same passages come back for related questions)."""

    def __init__(
        self,
        embedder: SentenceEmbedder,
        dense_weight: float = DENSE_WEIGHT,
        passages: int = QUOTED_PASSAGES,
        max_quotes: int = MAX_QUOTES,
    ) -> None:
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.passages = passages
        self.max_quotes = max_quotes
        self._vectors: dict[str, np.ndarray] = {}

    def with_weight(self, dense_weight: float) -> SentenceQuotes:
        """The same finder with another weight, sharing the cached vectors (for measuring)."""
        other = SentenceQuotes(self.embedder, dense_weight, self.passages, self.max_quotes)
        other._vectors = self._vectors
        return other

    def find(self, question: str, passages: Sequence[str]) -> list[Quote]:
        candidates = [
            (number, passage, unit)
            for number, passage in enumerate(passages[: self.passages], start=1)
            for unit in units(passage)
            if not unit.header  # a heading or a table's header row names, it answers nothing
        ]
        if not candidates:
            return []
        texts = [passage[unit.start : unit.end] for _, passage, unit in candidates]
        scores = self.dense_weight * self._cosines(question, texts) + (
            1 - self.dense_weight
        ) * overlap_scores(question, texts)
        quotes: list[Quote] = []
        used: set[tuple[int, int]] = set()
        for index in np.argsort(-scores, kind="stable"):
            number, passage, unit = candidates[index]
            if (number, unit.start) in used:
                continue
            chosen = [unit]
            following = _next_unit(passage, unit)
            if _words(passage, unit) < SHORT_SENTENCE_WORDS and following is not None:
                chosen.append(following)
            used.update((number, u.start) for u in chosen)
            quotes.append(_quote(number, passage, chosen, float(scores[index])))
            if len(quotes) == self.max_quotes:
                break
        return quotes

    def _cosines(self, question: str, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > _CACHE_SIZE:
                self._vectors.clear()
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[text] = vector
        query = self.embedder.embed_query([question])[0]
        return np.array([float(self._vectors[t] @ query) for t in texts])


def overlap_scores(question: str, texts: list[str]) -> np.ndarray:
    """Per text, the share of the question's content words it holds, each weighed by its
    rarity among `texts` (a word every sentence has tells none apart)."""
    wanted = content_stems(question)
    held = [content_stems(text) & wanted for text in texts]
    count = len(texts)
    weight = {}
    for word in wanted:
        frequency = sum(word in words for words in held)
        if frequency:
            weight[word] = math.log(1 + count / frequency)
    total = sum(weight.values())
    if not total:
        return np.zeros(count)
    return np.array([sum(weight.get(w, 0.0) for w in words) / total for words in held])


def _words(passage: str, unit: Unit) -> int:
    return len(passage[unit.start : unit.end].split())


def _next_unit(passage: str, unit: Unit) -> Unit | None:
    """The sentence after `unit` in its passage (None after a table row or at the end)."""
    if unit.table_row:
        return None
    after = [u for u in units(passage) if u.start >= unit.end]
    if not after or after[0].table_row:
        return None
    return after[0]


def _quote(number: int, passage: str, chosen: list[Unit], score: float) -> Quote:
    """The units as one quote in the collapsed passage, cut at MAX_WORDS."""
    text, raw_starts, starts = collapsed(passage)
    first = bisect_left(raw_starts, chosen[0].start)
    last = bisect_left(raw_starts, chosen[-1].end) - 1
    last = min(last, first + MAX_WORDS - 1)
    start = starts[first]
    end = starts[last] + len(text[starts[last] :].split(" ", 1)[0])
    return Quote(number, text[start:end], start, end, round(score, 4))


def restore_quotes(
    quotes: list[Quote], passages: Sequence[str], originals: dict[str, str]
) -> list[Quote]:
    """The quotes with the asker's own values in place of their pseudonyms, offsets moved to
    the restored passage text (a pseudonym never straddles a quote's edge: it has no space)."""
    if not originals:
        return quotes
    restored = []
    for quote in quotes:
        text, _, _ = collapsed(passages[quote.citation - 1])
        start = len(restore_pseudonyms(text[: quote.start], originals))
        shown = restore_pseudonyms(quote.text, originals)
        restored.append(Quote(quote.citation, shown, start, start + len(shown), quote.score))
    return restored
