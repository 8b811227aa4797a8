"""`rag eval person-filings`: PERSON precision and recall on real business documents.

The synthetic PII set (rag/evaluation/pii.py) is made of sentences about people; business
documents are mostly not, and there the question is what else gets called a person ("Mac",
"Unaudited", "Japanese Yen"). The labels file (tests/data/sec10q_person_labels.json) holds
pages of the SEC 10-Q filings in ../shared/eval/sec-10q-2022q3, their text as the PDF loader
extracts it, and every real person's name on them, labelled by hand. Scoring is the PII
eval's: a predicted PERSON span counts when it overlaps a gold one, a gold one is found when a
predicted span overlaps it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rag.evaluation.pii import score

LABEL = "PERSON"


def load_labels(path: Path) -> list[dict]:
    """The labelled pages: {document, page, sha256, text, spans[{start, end, label}]}."""
    pages = json.loads(path.read_text(encoding="utf-8"))["pages"]
    for page in pages:
        digest = hashlib.sha256(page["text"].encode()).hexdigest()
        if digest != page["sha256"]:
            raise ValueError(f"{page['document']} page {page['page']}: text does not match sha256")
    return pages


def stale_pages(pages: list[dict], documents: Path) -> list[str]:
    """Labelled pages whose text the PDF loader no longer extracts as labelled (the labels'
    offsets would be wrong): 'file page N' for each. Only the labelled pages are read, the way
    the loader reads each page (pypdf's text, then the loader's `normalize_text`)."""
    from pypdf import PdfReader

    from ingest.loaders.pdf import normalize_text

    readers: dict[str, PdfReader] = {}
    stale = []
    for page in pages:
        name = page["document"]
        if name not in readers:
            readers[name] = PdfReader(documents / name, strict=False)
        text = normalize_text(readers[name].pages[page["page"] - 1].extract_text() or "")
        if text != page["text"]:
            stale.append(f"{name} page {page['page']}")
    return stale


def run_person_eval(labels: Path, settings, documents: Path | None = None) -> dict:
    """PERSON precision / recall of the configured anonymizer on the labelled pages, and the
    values it got wrong (public filings: officers' names and business words, no private data)."""
    from rag.privacy.anonymizer import Anonymizer

    pages = load_labels(labels)
    if documents is not None:
        stale = stale_pages(pages, documents)
        if stale:
            raise ValueError(f"the PDF loader's text differs from the labels: {', '.join(stale)}")
    anonymizer = Anonymizer(settings.anonymize, secret=b"eval")
    # Each page is analyzed once; `score` and the error lists read the same spans.
    found = {
        p["text"]: [s for s in anonymizer.find(p["text"]) if s.entity_type == LABEL] for p in pages
    }
    result = score(pages, found.__getitem__)
    false_positives: list[str] = []
    missed: list[str] = []
    for page in pages:
        text, predicted = page["text"], found[page["text"]]
        gold = [(s["start"], s["end"]) for s in page["spans"]]
        false_positives += [
            text[p.start : p.end] for p in predicted if not any(_overlap(p, g) for g in gold)
        ]
        missed += [text[s:e] for s, e in gold if not any(_overlap(p, (s, e)) for p in predicted)]
    row = result["per_type"].get(LABEL, {"predicted": 0, "gold": 0, "precision": 0.0})
    return {
        "labels": str(labels),
        "pages": len(pages),
        "person": row,
        "false_positives": sorted(false_positives),
        "missed": sorted(missed),
    }


def _overlap(predicted, gold: tuple[int, int]) -> bool:
    return predicted.start < gold[1] and gold[0] < predicted.end
