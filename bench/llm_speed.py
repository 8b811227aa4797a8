"""The LLM alone: prompt reading and generation speed, in wall and CPU seconds.

    python bench/llm_speed.py [--prompt-tokens 1000] [--generate 128] [--out FILE.json]

Loads the configured GGUF (llm.model) the way rag/llm/llama_cpp.py does, reads a prompt of
handbook-like text (a file of the corpus, else a repeated sentence) with 1 thread and with all
cores, then generates greedily with the configured generation threads. CPU seconds next to wall
seconds show how much of a slow figure is the machine being shared: one thread that has a core
to itself spends as many CPU seconds as wall seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

from rag.config import Settings  # noqa: E402
from rag.model_paths import resolve_model_path  # noqa: E402

SAMPLE = REPO_ROOT.parent / "shared" / "eval" / "handbook-18f" / "travel-and-leave" / "leave.md"
FALLBACK = "Employees request annual leave in the HR system before they take it. "
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "llm_speed.json"


def timed(func) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--generate", type=int, default=128, help="tokens to generate")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args()

    from llama_cpp import Llama

    settings = Settings().llm
    path = resolve_model_path(settings.model, "LLM")
    cores = len(os.sched_getaffinity(0))
    generation_threads = settings.n_threads or max(1, cores // 2)
    text = SAMPLE.read_text() if SAMPLE.is_file() else FALLBACK * 200
    results: dict = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "model": path.name,
        "cores": cores,
        "load_average_start": load_average(),
        "prompt": [],
    }

    for batch_threads in sorted({1, cores}):
        llm = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=generation_threads,
            n_threads_batch=batch_threads,
            n_gpu_layers=settings.n_gpu_layers,
            verbose=False,
        )
        tokens = (llm.tokenize(text.encode()) * 10)[: args.prompt_tokens]
        llm.reset()
        wall, cpu = timed(lambda llm=llm, tokens=tokens: llm.eval(tokens))
        results["prompt"].append(
            {
                "threads": batch_threads,
                "tokens": len(tokens),
                "wall_s": wall,
                "cpu_s": cpu,
                "tokens_per_s": len(tokens) / wall,
                "tokens_per_cpu_s": len(tokens) / cpu,
            }
        )

    # Greedy generation after the prompt just read (llama.cpp keeps the matching prefix, so
    # only the last prompt token is read again), one token at a time, as in answering.
    generated: list[int] = []

    def generate() -> None:
        for token in llm.generate(tokens, temp=0.0):
            generated.append(token)
            if len(generated) == args.generate:
                break

    wall, cpu = timed(generate)
    results["generation"] = {
        "threads": generation_threads,
        "tokens": len(generated),
        "wall_s": wall,
        "cpu_s": cpu,
        "tokens_per_s": len(generated) / wall,
        "tokens_per_cpu_s": len(generated) / cpu,
    }
    results["load_average_end"] = load_average()

    print(f"{path.name}, {cores} cores, load average {results['load_average_start']}")
    print(f"{'phase':26} {'threads':>7} {'tokens':>6} {'wall s':>7} {'CPU s':>7} {'tok/s':>7}")
    rows = [("prompt reading", r) for r in results["prompt"]]
    rows.append(("generation", results["generation"]))
    for name, r in rows:
        print(
            f"{name:26} {r['threads']:7d} {r['tokens']:6d} {r['wall_s']:7.2f} "
            f"{r['cpu_s']:7.2f} {r['tokens_per_s']:7.1f}"
        )
    write_results(args.out, results)
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
