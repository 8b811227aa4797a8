"""HTML loader: visible text split into sections at <h1>/<h2> headings."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from .base import DEFAULT_LIMITS, LoadedDocument, LoaderError, LoadLimits, Page, is_binary
from .tables import Cell, span, table_lines
from .titles import choose_title

_DROPPED = frozenset(
    {"script", "style", "noscript", "nav", "footer", "header", "template", "head", "title"}
)
_SECTION_TAGS = frozenset({"h1", "h2"})
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "details", "div", "dl",
    "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "main",
    "ol", "p", "pre", "section", "summary", "table", "ul",
})
# fmt: on
# Items of a list or table: a line each, no blank line between them.
_LINE_TAGS = frozenset({"dd", "dt", "li", "tr"})
_CELL_TAGS = ["td", "th"]
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")  # outside <pre>, newlines in the source are just spaces
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
# Markers pushed on the walk stack: the end of a block element, the end of a <pre>.
_END_BLOCK, _END_PRE = object(), object()


def decode_html(data: bytes) -> str:
    """Decode with the BOM or the <meta> charset the file declares, else UTF-8 with replacement."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    match = _CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass  # unknown or wrong declaration: fall back below
    return data.decode("utf-8", errors="replace")


class HtmlLoader:
    extensions: tuple[str, ...] = (".html", ".htm")

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        path = Path(path)
        data = path.read_bytes() if data is None else data
        if not data.strip():
            raise LoaderError("file is empty")
        if is_binary(data):
            raise LoaderError("not an HTML file: contains binary data")
        soup = BeautifulSoup(decode_html(data), "html.parser")
        _check_depth(soup, limits.max_html_depth)
        title = choose_title(_text_of(soup.find("title")), [_text_of(soup.find("h1"))], path.stem)
        pages = [
            Page(number=number, text=text, heading=heading)
            for number, (heading, text) in enumerate(_sections(soup), start=1)
        ]
        if not pages:
            raise LoaderError("document has no text")
        return LoadedDocument(title=title, pages=pages)


def _check_depth(soup: BeautifulSoup, max_depth: int) -> None:
    """Refuse elements nested deeper than max_depth: walking such a tree (headings inside
    headings...) costs the square of its depth. Iterative: the check itself must not recurse."""
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise LoaderError(
                f"HTML is nested more than {max_depth} elements deep (ingest.max_html_depth)"
            )
        stack.extend((child, depth + 1) for child in node.contents if isinstance(child, Tag))


def _text_of(tag: Tag | None) -> str | None:
    return None if tag is None else tag.get_text(" ")


def _sections(soup: BeautifulSoup) -> list[tuple[str | None, str]]:
    """Walk the tree in document order (iteratively: deep nesting must not recurse)."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    stack: list[object] = [soup]
    in_pre = 0
    while stack:
        node = stack.pop()
        if node is _END_BLOCK:
            sections[-1][1].append("\n")
            continue
        if node is _END_PRE:
            in_pre -= 1
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, _SKIPPED_STRINGS):
                sections[-1][1].append(str(node) if in_pre else _WHITESPACE.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag) or node.name in _DROPPED:
            continue
        if node.name == "table" and node.find("table") is None:
            # Rows that name their columns (a layout table nesting others is walked as text).
            sections[-1][1].append("\n" + "".join(f"{line}\n" for line in _table_lines(node)))
            continue
        if node.name in _SECTION_TAGS:
            sections.append((" ".join(node.get_text(" ").split()) or None, []))
        if node.name in ("br", "hr"):
            sections[-1][1].append("\n")
        elif node.name in _BLOCK_TAGS:
            sections[-1][1].append("\n")
            stack.append(_END_BLOCK)
        elif node.name in _LINE_TAGS:
            stack.append(_END_BLOCK)
        elif node.name in _CELL_TAGS and node.find_previous_sibling(_CELL_TAGS):
            sections[-1][1].append(" | ")
        if node.name == "pre":
            in_pre += 1
            stack.append(_END_PRE)
        stack.extend(reversed(node.contents))
    cleaned = [(heading, _clean("".join(parts))) for heading, parts in sections]
    return [(heading, text) for heading, text in cleaned if text]


def _table_lines(table: Tag) -> list[str]:
    rows: list[list[Cell]] = []
    marked_header_rows, leading = 0, True
    for row in table.find_all("tr"):
        cells = [cell for cell in row.find_all(_CELL_TAGS, recursive=False)]
        rows.append([(_visible_text(cell), span(cell.get("colspan"))) for cell in cells])
        leading = (
            leading
            and bool(cells)
            and (row.find_parent("thead") is not None or all(cell.name == "th" for cell in cells))
        )
        marked_header_rows += leading
    return [line for line in table_lines(rows, marked_header_rows) if line]


def _visible_text(cell: Tag) -> str:
    """The cell's text, less what the page never shows (scripts, styles, templates)."""
    return " ".join(
        str(string)
        for string in cell.find_all(string=True)
        if not isinstance(string, _SKIPPED_STRINGS)
        and not any(parent.name in _DROPPED for parent in string.parents if parent is not cell)
    )


def _clean(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
