"""`rag eval answers`: SQuAD normalization by hand, and a tiny dataset end to end through the
real service (real embedder, full-text, LLM)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.evaluation.answers import (
    contains_answer,
    load_answers,
    normalize_answer,
    run_answers_eval,
    summarize,
)

CORPUS = [
    ("leave", "Annual leave", "Employees get 28 days of paid annual leave per year."),
    ("freezer", "Facilities", "The basement freezer reset code is FRZ-4471."),
    ("parking", "Parking", "Visitors park in the north lot; staff badges open the gate."),
]
QUERIES = [
    ("q1", "How many days of annual leave do employees get?", "leave", ["28 days", "28"]),
    ("q2", "What is the reset code of the basement freezer?", "freezer", ["FRZ-4471"]),
    ("q3", "Where do visitors park?", "parking", ["the north lot", "north lot"]),
    ("q4", "A question without a reference answer", "parking", None),
]


def _dataset(root, answers=True):
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as handle:
        for doc_id, title, text in CORPUS:
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as handle:
        for query_id, text, _, _ in QUERIES:
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, _, d, _ in QUERIES]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    if answers:
        refs = {q: a for q, _, _, a in QUERIES if a}
        (root / "answers.json").write_text(json.dumps(refs))
    return root


def test_normalization_is_squads():
    assert normalize_answer("The  North Lot!") == "north lot"
    assert normalize_answer("an Apple, a pear") == "apple pear"
    assert normalize_answer("FRZ-4471") == "frz4471"


def test_containment_needs_whole_words():
    assert contains_answer("Visitors park in the North lot.", ["north lot"])
    assert contains_answer("It is 28 days.", ["twenty-eight", "28 days"])
    assert not contains_answer("It is 128 days.", ["28 days"])  # not a whole word
    assert not contains_answer("the theatre", ["the"])  # an answer that normalizes to nothing
    assert not contains_answer("anything", [])


def test_bad_answer_files_get_a_clear_error(tmp_path):
    (tmp_path / "answers.json").write_text(json.dumps({"q1": "France"}))
    with pytest.raises(ValueError, match="q1.*not a list of strings"):
        load_answers(tmp_path)
    (tmp_path / "answers.json").write_text(json.dumps(["France"]))
    with pytest.raises(ValueError, match="query id -> list"):
        load_answers(tmp_path)
    missing = tmp_path / "none"
    missing.mkdir()
    with pytest.raises(ValueError, match="no answers.json"):
        load_answers(missing)


def test_summary_by_hand():
    rows = [
        {"cited": True, "answered": False, "judged_cited": True, "found": True, "seconds": 1.0},
        {"cited": True, "answered": True, "judged_cited": False, "found": True, "seconds": 3.0},
        {"cited": False, "answered": False, "judged_cited": False, "found": False, "seconds": 2.0},
        {"cited": False, "answered": False, "judged_cited": False, "found": True, "seconds": 6.0},
    ]
    summary = summarize(rows)
    assert summary["cited contains answer"] == 0.5
    assert summary["answer contains answer"] == 0.25
    assert summary["judged passage cited"] == 0.25
    assert summary["found"] == 0.75
    assert summary["s/question mean"] == 3.0
    assert summary["s/question median"] == 2.5


def test_answers_through_the_real_service(tmp_path, embedder, anonymizer, generator):
    dataset = _dataset(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "unused")
    payload = run_answers_eval(
        dataset, settings, embedder=embedder, anonymizer=anonymizer, generator=generator
    )
    assert payload["questions"] == 3 and payload["indexed_documents"] == 3
    rows = {row["id"]: row for row in payload["per_question"]}
    assert set(rows) == {"q1", "q2", "q3"}  # q4 has no reference answer
    for qid, row in rows.items():
        # Each question names its passage's words: it is found and cited first.
        expected = next(d for q, _, d, _ in QUERIES if q == qid)
        assert row["found"] and row["cited_documents"][0] == expected
        assert row["cited"] and row["judged_cited"]
        assert row["answer"] and row["seconds"] > 0
        assert row["answered"] == contains_answer(row["answer"], row["references"])
    assert payload["summary"]["cited contains answer"] == 1.0
    assert not (tmp_path / "unused").exists()  # the store lived in a temporary folder


def test_cli_runs_a_limited_set_and_rejects_a_dataset_without_answers(tmp_path):
    out = tmp_path / "answers.json"
    dataset = _dataset(tmp_path / "tiny")
    args = ["eval", "answers", "--dataset", str(dataset), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "cited contains answer" in result.output
    payload = json.loads(out.read_text())
    assert payload["questions"] == 1 and payload["limit"] == 1
    no_answers = _dataset(tmp_path / "bare", answers=False)
    bad = CliRunner().invoke(app, ["eval", "answers", "--dataset", str(no_answers)])
    assert bad.exit_code == 2 and "no answers.json" in bad.output
