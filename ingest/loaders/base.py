"""What every loader returns, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Page:
    """One page (PDF, DOCX page break) or section (Markdown, HTML heading) of a document.

    `number` is 1-based and is what citations show as the page.
    """

    number: int
    text: str
    heading: str | None = None


@dataclass
class LoadedDocument:
    title: str
    pages: list[Page] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return any(page.text.strip() for page in self.pages)


class LoaderError(Exception):
    """A file that cannot be read. The message is one line an admin can act on.

    It must never quote the document's content: it ends up in SQL and in logs.
    """


@dataclass(frozen=True)
class LoadLimits:
    """What a file may claim before it is unpacked (decompression bombs fail at once).
    The defaults are those of configs/default.yaml (ingest.max_pages, ...)."""

    max_pages: int = 20_000
    max_unpacked_mb: float = 1024.0
    max_html_depth: int = 5_000


DEFAULT_LIMITS = LoadLimits()
_BINARY_SNIFF_BYTES = 8192
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def is_binary(data: bytes) -> bool:
    """Whether these bytes are not text: a NUL near the start, unless UTF-16 says why (a
    renamed image, archive or office file lands here)."""
    return not data.startswith(_UTF16_BOMS) and b"\x00" in data[:_BINARY_SNIFF_BYTES]


class Loader(Protocol):
    extensions: tuple[str, ...]

    # `data`: the file's bytes, already read (ingest/contained.py); None: read `path`. The path
    # names the file (title, messages) either way.
    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument: ...
