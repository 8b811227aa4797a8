"""Is the model's own confidence a sign of a wrong answer? (issue 18, figure c)

    python bench/answer_confidence.py \\
        bench/results/answer-prompts-squad-dev-facts-processor-300.json \\
        --variant quote-only-facts [--limit 300]

Reads the answers bench/answer_prompts.py saved with their quotes, rebuilds each one's prompt
as the service packs it with the quotes alone (`answer.sources_in_prompt: false`), and reads
prompt and answer once through the embedded model: the log-probability the model gave each
token of its own answer. Prints, for the mean and the lowest token log-probability, how well
they separate right answers from wrong ones (the area under the ROC curve: 0.5 is chance) and
the shares marked at a few thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

from rag.answer import SYSTEM_PROMPT  # noqa: E402
from rag.config import LlmSettings  # noqa: E402
from rag.llm.llama_cpp import LlamaCppGenerator  # noqa: E402
from rag.llm.llama_weights import plain_weight_buffers  # noqa: E402
from rag.model_paths import resolve_model_path  # noqa: E402


def token_log_probabilities(llm, prompt: list[int], answer: list[int]) -> np.ndarray:
    llm.reset()
    llm.eval(prompt + answer)
    scores = np.array(llm.scores[len(prompt) - 1 : len(prompt) - 1 + len(answer)])
    top = scores.max(axis=1, keepdims=True)
    normalizer = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    return scores[np.arange(len(answer)), answer] - normalizer


def area_under_curve(right: list[float], wrong: list[float]) -> float:
    """The chance that a right answer scores higher than a wrong one."""
    pairs = [(r > w) + 0.5 * (r == w) for r in right for w in wrong]
    return sum(pairs) / len(pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    rows = json.loads(args.answers.read_text(encoding="utf-8"))["per_question"][args.variant]
    rows = [r for r in rows if r["found"]][: args.limit]
    settings = LlmSettings(n_threads=1, n_threads_batch=1)
    generator = LlamaCppGenerator(settings)  # its chat template renders the prompt
    with plain_weight_buffers():
        from llama_cpp import Llama

        llm = Llama(
            model_path=str(resolve_model_path(settings.model, "LLM")),
            n_ctx=settings.n_ctx,
            n_threads=1,
            n_threads_batch=1,
            logits_all=True,
            verbose=False,
        )
    measured = []
    for number, row in enumerate(rows, start=1):
        lines = "\n".join(f"[{q['citation']}] {q['text']}" for q in row["quotes"])
        user = f"Most relevant:\n{lines}\n\nQuestion: {row['question']}\nAnswer:"
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ]
        prompt, _, _ = generator._prompt(messages)
        answer = llm.tokenize(row["answer"].encode("utf-8"), add_bos=False)
        if not answer:
            continue
        log_p = token_log_probabilities(llm, prompt, answer)
        measured.append((row["answered"], float(log_p.mean()), float(log_p.min())))
        shown = f"{number:4} {row['answered']!s:5} {log_p.mean():7.2f} {log_p.min():7.2f}"
        print(shown, flush=True)
    for column, name in ((1, "mean token log-probability"), (2, "lowest token log-probability")):
        right = [m[column] for m in measured if m[0]]
        wrong = [m[column] for m in measured if not m[0]]
        print(f"{name}: area under the ROC curve {area_under_curve(right, wrong):.3f}")
        for threshold in np.quantile([m[column] for m in measured], [0.25, 0.5, 0.75]):
            wrong_marked = sum(w < threshold for w in wrong) / len(wrong)
            right_marked = sum(r < threshold for r in right) / len(right)
            print(
                f"  below {threshold:6.2f}: wrong marked {100 * wrong_marked:5.1f} %, "
                f"right marked {100 * right_marked:5.1f} %"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
