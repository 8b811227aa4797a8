"""The cells of a table row a question asks for, for the prompt of a small model.

A loader writes a table row as "Net sales; Three Months Ended June 25, 2022: 82,959; Three
Months Ended June 26, 2021: 81,434; Nine Months Ended ..." (ingest/loaders/tables.py). Given
the whole row, SmolLM2-135M copies the figure of another period about as often as the one asked
for; given the label and the cells whose column header best matches the question ("three
months ended June 25, 2022"), it has one figure to copy (bench/RESULTS.md, "A table row's
asked-for cells"). The quote a reader sees stays the whole row.
"""

from __future__ import annotations

from rag.quotes import quote_words

_CELL_SEPARATOR = "; "
_QUARTER = quote_words("quarter quarterly")
_THREE_MONTHS = quote_words("three months")


def asked_cells(question: str, row: str) -> str:
    """`row` as its label and the cells whose header holds the most of the question's words
    (numbers included: "2022" tells one year's column from another's); the row unchanged when
    it is no "label; header: value; ..." row, or no header holds a word of the question. A
    last cell cut off without its value (a quote ends after MAX_WORDS words) is dropped."""
    label, *parts = row.rstrip(";").split(_CELL_SEPARATOR)
    cells = [part.rpartition(": ") for part in parts]
    if cells and not cells[-1][1]:
        cells.pop()  # "Nine Months Ended" without ": value": the quote's cut
    if len(cells) < 2 or any(not separator for _, separator, _ in cells):
        return row
    wanted = quote_words(question)
    if wanted & _QUARTER:
        wanted |= _THREE_MONTHS  # a statement names a quarter's column "Three Months Ended ..."
    matches = [len(quote_words(header) & wanted) for header, _, _ in cells]
    best = max(matches)
    if best == 0:
        return row
    kept = ["".join(cell) for cell, n in zip(cells, matches, strict=True) if n == best]
    return _CELL_SEPARATOR.join([label, *kept])
