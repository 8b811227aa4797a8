"""PDF loader: one Page per PDF page. pypdf opens the file (damage, encryption, the page count,
metadata, the title); PDFium (pypdfium2) reads each page's text, about 20x faster than pypdf's
extraction (bench/RESULTS.md, issue 19), and lays out the pages that look like tables in
columns (pdf_layout.py) for the table reader (pdf_tables.py); pypdf reads a page PDFium cannot,
in its own layout mode where the page looks like a table."""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from .base import DEFAULT_LIMITS, LoadedDocument, LoaderError, LoadLimits, Page
from .pdf_layout import layout_text
from .pdf_tables import looks_tabular, table_text
from .titles import choose_title, clean_title, first_title_line

logger = logging.getLogger(__name__)

_HEADER_WINDOW = 1024

_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
# "exam-\nple" -> "example"; only when the next line goes on in lower case, so that
# "COVID-\n19" or "Jean-\nPierre" keep their hyphen.
_HYPHEN_BREAK = re.compile(r"([^\W\d_])-\n[ \t]*(?=[^\W\d_])")


def normalize_text(text: str) -> str:
    """Light cleanup of extracted text: NULs, runs of spaces, trailing spaces, hyphen breaks."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _HYPHEN_BREAK.sub(_join_hyphen, text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def _join_hyphen(match: re.Match[str]) -> str:
    following = match.string[match.end() : match.end() + 1]
    return match.group(1) if following.islower() else match.group(0)


class PdfLoader:
    extensions: tuple[str, ...] = (".pdf",)

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        data = Path(path).read_bytes() if data is None else data
        if not data:
            raise LoaderError("file is empty")
        if b"%PDF" not in data[:_HEADER_WINDOW]:
            raise LoaderError("not a PDF: no %PDF header (is it another format renamed to .pdf?)")
        reader, page_count = _open(data, limits.max_pages)
        if page_count == 0:
            raise LoaderError("PDF has no pages")
        pages = _extract_pages(reader, page_count, data)
        if not any(page.text for page in pages):
            raise LoaderError("PDF has no text layer: scanned images need OCR")
        stem = Path(path).stem
        title = choose_title(_metadata_title(reader), _title_candidates(reader, pages, stem), stem)
        return LoadedDocument(title=title, pages=pages)


def _open(data: bytes, max_pages: int) -> tuple[PdfReader, int]:
    """Parse the file, unlock it with an empty password if needed, and count its pages."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:  # pypdf raises many types on malformed input
        raise LoaderError(f"corrupt PDF: could not be parsed ({type(exc).__name__})") from exc
    if reader.is_encrypted:
        _decrypt(reader)
    # What the page tree claims, checked before pypdf walks it: a bomb fails here at once.
    _check_page_count(_claimed_pages(reader), max_pages)
    try:
        page_count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise LoaderError(
            "PDF is encrypted with a password: remove the password or provide an unencrypted copy"
        ) from exc
    except Exception as exc:
        raise LoaderError(f"corrupt PDF: could not be parsed ({type(exc).__name__})") from exc
    _check_page_count(page_count, max_pages)
    return reader, page_count


def _claimed_pages(reader: PdfReader) -> int:
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # no or odd count: len(reader.pages) below counts the real pages
        return 0


def _check_page_count(pages: int, max_pages: int) -> None:
    if pages > max_pages:
        raise LoaderError(
            f"PDF claims {pages} pages, more than the limit of {max_pages} (ingest.max_pages)"
        )


def _decrypt(reader: PdfReader) -> None:
    try:
        unlocked = bool(reader.decrypt(""))
    except DependencyError as exc:
        # The cryptography package (pypdf[crypto]) is missing: an install problem, not the file's.
        raise LoaderError(
            f"PDF is encrypted and needs the 'cryptography' package ({type(exc).__name__})"
        ) from exc
    except Exception as exc:
        raise LoaderError(f"corrupt PDF: could not be decrypted ({type(exc).__name__})") from exc
    if not unlocked:
        raise LoaderError(
            "PDF is encrypted with a password: remove the password or provide an unencrypted copy"
        )


def _extract_pages(reader: PdfReader, page_count: int, data: bytes) -> list[Page]:
    pages: list[Page] = []
    failed = 0
    with _PdfiumText(data) as fast:
        for index in range(page_count):
            try:
                raw = _page_text(reader, index, fast)
            except Exception as exc:  # one bad page must not lose the whole document
                failed += 1
                # No file name: it may be personal data (the caller knows the anonymized one).
                logger.warning(
                    "a PDF page could not be read (page %d, %s), skipped",
                    index + 1,
                    type(exc).__name__,
                )
                continue
            text = normalize_text(raw)
            if text:
                pages.append(Page(number=index + 1, text=text))
    if page_count and failed == page_count:
        raise LoaderError("corrupt PDF: no page could be read")
    return pages


class _PdfiumText:
    """Each page's text from PDFium; None where it cannot read the file or the page (pypdf
    reads it then). The file is already open in pypdf, unlocked and counted."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf = None

    def __enter__(self) -> _PdfiumText:
        try:
            self._pdf = pypdfium2.PdfDocument(self._data)
        except Exception as exc:  # pypdfium2.PdfiumError, or a password pypdf got past
            logger.warning("PDFium could not open a PDF (%s): pypdf reads it", type(exc).__name__)
        return self

    def __exit__(self, *_exc) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def read(self, index: int) -> tuple[str, str | None] | None:
        """The page's plain text and, where it looks like a table, its text laid out in
        columns; None where PDFium cannot read the page."""
        if self._pdf is None or index >= len(self._pdf):
            return None
        try:
            page = self._pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    # all of it, as pypdf: not only inside the page box
                    plain = _from_pdfium(textpage.get_text_range())
                    layout = layout_text(textpage) if looks_tabular(plain) else None
                finally:
                    textpage.close()
            finally:
                page.close()
        except Exception as exc:
            logger.warning("PDFium could not read a page (%s): pypdf reads it", type(exc).__name__)
            return None
        return plain, layout


def _from_pdfium(text: str) -> str:
    # PDFium joins a word broken at a line end, marking the break with U+FFFE (or U+0002):
    # given back as pypdf gives it, so normalize_text joins "exam-\nple", not "COVID-\n19".
    return text.replace("\ufffe", "-\n").replace("\x02", "-\n")


def _page_text(reader: PdfReader, index: int, fast: _PdfiumText) -> str:
    """The page's plain text; where it looks like a table, the text laid out in columns with
    each table row naming its columns (pdf_tables.py), when such a table is found."""
    read = fast.read(index)
    if read is not None:
        plain, layout = read  # PDFium laid the page out only where it looks like a table
        return plain if layout is None else _with_tables(plain, lambda: layout)
    page = reader.pages[index]
    plain = page.extract_text() or ""
    if not looks_tabular(plain):
        return plain
    return _with_tables(plain, lambda: page.extract_text(extraction_mode="layout") or "")


def _with_tables(plain: str, layout: Callable[[], str]) -> str:
    """The table reader's text of the page laid out by `layout`, or `plain` without a table."""
    try:
        tables = table_text(layout())
    except Exception as exc:  # the plain text is still good: tables are a refinement
        logger.warning("a PDF page's tables could not be read (%s)", type(exc).__name__)
        return plain
    return plain if tables is None else tables


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        raw = metadata.get("/Title") if metadata else None
    except Exception:  # unreadable metadata is not a reason to reject the text
        return None
    if raw is None:
        return None
    return clean_title(str(raw)) or None


_MAX_PROMINENT_RUNS = 3


def _title_candidates(reader: PdfReader, pages: list[Page], stem: str) -> Iterator[str | None]:
    """After the metadata title (taken lazily: each is read only if the one before fails)."""
    yield _prominent_text(reader, pages[0].number - 1)
    yield first_title_line(pages[0].text, stem)


def _prominent_text(reader: PdfReader, index: int) -> str | None:
    """The text set in the page's largest type, when that is larger than its body text: on a
    cover page, the name of the company or the report. Runs of it are joined with " · "."""
    fragments: list[tuple[float, str]] = []

    def visit(text, cm, tm, _font, size) -> None:
        if text.strip():
            scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
            fragments.append((round(float(size) * scale, 1), " ".join(text.split())))

    try:
        reader.pages[index].extract_text(visitor_text=visit)
    except Exception:  # the plain text was read already; a title is not worth failing for
        return None
    if not fragments:
        return None
    body = Counter()
    for size, text in fragments:
        body[size] += len(text)
    largest = max(size for size, _ in fragments)
    if largest <= body.most_common(1)[0][0]:
        return None  # one size throughout: nothing stands out
    runs: list[list[str]] = []
    previous_large = False
    for size, text in fragments:
        large = size >= largest
        if large:
            if not previous_large:
                runs.append([])
            runs[-1].append(text)
        previous_large = large
    return " · ".join(" ".join(run) for run in runs[:_MAX_PROMINENT_RUNS])
