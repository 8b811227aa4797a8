"""`rag ask` end to end, as a user runs it: one new process per question.

    python bench/cli_ask.py --data-dir DIR [--out FILE.json]

DIR is a data folder that already holds an index, e.g. the one
`python bench/ingest_and_ask.py --data-dir DIR` leaves behind. For each question this runs
`RAG_DATA_DIR=DIR rag ask "..."` and records the process's wall time (imports and model loading
included) and what the command itself prints on stderr: "first token X s, N pieces in Y s",
both counted from after its models are loaded.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "cli_ask.json"
QUESTIONS = [
    "How do I request annual leave?",
    "What should I do if I suspect a security incident?",
    "How do I record my working hours in Tock?",
]
TIMING = re.compile(r"first token ([0-9.]+)s, (\d+) pieces in ([0-9.]+)s")


def ask(rag: Path, data_dir: Path, question: str) -> dict:
    env = os.environ | {
        "RAG_DATA_DIR": str(data_dir),
        "RAG_DATABASE_URL": "",  # the SQLite file in the data folder
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(rag), "ask", question], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    match = TIMING.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"`rag ask` failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {
        "question": question,
        "process_wall_s": wall,
        "first_token_s": float(match.group(1)),
        "pieces": int(match.group(2)),
        "answer_s": float(match.group(3)),
        "startup_s": wall - float(match.group(3)),
        "stdout": done.stdout,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an ingested data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args()
    if not (args.data_dir / "rag.db").is_file():
        print(f"no rag.db in {args.data_dir}: ingest into it first", file=sys.stderr)
        return 2
    rag = Path(sys.executable).parent / "rag"
    load_average_start = load_average()
    runs = [ask(rag, args.data_dir.resolve(), question) for question in QUESTIONS]

    header = ("process s", "startup s", "first token s", "answer s")
    print(f"{'question':52} {header[0]:>9} {header[1]:>9} {header[2]:>13} {header[3]:>8}")
    for r in runs:
        print(
            f"{r['question'][:52]:52} {r['process_wall_s']:9.2f} {r['startup_s']:9.2f} "
            f"{r['first_token_s']:13.2f} {r['answer_s']:8.2f}"
        )
    medians = {
        key: statistics.median(r[key] for r in runs)
        for key in ("process_wall_s", "startup_s", "first_token_s", "answer_s")
    }
    print(
        f"{'median':52} {medians['process_wall_s']:9.2f} {medians['startup_s']:9.2f} "
        f"{medians['first_token_s']:13.2f} {medians['answer_s']:8.2f}"
    )
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "load_average_start": load_average_start,
        "load_average_end": load_average(),
        "runs": runs,
        "median": medians,
    }
    write_results(args.out, results)
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
