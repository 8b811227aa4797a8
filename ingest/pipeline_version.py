"""The pipeline version: a digest of everything that changes what is stored for the same file, so
that a change queues the reprocess job (ingest/reprocess.py; what goes into the digest:
docs/architecture.md, "Asking", re-processing). The embedding model is not in it: a new model
re-embeds (ingest/reembed.py) without reading the files again.

PIPELINE_CODE_VERSION: bump it in any change to the code that changes what the pipeline stores
(a loader, the chunker, a recognizer's logic, table extraction, chunk headers...). That is all
a later change needs to do to have every stored document made again.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.recognizers.word_lists import LISTS as WORD_LISTS

# Bump when the pipeline's code changes what it stores for the same file and settings.
# 1: pipeline versions recorded; 64-bit pseudonyms. 2: titles that mean something (a filing
# number or file name in the metadata is replaced: ingest/loaders/titles.py). 3: each chunk's
# context header (chunks.context, embedded and full-text indexed). 4: DOCX and HTML table rows
# name their columns (ingest/loaders/tables.py). 5: PDF table rows name their columns too
# (ingest/loaders/pdf_tables.py, from pypdf's layout-mode text); business words are no longer
# PERSON (rag/privacy/recognizers/business_terms.py); names shown by the names around them.
# 6: PDF page text from PDFium (pypdfium2) instead of pypdf's plain text (ingest/loaders/pdf.py).
# 7: chunk headers carry the tokens of the words of hidden multi-word names
# (anonymize.name_parts_in_headers); chunking.pseudonym_stand_ins; spaCy's entities bounded by
# its sentence segmenter instead of the parser (rag/privacy/nlp_engine.py): a few names may differ.
# 8: PDF table pages laid out in columns from PDFium's glyph positions, not pypdf's layout mode
# (ingest/loaders/pdf_layout.py): a few table rows and headers differ.
PIPELINE_CODE_VERSION = 8
# Settings that do not change what is stored (the key is in the facts as its id).
_NOT_STORED = {"secret_key", "max_restored_values", "typed_words_embedded"}


def pipeline_facts(settings: Settings, anonymizer: Anonymizer) -> dict[str, Any]:
    anonymize = settings.anonymize
    return {
        "code": PIPELINE_CODE_VERSION,
        "anonymize": anonymize.model_dump(mode="json", exclude=_NOT_STORED),
        "key": anonymizer.key_id,
        "pseudonym_chars": anonymizer.pseudonym_chars,
        "recognizers": _recognizers(anonymizer),
        "word_lists": _word_lists_digest(WORD_LISTS),
        # The spaCy model and the PDF readers decide the text and what is found in it.
        "packages": {
            name: _package_version(name)
            for name in ("presidio-analyzer", "spacy", anonymize.spacy_model, "pypdf", "pypdfium2")
        },
        "chunking": settings.chunking.model_dump(mode="json"),
    }


def pipeline_version(settings: Settings, anonymizer: Anonymizer) -> str:
    """A short, stable digest of `pipeline_facts` (stored per document)."""
    facts = json.dumps(pipeline_facts(settings, anonymizer), sort_keys=True)
    return hashlib.sha256(facts.encode()).hexdigest()[:32]


def _recognizers(anonymizer: Anonymizer) -> list[list[str]]:
    analyzer = getattr(anonymizer, "_analyzer", None)
    registry = getattr(analyzer, "registry", None)
    if registry is None:  # anonymization off, or a stand-in analyzer
        return []
    return sorted(
        [r.name, ",".join(sorted(r.supported_entities)), str(getattr(r, "version", ""))]
        for r in registry.recognizers
    )


@lru_cache(maxsize=4)
def _word_lists_digest(folder: Path) -> str:
    lists = sorted(folder.glob("*.txt"))
    if not lists:  # a moved folder must not make every list change invisible
        raise FileNotFoundError(f"no word lists in {folder}")
    digest = hashlib.sha256()
    for path in lists:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # a model given as a folder
        return ""
