"""PDF tables whose rows keep their column headers, read from pypdf's layout-mode text.

pypdf's plain text cuts a statement's rows from their headings ("Services 21,213 19,604"),
so a figure no longer says which period it is. Layout mode keeps each glyph's column, so:

* a page is read in layout mode only when its plain text looks like a table (several lines
  ending in two or more numbers: `looks_tabular`), since layout mode costs more;
* data rows are lines of a label followed by figures ("$ 63,355", "(11)", "—", "8 %") set apart
  by wide gaps; consecutive ones form a table; its columns are the figures' right edges (figures
  are right-aligned), clustered;
* the header rows are the lines just above the table whose text lies over the columns
  ("Three Months Ended", "June 25, 2022"), plus a period on the label side ("Three Months Ended
  September 30,"); each column takes, from each header row, the text centred nearest to it;
* a label-only line over more indented rows names their group ("AWS" over "Net sales");
* each data row becomes one line naming its columns (ingest/loaders/tables.py, as DOCX and HTML
  rows), header lines are dropped (every row repeats them), every other line is kept.

A page where no table with headers is found keeps its plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .tables import table_lines

# Lines of the plain text that end in two figures: "Services 19,604 17,486", "(10) 243".
_ENDS_IN_FIGURES = re.compile(r"\(?\d[\d,.]*\)?%?\s+\$?\s*\(?-?\d[\d,.]*\)?%?\s*$")
MIN_FIGURE_LINES = 3

_FIGURE = re.compile(
    r"^(?:\$|€|£)?\s*\(?-?(?:\d[\d,]*\.?\d*|\.\d+)\)?\s*%?\)?$|^[—–-]$|^\$$|^%\)?$"
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_PERIOD_WORDS = re.compile(
    r"\b(?:months?|weeks?|quarters?|years?|ended|ending|as of|fiscal)\b", re.IGNORECASE
)
_PARENTHESIZED = re.compile(r"^\(.*\)$")
_COMMA_DIGIT = re.compile(r",(?=\d)")  # "June 25,2022": layout mode joins stacked header lines
_MAX_HEADER_ROWS = 4
_MAX_GAP_LINES = 3  # non-row lines a table may hold between two rows (section labels, blanks)
_PROSE_CHARS = 90  # a label-only line longer than this is text, not a section label
_COLUMN_TOLERANCE = 3  # characters between right edges of one column
_HEADER_REACH = 15  # how far left of the figures a centred heading may start
_MAX_HEADER_CHARS = 40


def looks_tabular(text: str) -> bool:
    """Whether a page's plain text has several lines ending in figures: worth layout mode."""
    count = 0
    for line in text.split("\n"):
        if _ENDS_IN_FIGURES.search(line):
            count += 1
            if count >= MIN_FIGURE_LINES:
                return True
    return False


@dataclass
class _Segment:
    text: str
    start: int
    end: int

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2


@dataclass
class _Row:
    index: int  # line number in the page
    indent: int
    label: str
    values: list[_Segment]  # figures, "$" glued to the figure after it
    section: str = ""


@dataclass
class _Table:
    rows: list[_Row] = field(default_factory=list)
    header_lines: list[int] = field(default_factory=list)


def _segments(line: str) -> list[_Segment]:
    """Runs of text split at gaps of two spaces or more."""
    found = []
    for match in re.finditer(r"\S+(?: \S+)*", line):
        found.append(_Segment(match.group(0), match.start(), match.end()))
    return found


def _as_row(index: int, line: str) -> _Row | None:
    """A data row: a label (may be empty) and two or more figures after it."""
    segments = _segments(line)
    values: list[_Segment] = []
    for segment in reversed(segments):
        if not _FIGURE.match(segment.text):
            break
        values.insert(0, segment)
    label_segments = segments[: len(segments) - len(values)]
    glued = _glue_currency(values)
    if len(glued) < 2:
        return None
    label = " ".join(s.text for s in label_segments)
    indent = len(line) - len(line.lstrip(" "))
    return _Row(index, indent, label, glued)


def _glue_currency(values: list[_Segment]) -> list[_Segment]:
    """ "$" and "%" cells onto their figure: "$ 63,355" is one value, at the figure's place."""
    glued: list[_Segment] = []
    pending = ""
    for segment in values:
        if segment.text in ("$", "€", "£"):
            pending = segment.text
            continue
        if segment.text.startswith("%") and glued:
            glued[-1] = _Segment(glued[-1].text + segment.text, glued[-1].start, segment.end)
            continue
        glued.append(_Segment(pending + segment.text, segment.start, segment.end))
        pending = ""
    return glued


def _is_years(row: _Row) -> bool:
    """A header row of years ("2022  2021"), after a period on the label side or not."""
    return all(_YEAR.match(v.text) for v in row.values)


def table_text(layout: str) -> str | None:
    """The page's text with each table row naming its columns; None when no table with
    headers is found (the caller keeps the plain text)."""
    lines = layout.split("\n")
    rows = {}
    for index, line in enumerate(lines):
        row = _as_row(index, line)
        if row is not None and not _is_years(row):
            rows[index] = row
    tables = _group(lines, rows)
    replaced: dict[int, str] = {}
    dropped: set[int] = set()
    for table in tables:
        columns = _columns(table.rows)
        names = _header_names(lines, table, columns)
        if names is None:
            continue
        dropped.update(table.header_lines)
        cells = [[("", 1)] + [(name, 1) for name in names]]
        for row in table.rows:
            label = f"{row.section} — {row.label}" if row.section and row.label else row.label
            values = [""] * len(columns)
            for value in row.values:
                values[_nearest(columns, value.end)] = value.text.replace(" ", "")
            cells.append([(label, 1)] + [(v, 1) for v in values])
        for row, text in zip(table.rows, table_lines(cells, marked_header_rows=1)[1:], strict=True):
            replaced[row.index] = text
    if not replaced:
        return None
    out = []
    for index, line in enumerate(lines):
        if index in dropped:
            continue
        out.append(replaced.get(index, line))
    return "\n".join(out)


def _group(lines: list[str], rows: dict[int, _Row]) -> list[_Table]:
    """Consecutive rows, allowing a few blank or short label lines between them, form a table;
    a short label-only line names the group of the more indented rows under it."""
    tables: list[_Table] = []
    current: _Table | None = None
    section, section_indent = "", -1
    gap = 0
    last = -1
    for index in range(len(lines)):
        row = rows.get(index)
        line = lines[index]
        if row is not None:
            if current is None or index - last - 1 > _MAX_GAP_LINES or gap:
                current = _Table()
                tables.append(current)
            gap = 0
            if section and row.indent > section_indent:
                row.section = section
            elif row.indent <= section_indent:
                section, section_indent = "", -1  # back at the group's level: the group ended
            current.rows.append(row)
            last = index
            continue
        stripped = line.strip()
        if not stripped:
            continue
        segments = _segments(line)
        if len(segments) == 1 and len(stripped) <= _PROSE_CHARS and _is_label(stripped):
            section = stripped.rstrip(":")
            section_indent = len(line) - len(line.lstrip(" "))
        else:
            gap = 1  # prose or a new header: the next row starts a new table
            section, section_indent = "", -1
    return tables


def _is_label(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]", text)) and not _PARENTHESIZED.match(text)


def _columns(rows: list[_Row]) -> list[float]:
    """Right edges of the table's columns, left to right (figures are right-aligned)."""
    edges = sorted(v.end for row in rows for v in row.values)
    clusters: list[list[int]] = []
    for edge in edges:
        if clusters and edge - clusters[-1][-1] <= _COLUMN_TOLERANCE:
            clusters[-1].append(edge)
        else:
            clusters.append([edge])
    return [sum(c) / len(c) for c in clusters]


def _nearest(positions: list[float], at: float) -> int:
    return min(range(len(positions)), key=lambda i: abs(positions[i] - at))


def _header_names(lines: list[str], table: _Table, columns: list[float]) -> list[str] | None:
    """Each column's name from the header lines above the table, or None without any."""
    value_start = min(v.start for row in table.rows for v in row.values)
    widths = [
        max((len(v.text.lstrip("$€£ ")) for r in table.rows for v in r.values), default=1)
    ] * len(columns)
    centres = [edge - width / 2 for edge, width in zip(columns, widths, strict=True)]
    header_rows: list[list[_Segment]] = []
    label_side: list[str] = []
    index = table.rows[0].index - 1
    blank = 0
    while index >= 0 and len(header_rows) < _MAX_HEADER_ROWS:
        line = lines[index]
        if not line.strip():
            blank += 1
            if blank > 2:
                break
            index -= 1
            continue
        segments = [s for s in _segments(line) if not _PARENTHESIZED.match(s.text)]
        if not segments:  # "(In millions)", "(unaudited)": says nothing of a column
            index -= 1
            continue
        # Headings are centred over right-aligned figures: they may start left of them.
        over = [s for s in segments if s.end > value_start - _HEADER_REACH]
        side = [s for s in segments if s.end <= value_start - _HEADER_REACH]
        if any(
            s.start < value_start - 2 * _HEADER_REACH or len(s.text) > _MAX_HEADER_CHARS
            for s in over
        ) or (header_rows and any(len(s.text) > _MAX_HEADER_CHARS for s in side)):
            break  # text running over the columns from the left: a sentence, not a header
        if not over and not (side and all(_PERIOD_WORDS.search(s.text) for s in side)):
            if header_rows or segments and len(segments) > 1:
                break
            if segments and len(line.strip()) <= _PROSE_CHARS and not header_rows:
                index -= 1  # a section label between the header and the first row
                continue
            break
        if side and not all(
            _PERIOD_WORDS.search(s.text) and len(s.text) <= _MAX_HEADER_CHARS for s in side
        ):
            if not over:
                break
            side = []
        header_rows.insert(0, over)
        label_side[:0] = [s.text for s in side]
        table.header_lines.append(index)
        blank = 0
        index -= 1
    if not header_rows:
        return None
    names = []
    for centre in centres:
        words = list(label_side)
        for segments in header_rows:
            if segments:
                nearest = min(segments, key=lambda s: abs(s.centre - centre))
                words.append(nearest.text)
        names.append(_COMMA_DIGIT.sub(", ", " ".join(words)))
    return names
