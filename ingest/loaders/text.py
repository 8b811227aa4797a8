"""Plain-text loader: pages split on form feeds."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .base import DEFAULT_LIMITS, LoadedDocument, LoaderError, LoadLimits, Page, is_binary
from .titles import choose_title, first_title_line

_TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def decode_text(data: bytes) -> str:
    """UTF-16 if it has a BOM, else UTF-8 (BOM or not), else Windows-1252, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if is_binary(data):
        raise LoaderError("not a text file: contains binary data")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # maps every byte: cannot fail


class TextLoader:
    extensions: tuple[str, ...] = (".txt", ".text")

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        path = Path(path)
        data = path.read_bytes() if data is None else data
        if not data:
            raise LoaderError("file is empty")
        text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        pages = []
        # Page numbers follow the form feeds even where a page is blank.
        for number, chunk in enumerate(text.split("\f"), start=1):
            chunk = _MANY_BLANK_LINES.sub("\n\n", _TRAILING_SPACES.sub("", chunk)).strip()
            if chunk:
                pages.append(Page(number=number, text=chunk))
        if not pages:
            raise LoaderError("document has no text")
        title = choose_title(None, [first_title_line(pages[0].text, path.stem)], path.stem)
        return LoadedDocument(title=title, pages=pages)
