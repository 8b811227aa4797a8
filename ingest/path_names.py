"""File and folder names through the anonymizer: the path readers, logs and jobs see.

"reviews/Performance review of Jane Doe.pdf" is shown as
"reviews/Performance review of <PERSON_…>.pdf". The raw path is kept only encrypted
(rag/path_vault.py).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ingest.anonymize import Anonymizer

# A suffix is kept apart, so "jane@example.com.pdf" is an address followed by ".pdf".
_MAX_SUFFIX = 6


def anonymize_path(anonymizer: Anonymizer, relative_path: str) -> str:
    """The path with each folder and file name anonymized on its own."""
    parts = relative_path.split("/")
    shown = [_anonymize_name(anonymizer, part) for part in parts[:-1]]
    name = parts[-1]
    suffix = PurePosixPath(name).suffix
    if not (1 < len(suffix) <= _MAX_SUFFIX and suffix[1:].isalnum()):
        suffix = ""
    stem = name[: len(name) - len(suffix)]
    shown.append(_anonymize_name(anonymizer, stem) + suffix)
    return "/".join(shown)


def _anonymize_name(anonymizer: Anonymizer, name: str) -> str:
    # "Jane_Doe_review" is read as words; a name with nothing found keeps its underscores.
    spaced = name.replace("_", " ")
    result = anonymizer.anonymize(spaced).text
    return name if result == spaced else result
