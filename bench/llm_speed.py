"""The LLM alone: prompt reading and generation speed, in wall and CPU seconds.

    python bench/llm_speed.py [--backend llama_cpp|transformers|openai_compatible]
        [--prompt-tokens 1000] [--generate 128] [--repeat 3] [--base-url URL] [--out FILE.json]

Every backend is measured through the Generator protocol, as answering uses it: time to first
token and generation tokens per second (completion tokens after the first, over the time after
the first), the median of --repeat runs, on a prompt of handbook-like text (a file of the
corpus, else a repeated sentence). openai_compatible talks to --base-url, or, without one,
starts llama.cpp's own server on loopback on the configured GGUF (HTTP and the server's
process included in the figures).

For llama_cpp it also loads the GGUF the way rag/llm/llama_cpp.py does and reads the prompt with
1 thread and with all cores, then generates greedily with the configured generation threads. CPU
seconds next to wall seconds show how much of a slow figure is the machine being shared: one
thread that has a core to itself spends as many CPU seconds as wall seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

from rag.config import Settings  # noqa: E402
from rag.host_resources import usable_cpus  # noqa: E402
from rag.llm.facts import facts_in  # noqa: E402
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
    parser.add_argument(
        "--backend", choices=["llama_cpp", "transformers", "openai_compatible"], default=None
    )
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--generate", type=int, default=128, help="tokens to generate")
    parser.add_argument("--repeat", type=int, default=3, help="protocol runs (median taken)")
    parser.add_argument(
        "--facts", action="store_true", help="generate held to the prompt's facts (llama_cpp)"
    )
    parser.add_argument("--base-url", help="openai_compatible: a running server's /v1 URL")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args()

    settings = Settings().llm
    backend = args.backend or settings.backend
    cores = usable_cpus()  # as rag/llm/llama_cpp.py counts them
    text = SAMPLE.read_text() if SAMPLE.is_file() else FALLBACK * 200
    results: dict = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "backend": backend,
        "model": Path(settings.model).name,
        "cores": cores,
        "load_average_start": load_average(),
    }
    print(f"{backend}, {settings.model}, {cores} cores, load average {load_average()}")
    if backend == "llama_cpp":
        raw_llama_cpp(args, settings, text, results)
    server = None
    if backend == "openai_compatible" and not args.base_url:
        server, args.base_url = start_llama_server(settings)
    try:
        results["protocol"] = through_protocol(args, settings, backend, text)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
    results["load_average_end"] = load_average()
    write_results(args.out, results)
    print(f"results written to {args.out}")
    return 0


def through_protocol(args, settings, backend: str, text: str) -> dict:
    """Time to first token and generation speed as answering sees them (build_generator)."""
    from rag.config import ServerSettings
    from rag.llm import build_generator

    update: dict = {"backend": backend}
    if backend == "openai_compatible":
        server = ServerSettings(
            base_url=args.base_url, tokenizer=settings.model, read_timeout_s=600
        )
        update["server"] = server
    settings = settings.model_copy(update=update)
    load_started = time.perf_counter()
    generator = build_generator(settings)
    load_s = time.perf_counter() - load_started
    words = text.split()
    prompt = " ".join(words[: args.prompt_tokens])
    while generator.count_tokens(prompt) > args.prompt_tokens:  # cut to the token budget
        prompt = prompt[: int(len(prompt) * 0.95)]
    runs = []
    for run in range(args.repeat):
        # A different start each run: llama.cpp (and vLLM) would otherwise reuse the previous
        # run's prompt from their cache, and time to first token would not read the prompt.
        content = f"Document {run + 1}.\n{prompt}\n\nSummarize the text above in detail."
        messages = [{"role": "user", "content": content}]
        started = time.perf_counter()
        first = None
        # --facts: held to the prompt's names and numbers as answer.facts_from_sources holds
        # an answer (rag/llm/facts.py).
        options = {"facts": facts_in([content])} if args.facts else {}
        stream = generator.stream(messages, max_tokens=args.generate, timeout_s=None, **options)
        for _piece in stream:
            if first is None:
                first = time.perf_counter() - started
        total = time.perf_counter() - started
        usage = stream.usage
        after_first = max(usage.completion_tokens - 1, 0)
        runs.append(
            {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "usage_estimated": usage.estimated,
                "first_token_s": first,
                "total_s": total,
                "generation_tokens_per_s": after_first / (total - first) if first else None,
            }
        )
    median = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    print(f"{'backend':18} {'load s':>7} {'prompt':>6} {'gen':>4} {'TTFT s':>7} {'tok/s':>7}")
    print(
        f"{backend:18} {load_s:7.1f} {median['prompt_tokens']:6d} "
        f"{median['completion_tokens']:4d} {median['first_token_s']:7.2f} "
        f"{median['generation_tokens_per_s'] or 0:7.1f}"
    )
    close = getattr(generator, "close", None)
    if close:
        close()
    return {"load_s": load_s, "runs": runs, "median": median}


def start_llama_server(settings):
    """llama.cpp's OpenAI-compatible server on loopback, on the configured GGUF."""
    import socket
    import subprocess

    import httpx

    path = resolve_model_path(settings.model, "LLM")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    threads = settings.n_threads or max(1, usable_cpus() // 2)
    command = [sys.executable, "-m", "rag.llm.llama_server", "--model", str(path)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.n_ctx)]
    command += ["--n_threads", str(threads), "--verbose", "False"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    with httpx.Client(trust_env=False, timeout=2) as client:
        for _ in range(240):
            try:
                if client.get(f"{base_url}/models").status_code == 200:
                    return process, base_url
            except httpx.TransportError:
                time.sleep(0.5)
    process.kill()
    raise SystemExit("llama_cpp.server did not start")


def raw_llama_cpp(args, settings, text: str, results: dict) -> None:
    """Prompt reading with 1 thread and all cores, then greedy generation, on llama.cpp."""
    from llama_cpp import Llama

    from rag.llm.llama_weights import plain_weight_buffers

    path = resolve_model_path(settings.model, "LLM")
    cores = results["cores"]
    generation_threads = settings.n_threads or max(1, cores // 2)
    results["prompt"] = []
    for batch_threads in sorted({1, cores}):
        with plain_weight_buffers():  # as the service loads it (rag/llm/llama_weights.py)
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
    print(f"{'phase':26} {'threads':>7} {'tokens':>6} {'wall s':>7} {'CPU s':>7} {'tok/s':>7}")
    rows = [("prompt reading", r) for r in results["prompt"]]
    rows.append(("generation", results["generation"]))
    for name, r in rows:
        print(
            f"{name:26} {r['threads']:7d} {r['tokens']:6d} {r['wall_s']:7.2f} "
            f"{r['cpu_s']:7.2f} {r['tokens_per_s']:7.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
