"""File and folder names through the anonymizer: the path readers, logs and jobs see.

"reviews/Performance review of Jane Doe.pdf" is shown as
"reviews/Performance review of <PERSON_…>.pdf". The raw path is kept only encrypted
(rag/privacy/path_vault.py).
"""

from __future__ import annotations

from rag.privacy.anonymizer import Anonymizer
from rag.privacy.file_suffix import plain_suffix


def anonymize_path(anonymizer: Anonymizer, relative_path: str) -> str:
    """The path with each folder and file name anonymized on its own."""
    parts = relative_path.split("/")
    shown = [_anonymize_name(anonymizer, part) for part in parts[:-1]]
    name = parts[-1]
    # A suffix is kept apart, so "jane@example.com.pdf" is an address followed by ".pdf".
    suffix = plain_suffix(name)
    stem = name[: len(name) - len(suffix)]
    shown.append(_anonymize_name(anonymizer, stem) + suffix)
    return "/".join(shown)


def _anonymize_name(anonymizer: Anonymizer, name: str) -> str:
    # "Jane_Doe_review" is read as words; a name with nothing found keeps its underscores.
    spaced = name.replace("_", " ")
    result = anonymizer.anonymize(spaced).text
    return name if result == spaced else result
