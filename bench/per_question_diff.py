"""Where two `rag eval retrieval` runs differ, question by question: the questions that lost
most from run A (anonymization off) to run B (on), with what each word became.

    rag eval retrieval --dataset ../shared/eval/squad-dev --modes hybrid --limit 1000 --out off.json
    rag eval retrieval ... --anonymize --out on.json
    python bench/per_question_diff.py --dataset ../shared/eval/squad-dev off.json on.json \
        --worst 30 --show-pseudonyms

--show-pseudonyms runs the anonymizer (configs/default.yaml, a fixed key) on each listed
question and its judged passage and prints the values hidden in each, marking the question's
values the passage holds under the same token: the causes (a name split differently, a part
of a name, a word hidden in one and not the other) can then be counted by hand. SQuAD is
public text: printing its values is fine; never run this on private documents.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.evaluation.retrieval import load_beir


def per_question(path: Path, mode: str) -> dict[str, dict]:
    payload = json.loads(path.read_text())
    if "per_query" not in payload:
        raise SystemExit(f"{path}: no per_query (made before rag eval retrieval wrote it)")
    return payload["per_query"][mode]


def losses(a: dict[str, dict], b: dict[str, dict]) -> list[tuple[float, str]]:
    """(nDCG@10 in B minus in A, query id) for the questions of both runs, worst first."""
    return sorted((b[q]["nDCG@10"] - a[q]["nDCG@10"], q) for q in a if q in b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="the reference run (anonymization off)")
    parser.add_argument("b", type=Path, help="the compared run (anonymization on)")
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--worst", type=int, default=30)
    parser.add_argument("--show-pseudonyms", action="store_true")
    args = parser.parse_args()
    a, b = per_question(args.a, args.mode), per_question(args.b, args.mode)
    corpus, queries, qrels = load_beir(args.dataset)
    diffs = losses(a, b)
    lost = [d for d, _ in diffs if d < 0]
    won = [d for d, _ in diffs if d > 0]
    print(
        f"{len(diffs)} questions: {len(lost)} lose {sum(lost):.2f}, {len(won)} gain "
        f"{sum(won):.2f}; net nDCG@10 {sum(lost + won) / max(len(diffs), 1):+.4f}"
    )
    anonymizer = None
    if args.show_pseudonyms:
        from rag.config import get_settings
        from rag.privacy.anonymizer import Anonymizer

        anonymizer = Anonymizer(get_settings().anonymize, secret=b"per-question-diff")
    for diff, qid in diffs[: args.worst]:
        gold = next(iter(qrels[qid]))
        print(f"\n{diff:+.3f}  {qid}  {queries[qid]!r}")
        print(f"   gold {gold}; top A {a[qid]['top']}; top B {b[qid]['top']}")
        if anonymizer is not None:
            question = anonymizer.anonymize(queries[qid])
            title, text = corpus[gold]
            passage = anonymizer.anonymize(f"{title}\n\n{text}")
            shared = set(question.originals) & set(passage.originals)
            hidden = [
                f"{value}{' (=)' if token in shared else ''}"
                for token, value in question.originals.items()
            ]
            print(f"   question hides: {hidden}")
            print(f"   passage hides:  {sorted(set(passage.originals.values()))}")


if __name__ == "__main__":
    main()
