"""The grounding check: is each sentence of a generated answer supported by its cited passages?

A sentence states facts: numbers and amounts, dates, names (capitalized words past the first,
pseudonyms). A name must occur in the passages. A number or date must stand in one passage
sentence or table row (rag/text_units.py) together with what it measures: at least one of the
answer's content words near it (within NEAR_WORDS words), and any other figure right beside it
("revenue in 2021 was 5" needs 5 and 2021 in one row). A table row is also read cell by cell,
each cell with the row's labels and its column's header, so a figure of another column (another
period) is no support. A sentence without such facts is grounded: there is nothing to check.

Answer and passages are compared as the reader sees them: the service restores the asker's own
values in both, so a name typed by the asker meets the passage's pseudonym restored too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.db.fulltext.base import PSEUDONYM, STOPWORDS
from rag.grounding_question import QuestionTopic
from rag.text_units import content_stems, stem, units

NEAR_WORDS = 6  # content words this close to a figure are what it measures
BESIDE_WORDS = 3  # another figure this close belongs with it (a period, a unit)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?")
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_CITATION_MARK = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_WEEKDAY_WORDS = "monday tuesday wednesday thursday friday saturday sunday"
_WEEKDAYS = frozenset(_WEEKDAY_WORDS.split())
# Words about the answer itself, not about what a figure measures.
_META_WORDS = (
    "answer source sources document documents passage according state states "
    "mention mentions say says provide provides information question total"
)
_META = frozenset(stem(w) for w in _META_WORDS.split())


@dataclass(frozen=True)
class SentenceCheck:
    text: str
    grounded: bool
    reason: str


@dataclass(frozen=True)
class _Fact:
    kind: str  # "number", "date" or "name"
    shown: str
    parts: frozenset[str]
    first_word: int
    last_word: int


def check_answer(
    answer: str, passages: Sequence[str], question: str | None = None, quotes: Sequence[str] = ()
) -> list[SentenceCheck]:
    """Each sentence of `answer`, grounded or not, and why. With the `question` (and the
    `quotes` chosen for it) a sentence's facts and new words must also stand in a passage
    sentence on the question (rag/grounding_question.py)."""
    evidence = [_Evidence(text) for passage in passages for text in _evidence_texts(passage)]
    words = set().union(*(e.words for e in evidence)) if evidence else set()
    topic = QuestionTopic(question, evidence, quotes) if question else None
    asked = _tokens(question) if question else set()
    checks = []
    for unit in units(answer):
        sentence = answer[unit.start : unit.end]
        checks.append(_check(sentence, evidence, words, topic, asked))
    plain = _CITATION_MARK.sub(" ", answer)
    missing = topic.missing_kind(plain) if topic and checks else None
    if missing:
        checks = [
            SentenceCheck(c.text, False, c.reason if not c.grounded else missing) for c in checks
        ]
    return checks


def _check(
    sentence: str,
    evidence: list[_Evidence],
    words: set[str],
    topic: QuestionTopic | None = None,
    asked: set[str] | frozenset[str] = frozenset(),
) -> SentenceCheck:
    plain = _CITATION_MARK.sub(lambda m: " " * len(m.group(0)), sentence)
    facts = _facts(plain)
    off_topic = topic.unsupported(plain, facts, asked) if topic else None
    if not facts:
        if off_topic:
            return SentenceCheck(sentence, False, off_topic)
        return SentenceCheck(sentence, True, "states no figure, date or name to check")
    spans = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", plain)]
    for fact in facts:
        if fact.parts <= asked:
            continue  # the asker's own words: the question gave them, the answer repeats them
        if fact.kind == "name":
            if not all(_known_word(part, words) for part in fact.parts):
                return SentenceCheck(sentence, False, f"{fact.shown} is not in the sources")
            continue
        if not any(fact.parts <= e.tokens for e in evidence):
            return SentenceCheck(sentence, False, f"{fact.shown} is not in the sources")
        near = _near_stems(spans, fact)
        beside = [
            f
            for f in facts
            if f is not fact
            and f.kind != "name"
            and min(abs(f.first_word - fact.last_word), abs(fact.first_word - f.last_word))
            <= BESIDE_WORDS
        ]
        needed = frozenset().union(fact.parts, *(f.parts for f in beside))
        if not any(needed <= e.tokens and (not near or near & e.stems) for e in evidence):
            with_what = ", ".join([f.shown for f in beside] + sorted(near)[:3])
            return SentenceCheck(
                sentence, False, f"{fact.shown} is in the sources, but not with {with_what}"
            )
    if off_topic:
        return SentenceCheck(sentence, False, off_topic)
    return SentenceCheck(sentence, True, "its figures, dates and names are in the sources")


def _known_word(word: str, words: set[str]) -> bool:
    """`word` is in the sources, or is one of their words with a short ending added
    ("Protestantism" for "Protestant")."""
    if word in words:
        return True
    if word.startswith("<") or len(word) < 8:
        return False
    return any(word.startswith(known) for known in words if len(known) >= len(word) - 3)


def _facts(text: str) -> list[_Fact]:
    word_starts = [m.start() for m in re.finditer(r"\S+", text)]

    def fact(kind: str, match: re.Match, parts: set[str]) -> _Fact:
        first = _word_at(word_starts, match.start())
        last = _word_at(word_starts, match.end() - 1)
        return _Fact(kind, match.group(0).strip(), frozenset(parts), first, last)

    facts = [fact("name", m, {m.group(0)}) for m in PSEUDONYM.finditer(text)]
    rest = PSEUDONYM.sub(lambda m: " " * len(m.group(0)), text)
    for match in _DATE.finditer(rest):
        facts.append(fact("date", match, _tokens(match.group(0))))
    rest = _DATE.sub(lambda m: " " * len(m.group(0)), rest)
    facts.extend(fact("number", m, {_number(m.group(0))}) for m in _NUMBER.finditer(rest))
    for match in _NAME.finditer(rest):
        names = [
            w
            for w in match.group(0).split()
            if w.lower() not in STOPWORDS
            and w.lower().rstrip(".") not in _MONTHS
            and w.lower() not in _WEEKDAYS
        ]
        if match.start() == len(rest) - len(rest.lstrip()):
            names = names[1:] if match.group(0).split()[0] in names else names
        if names:
            parts = {w for name in names for w in re.findall(r"[^\W\d_]+", name.lower())}
            facts.append(fact("name", match, parts))
    return facts


def _word_at(word_starts: list[int], position: int) -> int:
    index = 0
    for number, start in enumerate(word_starts):
        if start <= position:
            index = number
    return index


def _near_stems(spans: list[tuple[int, str]], fact: _Fact) -> set[str]:
    """Content stems of the words around `fact` (not its own), within NEAR_WORDS."""
    near = [
        word
        for index, (_, word) in enumerate(spans)
        if fact.first_word - NEAR_WORDS <= index <= fact.last_word + NEAR_WORDS
        and not fact.first_word <= index <= fact.last_word
    ]
    return content_stems(" ".join(near)) - _META


def _number(text: str) -> str:
    value = text.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def _tokens(text: str) -> set[str]:
    """Numbers (normalized), month numbers, pseudonyms and lower-cased words of `text`."""
    tokens = {m.group(0) for m in PSEUDONYM.finditer(text)}
    rest = PSEUDONYM.sub(" ", text)
    for match in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", rest):
        tokens.add(f"month:{int(match.group(2))}")
    tokens.update(_number(m.group(0)) for m in _NUMBER.finditer(rest))
    tokens.update(_number(m) for m in re.findall(r"\d+", rest))  # "27th", "2024-01-31"
    for word in re.findall(r"[^\W\d_]+", rest.lower()):
        tokens.add(word)
        if word in _MONTHS:
            tokens.add(f"month:{_MONTHS[word]}")
    return tokens


class _Evidence:
    """One passage sentence, table row or table cell: its tokens and content stems."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.stems = content_stems(text)
        self.words = {t for t in self.tokens if not t[:1].isdigit()}


def _evidence_texts(passage: str) -> list[str]:
    """The passage's sentences and table rows, and each data cell of a table with its row's
    labels and its column's header."""
    texts: list[str] = []
    header: list[str] = []
    for unit in units(passage):
        text = passage[unit.start : unit.end]
        texts.append(text)
        if not unit.table_row:
            continue
        cells = [c.strip() for c in re.split(r"\||\t", text) if c.strip()]
        if unit.header:
            header = cells
            continue
        labels = [c for c in cells if not _NUMBER.fullmatch(c.replace(" ", ""))]
        for column, cell in enumerate(cells):
            if cell not in labels:
                heading = header[column] if column < len(header) else ""
                texts.append(" ".join([*labels, heading, cell]))
    return texts
