"""DOCX loader: body text and tables in document order, split into pages at page breaks."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.oxml.ns import qn
from lxml import etree

from .base import DEFAULT_LIMITS, LoadedDocument, LoaderError, LoadLimits, Page
from .tables import Cell, span, table_lines
from .titles import choose_title

_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_RENDERED_BREAK, _NB_HYPHEN = qn("w:lastRenderedPageBreak"), qn("w:noBreakHyphen")
_TCPR, _TRPR, _GRID_SPAN, _TBL_HEADER = (
    qn("w:tcPr"),
    qn("w:trPr"),
    qn("w:gridSpan"),
    qn("w:tblHeader"),
)
_PPR, _PAGE_BREAK_BEFORE, _TYPE, _VAL = (
    qn("w:pPr"),
    qn("w:pageBreakBefore"),
    qn("w:type"),
    qn("w:val"),
)
# Text boxes are stored twice (mc:Choice for Word 2010+, mc:Fallback as VML): read one copy.
# (An XML namespace name, not an address anything is fetched from.)
_MC_NAMESPACE = "http" + "://schemas.openxmlformats.org/markup-compatibility/2006"
_MC_FALLBACK = f"{{{_MC_NAMESPACE}}}Fallback"
_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


class _PageBuilder:
    """Collects text into pages as the body is walked in document order."""

    def __init__(self) -> None:
        self.pages: list[tuple[list[str], str | None]] = [([], None)]
        # Word writes a rendered break right after a hard one; it marks the same new page.
        self._after_hard_break = False

    def text(self, value: str) -> None:
        self.pages[-1][0].append(value)
        if value.strip():
            self._after_hard_break = False

    def heading(self, value: str) -> None:
        parts, current = self.pages[-1]
        if current is None and value:
            self.pages[-1] = (parts, value)

    def hard_break(self) -> None:
        self.pages.append(([], None))
        self._after_hard_break = True

    def rendered_break(self) -> None:
        if not self._after_hard_break:
            self.pages.append(([], None))
        self._after_hard_break = False


class DocxLoader:
    extensions: tuple[str, ...] = (".docx",)

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        path = Path(path)
        data = path.read_bytes() if data is None else data
        if not data:
            raise LoaderError("file is empty")
        _check_unpacked_size(data, limits.max_unpacked_mb)
        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # not a zip, no word/document.xml, wrong content type...
            raise LoaderError(f"corrupt DOCX: could not be opened ({type(exc).__name__})") from exc
        styles = {style.style_id: style.name or "" for style in document.styles}
        builder = _PageBuilder()
        _walk_blocks(document.element.body, builder, styles, paragraph_end="\n")

        pages = []
        for number, (parts, heading) in enumerate(builder.pages, start=1):
            text = _clean("".join(parts))
            if text:
                pages.append(Page(number=number, text=text, heading=heading))
        if not pages:
            raise LoaderError("document has no text")
        first_heading = next((page.heading for page in pages if page.heading), None)
        title = choose_title(document.core_properties.title, [first_heading], path.stem)
        return LoadedDocument(title=title, pages=pages)


def _check_unpacked_size(data: bytes, max_mb: float) -> None:
    """Refuse a zip whose members declare more than max_mb unpacked, before inflating any.
    Python's zipfile never inflates a member past its declared size, so the declared sizes
    bound what python-docx can unpack."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: python-docx says so below
    if declared > max_mb * 1024 * 1024:
        raise LoaderError(
            f"DOCX would unpack to {declared / 1024 / 1024:,.0f} MB, more than the limit of "
            f"{max_mb:g} MB (ingest.max_unpacked_mb): a decompression bomb?"
        )


def _walk_blocks(
    parent: etree._Element, builder: _PageBuilder, styles: dict[str, str], paragraph_end: str
) -> None:
    for child in parent:
        if child.tag == _P:
            _walk_paragraph(child, builder, styles, paragraph_end)
        elif child.tag == _TBL:
            _walk_table(child, builder, styles)
        elif child.tag != _MC_FALLBACK:
            # Content controls (w:sdt), custom XML, etc. wrap ordinary paragraphs and tables.
            _walk_blocks(child, builder, styles, paragraph_end)


def _walk_table(table: etree._Element, builder: _PageBuilder, styles: dict[str, str]) -> None:
    """Each row one line that names its columns (ingest/loaders/tables.py). A page break
    inside a row starts the new page before that row's line."""
    rows: list[list[Cell]] = []
    breaks: list[int] = []
    marked_header_rows, leading = 0, True
    for row in (child for child in table if child.tag == _TR):
        cells, row_breaks = [], 0
        for cell in (child for child in row if child.tag == _TC):
            text, cell_breaks = _cell_text(cell, builder, styles)
            row_breaks = max(row_breaks, cell_breaks)
            cells.append((text, span(_cell_property(cell, _GRID_SPAN))))
        leading = leading and _row_property(row, _TBL_HEADER)
        marked_header_rows += leading
        rows.append(cells)
        breaks.append(row_breaks)
    for line, row_breaks in zip(table_lines(rows, marked_header_rows), breaks, strict=True):
        for _ in range(row_breaks):
            builder.rendered_break()
        if line:
            builder.text(f"{line}\n")


def _cell_text(
    cell: etree._Element, builder: _PageBuilder, styles: dict[str, str]
) -> tuple[str, int]:
    """A cell's text on one line, and how many page breaks it holds; a heading in it still
    names the page."""
    inner = _PageBuilder()
    _walk_blocks(cell, inner, styles, paragraph_end=" ")
    for _, heading in inner.pages:
        if heading:
            builder.heading(heading)
    text = " ".join("".join(part for parts, _ in inner.pages for part in parts).split())
    return text, len(inner.pages) - 1


def _cell_property(cell: etree._Element, name: str) -> str | None:
    properties = cell.find(_TCPR)
    found = properties.find(name) if properties is not None else None
    return found.get(_VAL) if found is not None else None


def _row_property(row: etree._Element, name: str) -> bool:
    """Whether the row's properties hold `name`, not switched off (w:val="0"/"false")."""
    properties = row.find(_TRPR)
    found = properties.find(name) if properties is not None else None
    return found is not None and found.get(_VAL, "true") not in ("0", "false", "off")


def _walk_paragraph(
    paragraph: etree._Element, builder: _PageBuilder, styles: dict[str, str], end: str
) -> None:
    properties = paragraph.find(_PPR)
    if properties is not None:
        before = properties.find(_PAGE_BREAK_BEFORE)
        if before is not None and before.get(_VAL, "true") not in ("0", "false", "off"):
            builder.hard_break()
    style_name = styles.get(paragraph.style or "", "")
    heading = None
    if style_name.startswith("Heading") or style_name == "Title":
        heading = " ".join("".join(t.text or "" for t in paragraph.iter(_T)).split())

    for element in _inline_elements(paragraph):
        tag = element.tag
        if tag == _T and element.text:
            if heading and element.text.strip():
                builder.heading(heading)
                heading = None
            builder.text(element.text)
        elif tag == _TAB:
            builder.text("\t")
        elif tag == _NB_HYPHEN:
            builder.text("-")
        elif tag == _CR:
            builder.text("\n")
        elif tag == _BR:
            if element.get(_TYPE) == "page":
                builder.hard_break()
            else:
                builder.text("\n")
        elif tag == _RENDERED_BREAK:
            builder.rendered_break()
    builder.text(end)


def _inline_elements(paragraph: etree._Element) -> Iterator[etree._Element]:
    """Descendants of a paragraph in document order, leaving out mc:Fallback copies."""
    stack = list(reversed(paragraph))
    while stack:
        element = stack.pop()
        if element.tag == _MC_FALLBACK:
            continue
        yield element
        stack.extend(reversed(element))


def _clean(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    lines = ["" if not line.strip("| ") else line for line in lines]  # rows of empty cells
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
