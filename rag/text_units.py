"""A passage cut into what a reader quotes and a claim is checked against: sentences and table
rows, each with its place in the text. Shared by rag/quotes.py and rag/grounding.py.

A line with two or more `|` or a tab is a table row of its own, and so is a line the loaders
write for a table row ("Net income; Three Months Ended June 25, 2022: $19,442; ..."); other
text is cut at sentence ends (not after a common abbreviation or an initial), at blank lines
and after a short line without end punctuation (a heading). Lines wrapped inside a sentence
stay one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.db.fulltext.base import PSEUDONYM, STOPWORDS

_TABLE_ROW = re.compile(r"^[^\n]*(?:\|[^\n]*\||\t)[^\n]*$", re.MULTILINE)
# After . ! or ? (and a closing quote or bracket), whitespace, then what may start a sentence.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[<]?[A-Z0-9])|\n[ \t]*\n")
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof st no nos vs etc eg ie e.g i.e fig inc ltd co corp jr sr jan feb mar "
    "apr jun jul aug sep sept oct nov dec approx dept est"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_HEADING_WORDS = 8
# A table row as the loaders write it (ingest/loaders/tables.py): its label, then
# "; header: value" per cell, one line. A row of its own, though it has no end punctuation.
# A figure in one cell at least: prose with a semicolon and a colon ("conduct 1:1s; a good
# default is: weekly") is not a row. A row a chunk's end cuts off ends in ";" or in a header
# without its value ("...: 81,434; Nine Months Ended").
_NAMED_ROW = re.compile(
    r"(?=.*: [$€£(-]?\d)[^\n.!?;]{1,200}(?:; [^\n;:]{1,80}: [^\n;]{1,40})+(?:;(?: [^\n;:]{1,80})?)?"
)
_WORD = re.compile(r"[^\W_]+(?:[.,'][^\W_]+)*")


@dataclass(frozen=True)
class Unit:
    """One sentence or table row: `text[start:end]` of its passage."""

    start: int
    end: int
    table_row: bool
    header: bool = False  # a table's first row, or a short line without end punctuation


def units(text: str) -> list[Unit]:
    """The sentences and table rows of `text`, in order, trimmed of surrounding whitespace."""
    found: list[Unit] = []
    position = 0
    for row in _TABLE_ROW.finditer(text):
        between = _sentences(text, position, row.start())
        first_row = not found or bool(between) or not found[-1].table_row
        found.extend(between)
        found.extend(_trimmed(text, row.start(), row.end(), table_row=True, header=first_row))
        position = row.end()
    found.extend(_sentences(text, position, len(text)))
    return found


def _sentences(text: str, start: int, end: int) -> list[Unit]:
    cuts = [start]
    for match in _SENTENCE_END.finditer(text, start, end):
        if not _after_abbreviation(text, match.start()):
            cuts.append(match.end())
    rows = set()  # where a loader's table row ("Net income; Q3 2022: $19,442; ...") starts
    for line in re.finditer(r"[^\n]+", text[start:end]):
        if _NAMED_ROW.fullmatch(line.group(0).strip()):
            rows.add(start + line.start())
            cuts.extend([start + line.start(), start + line.end()])
    for line_end in (m.start() for m in re.finditer(r"\n", text[start:end])):
        line_end += start
        line_start = text.rfind("\n", start, line_end) + 1
        line = text[max(line_start, start) : line_end].strip()
        following = text[line_end + 1 : end].lstrip()
        if (heading(line) and following[:1].isupper()) or following[:1] in ("#", "-", "*"):
            cuts.append(line_end + 1)
    cuts = sorted(set(cuts)) + [end]
    pieces: list[Unit] = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        pieces.extend(_trimmed(text, left, right, table_row=left in rows))
    return [replace(p, header=not p.table_row and heading(text[p.start : p.end])) for p in pieces]


def heading(line: str) -> bool:
    """A short line without end punctuation: a heading or a list item, a unit of its own."""
    return bool(line) and line[-1] not in ".!?:;," and len(line.split()) <= _HEADING_WORDS


def _after_abbreviation(text: str, dot: int) -> bool:
    """Whether the '.' at `dot` ends an abbreviation or an initial rather than a sentence."""
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.]+)\Z", text[max(0, dot - 12) : dot])
    if word is None:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _trimmed(text: str, start: int, end: int, table_row: bool, header: bool = False) -> list[Unit]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Unit(start, end, table_row, header)] if end > start else []


def stem(word: str) -> str:
    """A crude English stem: enough that "days" meets "day" and "employed" meets "employ"."""
    word = word.lower()
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stopwords, no bare numbers) and pseudonyms."""
    stems = {m.group(0) for m in PSEUDONYM.finditer(text)}
    for word in _WORD.findall(PSEUDONYM.sub(" ", text)):
        lower = word.lower()
        if lower not in STOPWORDS and not any(c.isdigit() for c in lower) and len(lower) > 1:
            stems.add(stem(lower))
    return stems


def collapsed(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with whitespace runs as one space (as a citation's snippet shows it), and for
    each word its start in the raw text and in the collapsed one."""
    raw_starts: list[int] = []
    starts: list[int] = []
    words: list[str] = []
    position = 0
    for match in re.finditer(r"\S+", text):
        raw_starts.append(match.start())
        starts.append(position)
        words.append(match.group(0))
        position += len(match.group(0)) + 1
    return " ".join(words), raw_starts, starts
