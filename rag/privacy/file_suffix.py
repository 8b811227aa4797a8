"""What counts as a file's extension where a name may be shown: a dot and up to five letters
or digits. "Notes on Dr. Priya Raman" has the suffix ". Priya Raman", which is part of a
name (personal data), not a file type."""

from __future__ import annotations

from pathlib import PurePosixPath

MAX_SUFFIX_CHARS = 6  # the dot included


def plain_suffix(name: str) -> str:
    """The name's suffix when it looks like a file type (".pdf", ".docx"), else ""."""
    suffix = PurePosixPath(name).suffix
    return suffix if 1 < len(suffix) <= MAX_SUFFIX_CHARS and suffix[1:].isalnum() else ""
