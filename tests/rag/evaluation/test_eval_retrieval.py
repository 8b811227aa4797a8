"""`rag eval retrieval` end to end on a tiny BEIR dataset."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rag.cli import app

CORPUS = [
    ("leave", "Annual leave", "Employees get 28 days of paid annual leave per year."),
    ("freezer", "Facilities", "The basement freezer reset code is FRZ-4471."),
    ("travel", "Travel policy", "Meals on business trips are reimbursed up to the per diem."),
    ("parking", "Parking", "Visitors park in the north lot; staff badges open the gate."),
]
QUERIES = [
    ("q1", "How many days of annual leave do employees get?", "leave"),
    ("q2", "What is the reset code of the basement freezer?", "freezer"),
    ("q3", "Where do visitors park?", "parking"),
    ("q4", "unjudged question", None),
]


def _dataset(root):
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as handle:
        for doc_id, title, text in CORPUS:
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as handle:
        for query_id, text, _ in QUERIES:
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{q}\t{d}\t1" for q, _, d in QUERIES if d]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return root


def test_eval_retrieval_end_to_end(tmp_path):
    dataset = _dataset(tmp_path / "tiny")
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app, ["eval", "retrieval", "--dataset", str(dataset), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.output and "hybrid" in result.output
    assert "personal-data removal: off" in result.output
    payload = json.loads(out.read_text())
    assert payload["queries"] == 3 and payload["indexed_documents"] == 4
    assert payload["personal_data_removal"] is False
    assert payload["embedding_backend"] == "onnx"  # the runtime that ran (tests pin onnx)
    assert set(payload["results"]) == {"dense", "fulltext", "hybrid"}
    for values in payload["results"].values():
        assert set(values) == {"nDCG@10", "Recall@10", "Recall@100", "MRR@10", "ms/query"}
        assert values["Recall@100"] == 1.0  # four documents: every one is in the top 100
    # Each question names its passage's words: every mode ranks it first.
    assert payload["results"]["hybrid"]["MRR@10"] == 1.0
    assert payload["results"]["fulltext"]["nDCG@10"] == 1.0
    # Question by question, for comparing two runs.
    assert set(payload["per_query"]["hybrid"]) == {"q1", "q2", "q3"}
    freezer = payload["per_query"]["hybrid"]["q2"]
    assert freezer["nDCG@10"] == 1.0 and freezer["top"][0] == "freezer" and len(freezer["top"]) == 3


def test_eval_retrieval_modes_and_limit(tmp_path):
    dataset = _dataset(tmp_path / "tiny")
    out = tmp_path / "result.json"
    args = ["eval", "retrieval", "--dataset", str(dataset), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--modes", "fulltext", "--limit", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert list(payload["results"]) == ["fulltext"] and payload["queries"] == 1
    bad = CliRunner().invoke(app, [*args, "--modes", "sparse"])
    assert bad.exit_code == 2
