"""The grounding check's figure (c), offline: answers generated once, the check tuned in seconds.

    python bench/grounding_tuning.py bench/results/answer-prompts-*.json \\
        [--about 0.2,0.3 --words 0.5,0.7 --no-kind] [--show 20]

Reads the per-question rows of bench/answer_prompts.py (which keeps each answer's passages and
quotes) or of `rag eval answers` run with them, and checks every answer again
(rag/grounding.py) for each setting of the grid: of the wrong answers (found, no reference in
them) the share marked, and of the right ones the share marked (goals >= 70 % and <= 10 %).
The rows are split by question: the even-numbered questions of each file to tune on, the odd
ones held out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

import rag.grounding_question as topic  # noqa: E402
from rag.grounding import check_answer  # noqa: E402


def load_rows(paths: list[Path]) -> list[dict]:
    """Every answered row with its texts, tagged with its file, variant and question's place."""
    rows = []
    for path in paths:
        payload = json.loads(path.read_text(encoding="utf-8"))
        per_question = payload["per_question"]
        groups = per_question.items() if isinstance(per_question, dict) else [("", per_question)]
        for variant, group in groups:
            for index, row in enumerate(group):
                if "passages" not in row or not row["found"]:
                    continue
                rows.append({**row, "file": path.name, "variant": variant, "index": index})
    return rows


def marked(row: dict, question: bool) -> tuple[bool, str | None]:
    checks = check_answer(
        row["answer"],
        row["passages"],
        row["question"] if question else None,
        [q["text"] for q in row.get("quotes", [])],
    )
    bad = [c for c in checks if not c.grounded]
    return bool(bad), bad[0].reason if bad else None


def shares(rows: list[dict], question: bool) -> dict:
    wrong = [r for r in rows if not r["answered"]]
    right = [r for r in rows if r["answered"]]
    wrong_marked = sum(marked(r, question)[0] for r in wrong)
    right_marked = sum(marked(r, question)[0] for r in right)
    return {
        "wrong": len(wrong),
        "wrong marked": wrong_marked / len(wrong) if wrong else None,
        "right": len(right),
        "right marked": right_marked / len(right) if right else None,
    }


def shown(s: dict) -> str:
    def pct(v):
        return "  n/a" if v is None else f"{100 * v:5.1f}"

    return (
        f"wrong marked {pct(s['wrong marked'])} % of {s['wrong']:3}  "
        f"right marked {pct(s['right marked'])} % of {s['right']:3}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--about", default=str(topic.ABOUT_SHARE))
    parser.add_argument("--words", default=str(topic.WORD_SHARE))
    parser.add_argument("--best", default=str(topic.BEST_SHARE))
    parser.add_argument("--together", action="store_true", help="a sentence's facts in one")
    parser.add_argument("--no-quotes", action="store_true", help="quotes not on topic as such")
    parser.add_argument("--no-kind", action="store_true", help="without the asked-kind rule")
    parser.add_argument("--variant", default=None, help="only the rows of this variant")
    parser.add_argument("--show", type=int, default=0, help="print N misjudged answers")
    args = parser.parse_args()
    rows = load_rows(args.files)
    if args.variant:
        rows = [r for r in rows if r["variant"] == args.variant]
    tune = [r for r in rows if r["index"] % 2 == 0]
    held = [r for r in rows if r["index"] % 2 == 1]
    print(f"{len(rows)} answers ({len(tune)} to tune on, {len(held)} held out)")
    print(f"{'without the question (before)':34} tune: {shown(shares(tune, False))}")
    print(f"{'':34} held: {shown(shares(held, False))}")
    topic.FACTS_TOGETHER = args.together
    topic.QUOTES_ON_TOPIC = not args.no_quotes
    if args.no_kind:
        topic.QuestionTopic.missing_kind = lambda self, answer: None
    for about, words, best in itertools.product(
        *([float(v) for v in a.split(",")] for a in (args.about, args.words, args.best))
    ):
        topic.ABOUT_SHARE, topic.WORD_SHARE, topic.BEST_SHARE = about, words, best
        name = f"about {about:g}, words {words:g}, best {best:g}"
        print(f"{name:34} tune: {shown(shares(tune, True))}")
        print(f"{'':34} held: {shown(shares(held, True))}")
    for row in [r for r in rows if marked(r, True)[0] == r["answered"]][: args.show]:
        print(
            "-",
            "RIGHT" if row["answered"] else "WRONG",
            "|",
            row["question"],
            "|",
            row["answer"][:160],
            "|",
            row["references"][:2],
            "|",
            marked(row, True)[1],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
