"""`rag eval person-filings`: the hand-labelled filing pages and the command that scores them."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.evaluation.person_filings import load_labels, stale_pages
from tests.conftest import REPO_ROOT, shared_eval

LABELS = REPO_ROOT / "tests" / "data" / "sec10q_person_labels.json"


def test_labels_are_consistent():
    pages = load_labels(LABELS)  # raises where a text does not match its sha256
    assert len(pages) >= 12 and len({p["document"] for p in pages}) == 5
    spans = [s for p in pages for s in p["spans"]]
    assert len(spans) >= 20 and all(s["label"] == "PERSON" for s in spans)
    for page in pages:
        for span in page["spans"]:
            assert page["text"][span["start"] : span["end"]] == span["value"]


def test_a_changed_text_is_refused(tmp_path):
    payload = json.loads(LABELS.read_text(encoding="utf-8"))
    payload["pages"][0]["text"] += " "
    changed = tmp_path / "labels.json"
    changed.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="does not match sha256"):
        load_labels(changed)


@pytest.mark.slow
def test_the_pdf_loader_still_gives_the_labelled_text():
    """Labels are offsets into the loader's text: a loader change that moves them shows here."""
    documents = shared_eval("sec-10q-2022q3")
    assert stale_pages(load_labels(LABELS), documents) == []


@pytest.mark.slow
def test_eval_person_filings_end_to_end(tmp_path):
    texts = [
        "Mac net sales decreased. Services grew with the App Store.",
        "Date: July 28, 2022\nBy: /s/ Luca Maestri\nLuca Maestri\nSenior Vice President",
    ]
    pages = []
    for number, text in enumerate(texts, 1):
        spans = [
            {"start": m.start(), "end": m.end(), "label": "PERSON"}
            for m in re.finditer("Luca Maestri", text)
        ]
        pages.append(
            {
                "document": "sample.pdf",
                "page": number,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "text": text,
                "spans": spans,
            }
        )
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"pages": pages}))
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app, ["eval", "person-filings", "--labels", str(labels), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert payload["person"]["gold"] == 2 and payload["person"]["recall"] == 1.0
    # "Mac" and "App Store" are no longer taken for people.
    assert payload["false_positives"] == [] and payload["person"]["precision"] == 1.0
