"""A figure the answer states bare gets the unit its quote gives it.

The 135M default model often stops after the digits: "The answer is 12." for "How many weeks
of paid parental leave…" when the quote says "12 weeks of paid parental leave"; "27" for the
examples' annual leave (27 days). The unit added is the quote's own word right after the same
figure, from a closed list of units (time, money, percentages, lengths, weights), never the
model's: the answer states nothing its quote does not. Where the question names a unit ("how
many weeks": asked_units), only that unit is taken ("12 months" is another figure).
Done on the stream, so the page, the REST answer and the OpenAI endpoint all read it: only the
punctuation after a figure is held back until the next piece shows whether a word follows
(bench/RESULTS.md, issue 18).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

UNITS = frozenset({
    "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "workday", "workdays", "weekday", "weekdays",
    "percent", "percentage", "%",
    "euro", "euros", "dollar", "dollars", "cent", "cents", "pound", "pounds", "yen", "francs",
    "mile", "miles", "km", "kilometre", "kilometres", "kilometer", "kilometers",
    "metre", "metres", "meter", "meters", "foot", "feet", "inch", "inches",
    "kg", "kilogram", "kilograms", "gram", "grams", "tonne", "tonnes", "ton", "tons",
})  # fmt: skip
# A figure at the end, then only what leaves it bare (spaces, closing punctuation); not a
# citation mark ("[2]") or a page ("page 3"), which take no unit.
_BARE_FIGURE = re.compile(r"(?<![\w.,\[])(?<!page )(\d[\d,]*(?:\.\d+)?)([\s.,;:!?)\]]*)$", re.I)
_WORD = re.compile(r"\s*([A-Za-z]+|%)")
_TAIL = 64
_ASKING = re.compile(r"\b(?:how (?:many|much|long)|number of|amount of)((?:\W+\w+){0,4})")


def units_from_quotes(
    tokens: Iterator[str], quotes: Sequence[str], question: str = ""
) -> Iterator[str]:
    """`tokens` as they come, with the quote's unit put after a figure the answer leaves bare
    at its end (the last one before only punctuation)."""
    said, held = "", ""
    for piece in tokens:
        text = held + piece
        tail = said[-_TAIL:] + text  # the figure is at the end: no need to search the rest
        bare = _BARE_FIGURE.search(tail)
        # Hold what follows a figure in this piece: a word may still come after it.
        start = bare.start(2) - (len(tail) - len(text)) if bare else len(text)
        cut = start if start >= 0 else len(text)
        said, held = said + text[:cut], text[cut:]
        if text[:cut]:
            yield text[:cut]
    figure = _BARE_FIGURE.search(said)  # `said` ends with the figure: what follows is held
    unit = unit_after(figure.group(1), quotes, question) if figure else None
    if unit or held:
        yield f" {unit}{held}" if unit else held


def unit_after(figure: str, quotes: Sequence[str], question: str = "") -> str | None:
    """The unit word right after `figure` in the first quote that gives it one (one the
    question names, where it names any)."""
    asked = asked_units(question)
    pattern = re.compile(rf"(?<![\w.,]){re.escape(figure)}(?!\d|[.,]\d)")
    for quote in quotes:
        for found in pattern.finditer(quote):
            word = _WORD.match(quote, found.end())
            unit = word.group(1) if word else ""
            if unit.lower() in UNITS and (not asked or _singular(unit.lower()) in asked):
                return unit
    return None


def asked_units(question: str) -> set[str]:
    """The units a question asks its figure in: those within a few words after "how many",
    "how much", "how long" or "number of" ("how many weeks"; not the "3 years" of "with fewer
    than 3 years of service")."""
    return {
        _singular(word)
        for asked in _ASKING.finditer(question.lower())
        for word in re.findall(r"[a-z]+|%", asked.group(1))
        if word in UNITS
    }


def _singular(unit: str) -> str:
    return {"feet": "foot", "inches": "inch"}.get(unit, unit.removesuffix("s"))
