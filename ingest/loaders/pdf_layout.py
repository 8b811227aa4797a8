"""A PDF page's text laid out in fixed-width columns from PDFium's glyph positions: what the
table reader (pdf_tables.py) reads. pypdf's layout mode gave the same columns at ~10x the cost
(bench/RESULTS.md, issue 19), most of a filing's reading time.

* Lines: glyphs whose baselines lie within `_SAME_LINE` of the line's first, top to bottom, so
  that headings set a little apart ("Three Months Ended" beside "Nine Months Ended") share a line.
* Segments: on a line, a gap wider than `_COLUMN_GAP` starts a new segment (a cell); a space
  glyph or a gap wider than `_WORD_GAP` is one space inside a segment. Gaps are counted beyond
  the line's usual gap between letters, for type set with tracking.
* Columns: a segment starts at its x in units of the page's digit width over 1.25 (pypdf's
  scale, which the table reader's tolerances were set on), and at least two spaces after the
  segment before it, so that a cell never runs into the next.
* Blank lines: as many as the gap to the line above holds font heights, less one (as pypdf).

Widths are in ems of each glyph's font size on the page. Rotated glyphs are left out: a
sideways label is not part of a table row.
"""

from __future__ import annotations

import ctypes
import re
from statistics import median
from typing import NamedTuple

import pypdfium2
import pypdfium2.raw as pdfium_c

_SAME_LINE = 0.7
_COLUMN_GAP = 0.8
_WORD_GAP = 0.12
_COLUMN_SCALE = 1.25
_MAX_BLANK_LINES = 5
_MIN_GAPS_FOR_TRACKING = 4
# Line ends, PDFium's hyphen marks and other control characters: never text of a cell.
_FIRST_PRINTABLE = 32
_HIGH_SURROGATES = range(0xD800, 0xDC00)
_LOW_SURROGATES = range(0xDC00, 0xE000)
_SPACES = (" ", "\u00a0")
_FIGURE = re.compile(r"^(?:[$€£]?\(?\d(?:[\d.,]*\d)?\)?%?|[—–])$")
_FIGURE_STARTS = frozenset("0123456789$€£")


class _Glyph(NamedTuple):
    char: str
    x: float  # origin, left edge
    y: float  # baseline
    right: float  # x plus the glyph's advance
    size: float  # font size on the page


class _Segment(NamedTuple):
    x: float
    text: str


def layout_text(textpage: pypdfium2.PdfTextPage) -> str:
    """The page's text in fixed-width columns, one line per line of the page."""
    glyphs = _glyphs(textpage)
    if not glyphs:
        return ""
    digit_widths = [g.right - g.x for g in glyphs if g.char.isdigit() and g.right > g.x]
    widths = digit_widths or [g.right - g.x for g in glyphs if g.right > g.x] or [1.0]
    column_width = median(widths) / _COLUMN_SCALE
    out: list[str] = []
    last_y = None
    for y, size, segments in _lines(glyphs):
        if last_y is not None:
            blank = int(abs(last_y - y) / max(size, 1.0)) - 1
            out.extend([""] * max(0, min(blank, _MAX_BLANK_LINES)))
        last_y = y
        out.append(_place(segments, column_width))
    return "\n".join(out)


def _glyphs(textpage: pypdfium2.PdfTextPage) -> list[_Glyph]:
    raw = textpage.raw
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    box = pdfium_c.FS_RECTF()
    matrix = pdfium_c.FS_MATRIX()
    glyphs = []
    count = pdfium_c.FPDFText_CountChars(raw)
    index = 0
    while index < count:
        at = index
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        index += 1
        if code in _HIGH_SURROGATES and index < count:
            low = pdfium_c.FPDFText_GetUnicode(raw, index)
            if low in _LOW_SURROGATES:
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                index += 1
        if (
            code < _FIRST_PRINTABLE
            or code in _HIGH_SURROGATES
            or code in _LOW_SURROGATES
            or code in (0xFFFE, 0xFFFF)
            or pdfium_c.FPDFText_IsGenerated(raw, at)
        ):
            continue
        pdfium_c.FPDFText_GetMatrix(raw, at, matrix)
        if matrix.b or matrix.c:
            continue  # rotated
        pdfium_c.FPDFText_GetCharOrigin(raw, at, origin_x, origin_y)
        pdfium_c.FPDFText_GetLooseCharBox(raw, at, box)  # loose: the advance, not the ink
        size = pdfium_c.FPDFText_GetFontSize(raw, at) * abs(matrix.d)
        x = origin_x.value
        glyphs.append(_Glyph(chr(code), x, origin_y.value, max(box.right, x), size))
    return glyphs


def _lines(glyphs: list[_Glyph]) -> list[tuple[float, float, list[_Segment]]]:
    """(baseline, font size, segments) of each line, top of the page first."""
    ordered = sorted(glyphs, key=lambda g: -g.y)
    lines = []
    start = 0
    for end in range(1, len(ordered) + 1):
        if end < len(ordered):
            first, glyph = ordered[start], ordered[end]
            if first.y - glyph.y < _SAME_LINE * max(glyph.size, 1.0):
                continue
        line = sorted(ordered[start:end], key=lambda g: g.x)
        lines.append((line[0].y, median(g.size for g in line), _segments(line)))
        start = end
    return lines


def _segments(line: list[_Glyph]) -> list[_Segment]:
    segments: list[tuple[float, list[str]]] = []
    word: list[str] = []
    previous_right = None
    space = False
    tracking = _letter_spacing(line)
    for glyph in line:
        if glyph.char in _SPACES:
            space = True
            continue
        em = max(glyph.size, 1.0)
        gap = None if previous_right is None else glyph.x - previous_right - tracking
        word_break = space or (gap is not None and gap > _WORD_GAP * em)
        if (
            gap is None
            or gap > _COLUMN_GAP * em
            # two figures side by side are two cells, however narrow the gap ("19,604 $")
            or (word_break and glyph.char in _FIGURE_STARTS and _FIGURE.match("".join(word)))
        ):
            segments.append((glyph.x, [glyph.char]))
            word = [glyph.char]
        else:
            if word_break:
                segments[-1][1].append(" ")
                word = []
            segments[-1][1].append(glyph.char)
            word.append(glyph.char)
        previous_right = glyph.right
        space = False
    return [_Segment(x, "".join(chars)) for x, chars in segments]


def _letter_spacing(line: list[_Glyph]) -> float:
    """The line's usual gap between letters: 0 in most text, the tracking where letters are
    set apart ("C o m p a n i a" otherwise), so that only wider gaps part words."""
    letters = [g for g in line if g.char not in _SPACES]
    gaps = [
        b.x - a.right
        for a, b in zip(letters, letters[1:], strict=False)
        if b.x - a.right < _COLUMN_GAP * max(b.size, 1.0)
    ]
    if len(gaps) < _MIN_GAPS_FOR_TRACKING:
        return 0.0
    return max(0.0, median(gaps))


def _place(segments: list[_Segment], column_width: float) -> str:
    parts = []
    column = 0
    for segment in segments:
        pad = round(segment.x / column_width) - column
        if column:
            pad = max(pad, 2)  # cells stay apart: the table reader splits at two spaces
        if pad > 0:
            parts.append(" " * pad)
            column += pad
        parts.append(segment.text)
        column += len(segment.text)
    return "".join(parts).rstrip()
