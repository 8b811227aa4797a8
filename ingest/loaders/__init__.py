"""Loader registry: pick a loader by file extension and turn any failure into a LoaderError."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from rag.privacy.file_suffix import plain_suffix

from .base import DEFAULT_LIMITS, LoadedDocument, Loader, LoaderError, LoadLimits, Page
from .docx import DocxLoader
from .html import HtmlLoader
from .markdown import MarkdownLoader
from .pdf import PdfLoader
from .text import TextLoader

__all__ = [
    "DEFAULT_LIMITS",
    "LOADERS",
    "SUPPORTED_EXTENSIONS",
    "LoadedDocument",
    "Loader",
    "LoaderError",
    "LoadLimits",
    "Page",
    "UnsupportedFormat",
    "load_document",
    "loader_for",
]

logger = logging.getLogger(__name__)


class UnsupportedFormat(LoaderError):
    """No loader handles this file's extension."""


LOADERS: dict[str, Loader] = {
    extension: loader
    for loader in (PdfLoader(), DocxLoader(), HtmlLoader(), MarkdownLoader(), TextLoader())
    for extension in loader.extensions
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(LOADERS)

# How error messages name each format.
_KINDS = {
    ".pdf": "PDF",
    ".docx": "DOCX",
    ".html": "HTML",
    ".htm": "HTML",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".txt": "text",
    ".text": "text",
}


def loader_for(path: Path | str) -> Loader | None:
    """The loader for this file's extension (case-insensitive), or None."""
    return LOADERS.get(Path(path).suffix.lower())


def load_document(
    path: Path | str, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
) -> LoadedDocument:
    """Load one file (from `data` when given, else from `path`). Every failure of the content,
    expected or not, comes out as a LoaderError; a file that is missing or unreadable raises
    the OSError itself."""
    path = Path(path)
    extension = path.suffix.lower()
    loader = LOADERS.get(extension)
    if loader is None:
        if not extension:
            raise UnsupportedFormat("unsupported file type (no extension)")
        # Quoted only when it looks like a file type: a suffix may be part of a person's name.
        if not plain_suffix(path.name):
            raise UnsupportedFormat("unsupported file type (no plain extension such as .pdf)")
        raise UnsupportedFormat(f"unsupported file type '{extension}'")
    kind = _KINDS.get(extension, extension.lstrip(".").upper())
    try:
        if (len(data) if data is not None else path.stat().st_size) == 0:
            raise LoaderError("file is empty")
        document = loader.load(path, limits, data)
    except (LoaderError, FileNotFoundError, PermissionError, MemoryError):
        raise  # the file's state, not its content: the caller words these
    except RecursionError as exc:
        raise LoaderError(f"{kind} file is nested too deeply to be read") from exc
    except Exception as exc:
        # No traceback, exception text or file name in the log: each may quote personal
        # data. The caller records the failure on the document, under its anonymized path.
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
        logger.warning("%s loader: unexpected %s%s", kind, type(exc).__name__, where)
        raise LoaderError(f"could not read {kind} file ({type(exc).__name__})") from exc
    if not document.has_text:
        raise LoaderError("document has no text")
    # A PDF is refused before it is unpacked (pdf.py); the other formats once they are split.
    if len(document.pages) > limits.max_pages:
        raise LoaderError(
            f"{kind} file has {len(document.pages)} pages, more than the limit of "
            f"{limits.max_pages} (ingest.max_pages)"
        )
    return document
