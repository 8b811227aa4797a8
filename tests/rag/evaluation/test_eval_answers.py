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
    load_answer_set,
    load_answers,
    normalize_answer,
    run_answers_eval,
    summarize,
    token_f1,
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


def test_token_f1_is_squads():
    assert token_f1("The North Lot", ["north lot"]) == 1.0
    # 2 shared words: precision 2/4, recall 2/2 -> F1 2/3; the best reference counts.
    assert token_f1("park in the north lot", ["north lot", "south"]) == pytest.approx(2 / 3)
    assert token_f1("28 days a year", ["twenty-eight days"]) == pytest.approx(0.4)
    assert token_f1("nothing alike", ["north lot"]) == 0.0
    assert token_f1("anything", []) == 0.0


def _row(cited, answered, judged_cited, found, seconds, unsupported=False, f1=0.0):
    return {
        "cited": cited,
        "answered": answered,
        "judged_cited": judged_cited,
        "found": found,
        "seconds": seconds,
        "unsupported": unsupported,
        "f1": f1,
        "quote_contains": cited,
    }


def test_summary_by_hand():
    rows = [
        _row(True, False, True, True, 1.0, unsupported=True, f1=0.5),
        _row(True, True, False, True, 3.0, f1=1.0),
        _row(False, False, False, False, 2.0),
        _row(False, False, False, True, 6.0, f1=0.5),
    ]
    summary = summarize(rows)
    assert summary["cited contains answer"] == 0.5
    assert summary["answer contains answer"] == 0.25
    assert summary["answer token F1"] == 0.5
    assert summary["top quote contains answer"] == 0.5
    assert summary["judged passage cited"] == 0.25
    assert summary["found"] == 0.75
    # Wrong and found: rows 1 and 4, one of them marked; right: row 2, not marked.
    assert summary["wrong answers marked unsupported"] == 0.5
    assert summary["right answers marked unsupported"] == 0.0
    assert summary["s/question mean"] == 3.0
    assert summary["s/question median"] == 2.5


def test_summary_without_right_answers_says_so():
    summary = summarize([_row(True, False, True, True, 1.0, unsupported=True)])
    assert summary["right answers marked unsupported"] is None
    assert summary["wrong answers marked unsupported"] == 1.0


def _question_file(root, questions=None):
    (root / "docs" / "policies").mkdir(parents=True)
    (root / "docs" / "policies" / "leave.md").write_text(
        "# Annual leave\n\nEmployees get 28 days of paid annual leave per year.\n"
    )
    (root / "docs" / "parking.txt").write_text("Visitors park in the north lot.\n")
    questions = questions or [
        {
            "id": "l1",
            "question": "How many days of annual leave do employees get?",
            "answers": ["28 days"],
            "source": "policies/leave.md",
        }
    ]
    path = root / "questions.json"
    path.write_text(json.dumps({"corpus": "docs", "questions": questions}))
    return path


def test_a_question_file_is_read_with_its_folder(tmp_path):
    answer_set = load_answer_set(_question_file(tmp_path))
    assert answer_set.corpus == (tmp_path / "docs").resolve()
    assert answer_set.questions == {"l1": "How many days of annual leave do employees get?"}
    assert answer_set.answers == {"l1": ["28 days"]}
    assert answer_set.judged == {"l1": {"policies/leave.md"}}
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert load_answer_set(tmp_path / "questions.json", corpus=other).corpus == other
    with pytest.raises(ValueError, match="does not exist"):
        load_answer_set(tmp_path / "questions.json", corpus=tmp_path / "missing")
    (tmp_path / "bad.json").write_text(json.dumps({"questions": [{"id": "x"}]}))
    with pytest.raises(ValueError, match="expected"):
        load_answer_set(tmp_path / "bad.json")


def test_the_handbook_question_file_is_well_formed():
    from tests.conftest import REPO_ROOT

    path = REPO_ROOT / "tests" / "data" / "handbook_questions.json"
    raw = json.loads(path.read_text())
    rows = raw["questions"]
    assert len(rows) == 30 and len({r["id"] for r in rows}) == 30
    assert all(r["question"].endswith("?") and r["answers"] and r["source"] for r in rows)
    corpus = (path.parent / raw["corpus"]).resolve()
    if not corpus.is_dir():
        pytest.skip(f"the handbook is not at {corpus}")
    for row in rows:  # each answer stands in its source, as written
        text = (corpus / row["source"]).read_text(encoding="utf-8").lower()
        assert any(a.lower() in text for a in row["answers"]), row["id"]


def test_answers_through_the_real_service(tmp_path, embedder, anonymizer, generator):
    dataset = _dataset(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "unused")
    payload = run_answers_eval(
        dataset, settings, embedder=embedder, anonymizer=anonymizer, generator=generator
    )
    assert payload["questions"] == 3 and payload["indexed_documents"] == 3
    assert payload["embedding_backend"] == "onnx"  # the runtime that ran (tests pin onnx)
    rows = {row["id"]: row for row in payload["per_question"]}
    assert set(rows) == {"q1", "q2", "q3"}  # q4 has no reference answer
    for qid, row in rows.items():
        # Each question names its passage's words: it is found and cited first.
        expected = next(d for q, _, d, _ in QUERIES if q == qid)
        assert row["found"] and row["cited_documents"][0] == expected
        assert row["cited"] and row["judged_cited"]
        assert row["answer"] and row["seconds"] > 0
        assert row["answered"] == contains_answer(row["answer"], row["references"])
        assert row["f1"] == pytest.approx(token_f1(row["answer"], row["references"]), abs=1e-4)
        assert isinstance(row["unsupported"], bool)
        assert row["prompt_tokens"] > 0 and row["first_token_seconds"] > 0
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


def test_a_question_file_through_the_real_service(tmp_path, embedder, anonymizer, generator):
    path = _question_file(tmp_path)
    payload = run_answers_eval(
        path,
        Settings(data_dir=tmp_path / "unused"),
        embedder=embedder,
        anonymizer=anonymizer,
        generator=generator,
    )
    assert payload["indexed_documents"] == 2 and payload["questions"] == 1
    (row,) = payload["per_question"]
    assert row["cited_documents"][0] == "policies/leave.md" and row["judged_cited"]
    assert row["cited"] and "28 days" in row["top_quote"]
