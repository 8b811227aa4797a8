"""Tables as text that keeps each figure with what it measures (DOCX and HTML loaders).

Each data row becomes one line, "header: value; header: value", its first cell (the row's
label) first. One line per row rather than a Markdown table: a chunk boundary can fall anywhere
in a long table, and a row that names its own columns still says what "21,213" is when the
header row went to the chunk before; the embedder and BM25 see the measure beside the figure.

Rows come in with spanned cells repeated (a header "Three Months Ended" over two columns names
both), so columns line up. Header rows are those the file marks (<th>/<thead>, Word's "repeat
as header row"); else the leading rows whose first cell is empty (a financial statement's
period headings), else the first row.
"""

from __future__ import annotations

MAX_HEADER_ROWS = 3
MAX_SPAN = 64  # a colspan is a number in the file: bounded, so a row cannot claim millions
# Cells that only complete their neighbour ("$ | 21,213 | %"): glued to it.
_PREFIXES = frozenset({"$", "€", "£", "¥", "("})
_SUFFIXES = frozenset({"%", ")", "%)"})


def span(raw: object) -> int:
    """A colspan/gridSpan attribute as a count of columns (1 when missing or odd)."""
    try:
        return min(max(int(str(raw)), 1), MAX_SPAN)
    except (TypeError, ValueError):
        return 1


Cell = tuple[str, int]  # a cell's text and how many columns it spans


def table_lines(rows: list[list[Cell]], marked_header_rows: int = 0) -> list[str]:
    """The table's text, one entry per row (so a caller can pair them): a header row's is
    empty (its cells name the columns), each other row's one line; an empty row's empty.
    `marked_header_rows`: how many leading rows the file marks as headers."""
    headers_at = _header_row_count(rows, marked_header_rows)
    names = _column_names([_expand(row, repeat=True) for row in rows[:headers_at]])
    lines = [""] * headers_at
    for row in rows[headers_at:]:
        parts = []
        for index, value in enumerate(_glue_units(_expand(row, repeat=False))):
            if value:
                name = names[index] if index < len(names) else ""
                parts.append(f"{name}: {value}" if name and name != value else value)
        lines.append(("; " if names else " | ").join(parts))
    return lines


def _header_row_count(rows: list[list[Cell]], marked: int) -> int:
    """`marked` if the file marks any, else the leading rows whose first cell is empty, else
    the first row; never every row (a table of headers only is kept as plain rows)."""
    if len(rows) < 2 or max(sum(width for _, width in row) for row in rows) < 2:
        return 0
    count = marked
    if not count:
        while count < min(MAX_HEADER_ROWS, len(rows) - 1):
            texts = [" ".join(text.split()) for text, _ in rows[count]]
            if texts and not texts[0] and any(texts):
                count += 1
            else:
                break
        count = count or 1
    return min(count, len(rows) - 1)


def _expand(row: list[Cell], repeat: bool) -> list[str]:
    """One entry per column: a spanning header names every column under it (`repeat`), a
    spanning value sits in its first column."""
    columns: list[str] = []
    for text, width in row:
        text = " ".join(text.split())
        width = min(max(width, 1), MAX_SPAN)
        columns.extend([text] * width if repeat else [text] + [""] * (width - 1))
    return columns


def _column_names(header: list[list[str]]) -> list[str]:
    width = max((len(row) for row in header), default=0)
    names = []
    for index in range(width):
        words: list[str] = []
        for row in header:
            cell = row[index] if index < len(row) else ""
            if cell and cell not in words:
                words.append(cell)
        names.append(" ".join(words))
    return names


def _glue_units(row: list[str]) -> list[str]:
    """ "$", "(" onto the next value, "%", ")" onto the one before; their cells left empty."""
    row = list(row)
    for index, cell in enumerate(row):
        if cell in _PREFIXES:
            following = next((i for i in range(index + 1, len(row)) if row[i]), None)
            if following is not None and row[following] not in _PREFIXES | _SUFFIXES:
                row[following], row[index] = cell + row[following], ""
        elif cell in _SUFFIXES:
            before = next((i for i in range(index - 1, -1, -1) if row[i]), None)
            if before is not None:
                row[before], row[index] = row[before] + cell, ""
    return row
