"""Quotes: the sentence or two of the cited passages that answer the question, chosen without
the LLM, so a reader sees the source's own words even when the model's answer is wrong.

The candidates are every sentence and table row (rag/text_units.py) of the best passages, and
every two neighbouring sentences that fit in MAX_WORDS together; headings and header rows are
left out. Each is scored by
  DENSE_WEIGHT x the question's embedding against its best sentence's (cosine)
  + (1 - DENSE_WEIGHT) x the share of the question's content words it holds, each weighed by
    how rare it is among the candidates (words compared without accents or a possessive 's,
    numbers included: "Rollo's" meets "Rollo", "Temür" "Temur", "Article 102" "Article 102")
  + LATE_WEIGHT x late interaction (as ColBERT scores, with the same model): each content token
    of the question against every token of the sentence, read in the context of its whole
    passage (the model's last layer before pooling); the best cosine per question token,
    averaged. It sees what one vector per sentence blurs and exact words miss: a word form or
    a near synonym in context ("supplanted" / "replaced"), which of the question's words a
    sentence is about, a pronoun read with the sentence before it
  + ANSWER_TYPE_WEIGHT if it holds what the question asks for (rag/answer_types.py)
  + NEIGHBOUR_WEIGHT x the best of those first three parts of a sentence just before or after it
  + ANAPHOR_WEIGHT for a pair whose second sentence starts by pointing back ("He", "Such").
A pair has its better sentence's cosine and late interaction, so it wins over that sentence
alone only where the neighbour adds question words, the answer type, or goes on about the first
("Such problems are called ..."): the answer is often in the sentence beside the one that
resembles the question (a pronoun's name, a figure's subject), but a neighbour that adds
nothing is not quoted (on a tie the single sentence comes first). The weights are measured on
squad-dev (bench/RESULTS.md, "Quotes").
The best candidate is the first quote; the next one sharing no sentence with it the second.

Offsets are in the passage's text with whitespace collapsed, as a citation's snippet shows it:
the snippet is its first characters, so `snippet[start:end] == text` when the quote lies there.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from rag.answer_types import asked_type, holds_type
from rag.embed.inputs import TokenVectors
from rag.privacy.pseudonyms import restore_pseudonyms
from rag.text_units import Unit, collapsed, content_stems, units

MAX_WORDS = 60
# Fewer words than this, and a sentence is a fragment ("Gym subsidy."): never quoted alone.
MIN_WORDS_ALONE = 4
# Measured on the first 500 squad-dev questions (bench/RESULTS.md, "Quotes"): 0 and 1 did worse.
DENSE_WEIGHT = 0.75
# Added to the score of a candidate holding what the question asks for (a number for "how
# many", a year for "when", a name for "who": rag/answer_types.py). Both added weights were
# chosen on squad-dev's even questions (bench/RESULTS.md, "Quotes").
ANSWER_TYPE_WEIGHT = 0.1
# A sentence beside one that resembles the question is likelier to answer it; a pair whose
# second sentence points back at the first belongs together. Chosen on squad-dev's even
# questions with the service's passages (bench/RESULTS.md, "Quotes, third round").
NEIGHBOUR_WEIGHT = 0.05
ANAPHOR_WEIGHT = 0.02
# Chosen on squad-dev's even questions with the service's passages (0.5 to 2 gave 80.1 to
# 81.1 %, 0 78.8 %; bench/RESULTS.md, "Quotes, fifth round").
LATE_WEIGHT = 1.0
_POINTS_BACK = re.compile(
    r"(?:He|She|It|They|This|These|That|Those|Such|His|Her|Its|Their|There|Then"
    r"|The latter|The former)\b"
)
QUOTED_PASSAGES = 3
MAX_QUOTES = 2
_CACHE_SIZE = 50_000
# Passages whose token vectors are kept (~150 kB each, float16): those of the last questions.
_TOKEN_CACHE_SIZE = 256


@dataclass(frozen=True)
class Quote:
    citation: int  # the citation's number, [n]
    text: str
    start: int  # in the citation's passage text, whitespace collapsed
    end: int
    score: float
    table_row: bool = False  # one row of a table: its cells are figures a model may mix up

    def public(self) -> dict:
        """What the API shows (the score is for measuring)."""
        return {"citation": self.citation, "text": self.text, "start": self.start, "end": self.end}


class SentenceEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]: ...

    def embed_query_tokens(self, texts: Sequence[str]) -> list[TokenVectors]: ...


class QuoteFinder(Protocol):
    def find(self, question: str, passages: Sequence[str]) -> list[Quote]:
        """Quotes for `question` from `passages` (best first; passage i is citation i + 1)."""
        ...


class SentenceQuotes:
    """Quotes by sentence embedding, rare-word overlap and late interaction. Sentence and
    passage token vectors are cached by text (the same passages come back for related
    questions)."""

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
        self._tokens: dict[str, TokenVectors] = {}

    def with_weight(self, dense_weight: float) -> SentenceQuotes:
        """The same finder with another weight, sharing the cached vectors (for measuring)."""
        other = SentenceQuotes(self.embedder, dense_weight, self.passages, self.max_quotes)
        other._vectors, other._tokens = self._vectors, self._tokens
        return other

    def find(self, question: str, passages: Sequence[str]) -> list[Quote]:
        candidates = _candidates(passages[: self.passages])
        if not candidates:
            return []
        wanted = quote_words(question)
        spans = [passage[chosen[0].start : chosen[-1].end] for _, passage, chosen in candidates]
        skips = [_window_start(span, wanted) for span in spans]
        texts = [
            " ".join(span.split()[skip : skip + MAX_WORDS])
            for span, skip in zip(spans, skips, strict=True)
        ]
        cosines = self._cosines(question, candidates)
        asked = asked_type(question)
        resemblance = (
            self.dense_weight * cosines
            + (1 - self.dense_weight) * overlap_scores(question, texts)
            + LATE_WEIGHT * self._late_interaction(question, candidates)
        )
        scores = (
            resemblance
            + ANSWER_TYPE_WEIGHT * np.array([holds_type(asked, t, question) for t in texts])
            + NEIGHBOUR_WEIGHT * _beside(candidates, resemblance)
            + ANAPHOR_WEIGHT * np.array([_points_back(c) for c in candidates])
        )
        quotes: list[Quote] = []
        used: set[tuple[int, int]] = set()
        sizes = np.array([len(chosen) for _, _, chosen in candidates])
        for index in np.lexsort((sizes, -scores)):  # on a tie, one sentence before two
            number, passage, chosen = candidates[index]
            if any((number, u.start) in used for u in chosen):
                continue  # a sentence is quoted once
            used.update((number, u.start) for u in chosen)
            quotes.append(_quote(number, passage, chosen, float(scores[index]), skips[index]))
            if len(quotes) == self.max_quotes:
                break
        return quotes

    def _cosines(self, question: str, candidates: list[tuple[int, str, list[Unit]]]) -> np.ndarray:
        """Per candidate, the question's cosine with its best sentence."""
        texts = [[passage[u.start : u.end] for u in chosen] for _, passage, chosen in candidates]
        missing = list(dict.fromkeys(t for group in texts for t in group if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > _CACHE_SIZE:
                self._vectors.clear()
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[text] = vector
        query = self.embedder.embed_query([question])[0]
        return np.array([max(float(self._vectors[t] @ query) for t in group) for group in texts])

    def _late_interaction(
        self, question: str, candidates: list[tuple[int, str, list[Unit]]]
    ) -> np.ndarray:
        """Per candidate, its better sentence's mean over the question's content tokens of the
        best cosine with one of the sentence's tokens."""
        asked = _content_tokens(question, self.embedder.embed_query_tokens([question])[0])
        if not len(asked):
            return np.zeros(len(candidates))  # no token to compare ("???")
        read = self._passage_tokens(list(dict.fromkeys(p for _, p, _ in candidates)))
        found: dict[tuple[int, int], float] = {}
        for number, passage, chosen in candidates:
            tokens = read[passage]
            for unit in chosen:
                if (number, unit.start) in found:
                    continue
                inside = (tokens.spans[:, 0] >= unit.start) & (tokens.spans[:, 1] <= unit.end)
                best = (asked @ tokens.vectors[inside].T).max(1) if inside.any() else 0.0
                found[(number, unit.start)] = float(np.mean(best))
        return np.array(
            [max(found[(number, u.start)] for u in chosen) for number, _, chosen in candidates]
        )

    def _passage_tokens(self, passages: list[str]) -> dict[str, TokenVectors]:
        """Each passage's token vectors, unit length (those not cached read in one call)."""
        found: dict[str, TokenVectors] = {}
        for passage in passages:  # .get: another thread may clear the cache meanwhile
            cached = self._tokens.get(passage)
            if cached is not None:
                found[passage] = cached
        missing = [passage for passage in passages if passage not in found]
        if missing:
            if len(self._tokens) + len(missing) > _TOKEN_CACHE_SIZE:
                self._tokens.clear()
            for passage, read in zip(missing, self.embedder.embed_tokens(missing), strict=True):
                found[passage] = self._tokens[passage] = self._whole(passage, read)
        return found

    def _whole(self, passage: str, read: TokenVectors) -> TokenVectors:
        """`read`, the passage's tokens as far as the model's window took them, and those of
        the rest of a longer passage: read again from the first sentence the window cut."""
        spans, vectors, start = [], [], 0
        cut = units(passage)
        while True:
            spans.append(read.spans + start)
            vectors.append(_unit_length(read.vectors).astype(np.float16))
            if not len(read.spans):
                break
            covered = start + int(read.spans[-1, 1])
            rest = [u.start for u in cut if u.end > covered and u.start > start]
            if not rest or not _WORD_CHARACTER.search(passage, covered):
                break  # nothing cut, or only the end punctuation
            start = rest[0]
            read = self.embedder.embed_tokens([passage[start:]])[0]
        return TokenVectors(np.concatenate(spans), np.concatenate(vectors))


def _content_tokens(question: str, tokens: TokenVectors) -> np.ndarray:
    """The unit vectors of the question's tokens that belong to a content word or a number
    (quote_words: not "what", "the", "?"); all of them if it has none."""
    wanted = [bool(quote_words(_word_at(question, start, end))) for start, end in tokens.spans]
    vectors = tokens.vectors[np.array(wanted, dtype=bool)] if any(wanted) else tokens.vectors
    return _unit_length(vectors)


def _word_at(text: str, start: int, end: int) -> str:
    """The whole word a token of `text[start:end]` is a piece of ("##ing" -> "supplanting")."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _unit_length(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def overlap_scores(question: str, texts: list[str]) -> np.ndarray:
    """Per text, the share of the question's content words it holds, each weighed by its
    rarity among `texts` (a word every sentence has tells none apart)."""
    wanted = quote_words(question)
    held = [quote_words(text) & wanted for text in texts]
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


def quote_words(text: str) -> set[str]:
    """The content stems of `text` without accents or a possessive ending, and its numbers:
    a question's "Rollo's", "Temur" and "Article 102" meet a sentence's "Rollo", "Temür" and
    "Article 102" (content_stems alone leaves numbers out, for the grounding check)."""
    words = {_folded(word) for word in content_stems(text)}
    return words | {m.group(0).rstrip(".,") for m in _NUMBER.finditer(text)}


_WORD_CHARACTER = re.compile(r"\w")
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,.]*")
_POSSESSIVE = re.compile(r"['’]s?$")


def _folded(word: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return _POSSESSIVE.sub("", plain) or plain


def _beside(candidates: list[tuple[int, str, list[Unit]]], scores: np.ndarray) -> np.ndarray:
    """Per candidate, the best score of a single sentence just before or just after it."""
    alone = {
        (number, chosen[0].start): scores[i]
        for i, (number, _, chosen) in enumerate(candidates)
        if len(chosen) == 1
    }
    starts: dict[int, list[int]] = {}
    for number, passage, _ in candidates:
        if number not in starts:
            starts[number] = [u.start for u in units(passage)]
    found = np.zeros(len(candidates))
    for i, (number, _, chosen) in enumerate(candidates):
        order = starts[number]
        first, last = order.index(chosen[0].start), order.index(chosen[-1].start)
        near = [order[j] for j in (first - 1, last + 1) if 0 <= j < len(order)]
        found[i] = max((alone.get((number, start), 0.0) for start in near), default=0.0)
    return found


def _points_back(candidate: tuple[int, str, list[Unit]]) -> bool:
    """A pair whose second sentence starts with a word pointing back at the first."""
    _, passage, chosen = candidate
    return len(chosen) == 2 and bool(_POINTS_BACK.match(passage[chosen[1].start : chosen[1].end]))


def _candidates(passages: Sequence[str]) -> list[tuple[int, str, list[Unit]]]:
    """(citation number, passage, units) per candidate quote: each sentence and table row
    alone, and each sentence with the next one when both fit in MAX_WORDS. Headings and
    header rows are never quoted first: they name, they answer nothing."""
    found = []
    for number, passage in enumerate(passages, start=1):
        cut = units(passage)
        for index, unit in enumerate(cut):
            if unit.header:
                continue
            following = cut[index + 1] if index + 1 < len(cut) else None
            pairs = (
                following is not None
                and not unit.table_row
                and not following.table_row
                and not following.header
                and len(passage[unit.start : following.end].split()) <= MAX_WORDS
            )
            # A fragment ("Gym subsidy.") answers nothing alone: it is quoted with the next one.
            if not (pairs and len(passage[unit.start : unit.end].split()) < MIN_WORDS_ALONE):
                found.append((number, passage, [unit]))
            if pairs:
                found.append((number, passage, [unit, following]))
    return found


def _window_start(text: str, wanted: set[str]) -> int:
    """Where the MAX_WORDS words of `text` holding the most of the question's words start, the
    last such place (the words after what the question names are kept: "... the new treasurer
    chosen was Mira Holt."): a sentence longer than a quote is cut around what the question
    asks about, not after its first MAX_WORDS words (the answer may be in its tail)."""
    words = text.split()
    if len(words) <= MAX_WORDS:
        return 0
    held = np.cumsum([0] + [bool(quote_words(word) & wanted) for word in words])
    counts = held[MAX_WORDS:] - held[: len(held) - MAX_WORDS]
    return int(np.flatnonzero(counts == counts.max())[-1])


def _quote(number: int, passage: str, chosen: list[Unit], score: float, skip: int = 0) -> Quote:
    """The units as one quote in the collapsed passage: MAX_WORDS words from its word `skip`."""
    text, raw_starts, starts = collapsed(passage)
    first = bisect_left(raw_starts, chosen[0].start) + skip
    last = bisect_left(raw_starts, chosen[-1].end) - 1
    last = min(last, first + MAX_WORDS - 1)
    start = starts[first]
    end = starts[last] + len(text[starts[last] :].split(" ", 1)[0])
    return Quote(
        number, text[start:end], start, end, round(score, 4), table_row=chosen[0].table_row
    )


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
        restored.append(replace(quote, text=shown, start=start, end=start + len(shown)))
    return restored
