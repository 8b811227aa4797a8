"""Ingestion throughput and question latency on a real corpus, through the product's own parts.

    python bench/ingest_and_ask.py [--corpus DIR] [--out FILE.json] [--data-dir DIR] [--skip-stages]

In a fresh data folder (SQLite; a temporary one unless --data-dir is given, which is then kept
so `rag ask` can be measured against it), this migrates the schema and then measures:

1. model loading: embedder, anonymizer (Presidio + spaCy), LLM, each with its imports;
2. ingestion of the corpus with `pipeline.ingest_folder`: wall time, pages/s, chunks/s;
3. the stage breakdown: the same files again, through the pipeline's parts called one by one
   (load, anonymize, chunk, embed per document as the pipeline does), plus embedding of all
   chunks in one call; what the stages leave of the ingestion wall time is hashing, SQL writes
   and the scan;
4. questions through `ask_stream` after `load_all()`: retrieval (until citations are known),
   time to first token, generation tokens/s (the LLM's tokenizer on the answer), total;
   median and p90 over the questions, after one warm-up question reported on its own.

The figures are printed as tables and written as JSON (--out).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from results_io import load_average, write_results

# Nothing is fetched from a model hub, ever (as in the Makefile).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from ingest.chunk import chunk_pages  # noqa: E402
from ingest.file_workers import worker_count  # noqa: E402
from ingest.loaders import LoaderError, Page, load_document  # noqa: E402
from ingest.scan import walk  # noqa: E402
from rag.answer import pack_prompt  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.db.migrate import upgrade  # noqa: E402
from rag.host_resources import usable_cpus  # noqa: E402
from rag.service import RagService  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "eval" / "handbook-18f"
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "ingest_and_ask.json"
WARM_UP_QUESTION = "What is 18F?"
QUESTIONS = [
    "How do I request annual leave?",
    "How many weeks of paid parental leave can an employee take?",
    "How does the voluntary leave transfer program work?",
    "How do I get reimbursed for expenses after a work trip?",
    "Can I work while I am traveling?",
    "What does the code of conduct say about harassment?",
    "Which hiring authorities does TTS use to hire people?",
    "What are the password requirements?",
    "What should I do if I suspect a security incident?",
    "How do I record my working hours in Tock?",
]

console = Console()


# -- small helpers -------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float]:
    """Median and p90 (linear interpolation between the closest ranks), min and max."""
    if not values:
        return {}
    return {
        "median": statistics.median(values),
        "p90": float(np.percentile(values, 90)),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def per_second(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def code_version() -> dict:
    """The commit and the files changed since it: what these figures measured. Read-only git
    (no optional locks), so a concurrent git user is not disturbed."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed_since_commit": git("status", "--porcelain").splitlines(),
    }


def machine_facts(service: RagService) -> dict:
    import llama_cpp
    import torch

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    cores = usable_cpus()
    llm = service.settings.llm
    return {
        "cpu_model": cpu_model,
        "cores": cores,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "llama_cpp_python": llama_cpp.__version__,
        "embedding_model": service.embedder.model_name,
        "embedding_device": service.embedder.device,
        "embedding_batch_size": service.embedder.batch_size,
        "llm_model": service.generator.name,
        # As rag/llm/llama_cpp.py chooses them when the settings leave them unset.
        "llm_threads": llm.n_threads or max(1, cores // 2),
        "llm_threads_batch": llm.n_threads_batch or cores,
        "llm_n_gpu_layers": llm.n_gpu_layers,
        "file_workers": worker_count(service.settings.ingest),
        "llm_n_ctx": llm.n_ctx,
        "llm_max_tokens": llm.max_tokens,
    }


# -- 1. model loading ----------------------------------------------------------------------


def load_models(service: RagService) -> dict[str, float]:
    """Seconds to build each part, its heavy imports (torch, presidio, llama.cpp) included."""
    seconds = {}
    for part in ("embedder", "anonymizer", "generator"):
        started = time.perf_counter()
        getattr(service, part)
        seconds[part] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return seconds


# -- 2. ingestion --------------------------------------------------------------------------


def ingest(service: RagService, corpus: Path) -> dict:
    cpu_started, started = time.process_time(), time.perf_counter()
    report = service.pipeline.ingest_folder(corpus)
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        # CPU seconds of all this process's threads per wall second: about the core count when
        # it has the machine to itself, less when it waits or shares the cores.
        "cpu_per_wall": (time.process_time() - cpu_started) / wall,
        "report_seconds": report.seconds,
        "files_indexed": report.indexed,
        "files_skipped": [f"{f.path}: {f.reason}" for f in report.skipped],
        "files_failed": [f"{f.path}: {f.reason}" for f in report.failed],
        "pages": report.pages,
        "chunks": report.chunks,
        "pages_per_s": per_second(report.pages, wall),
        "chunks_per_s": per_second(report.chunks, wall),
        "files_per_s": per_second(report.indexed, wall),
    }


# -- 3. stage breakdown --------------------------------------------------------------------


@dataclass
class Stages:
    files: int = 0
    pages: int = 0
    characters: int = 0
    chunks: int = 0
    chunk_tokens: int = 0
    seconds: Counter = field(default_factory=Counter)
    pii: Counter = field(default_factory=Counter)
    texts: list[str] = field(default_factory=list)  # what gets embedded: title + chunk


def stage_breakdown(service: RagService, corpus: Path) -> dict:
    """The pipeline's `_prepare`, one stage at a time, on the same files; then all chunks
    embedded in one call (the embedding figure a GPU run compares against)."""
    anonymizer, embedder, chunking = service.anonymizer, service.embedder, service.settings.chunking
    stages = Stages()
    clock = time.perf_counter
    cpu_started = time.process_time()
    for entry in walk(corpus.resolve()):
        t0 = clock()
        try:
            loaded = load_document(entry.absolute_path)
        except LoaderError:  # unsupported or unreadable: the pipeline skips these too
            continue
        t1 = clock()
        pages = []
        for page in loaded.pages:
            result = anonymizer.anonymize(page.text)
            stages.pii.update(result.counts)
            pages.append(Page(page.number, result.text, page.heading))
        title = anonymizer.anonymize(loaded.title).text
        t2 = clock()
        chunks = chunk_pages(
            pages, embedder.tokenizer, chunking.chunk_tokens, chunking.overlap_tokens
        )
        t3 = clock()
        texts = [f"{title}\n{chunk.text}" for chunk in chunks]
        embedder.embed(texts)
        t4 = clock()
        stages.seconds.update(
            {"load": t1 - t0, "anonymize": t2 - t1, "chunk": t3 - t2, "embed": t4 - t3}
        )
        stages.files += 1
        stages.pages += len(loaded.pages)
        stages.characters += sum(len(page.text) for page in loaded.pages)
        stages.chunks += len(chunks)
        stages.chunk_tokens += sum(chunk.token_count for chunk in chunks)
        stages.texts.extend(texts)

    total = sum(stages.seconds.values())
    cpu_per_wall = (time.process_time() - cpu_started) / total

    cpu_started, started = time.process_time(), clock()
    embedder.embed(stages.texts)
    bulk_s = clock() - started
    bulk_cpu_per_wall = (time.process_time() - cpu_started) / bulk_s

    return {
        "files": stages.files,
        "pages": stages.pages,
        "characters": stages.characters,
        "chunks": stages.chunks,
        "chunk_tokens": stages.chunk_tokens,
        "pii_found": dict(stages.pii.most_common()),
        "seconds": dict(stages.seconds) | {"total": total},
        "share": {stage: s / total for stage, s in stages.seconds.items()},
        "cpu_per_wall": cpu_per_wall,
        "anonymize_chars_per_s": per_second(stages.characters, stages.seconds["anonymize"]),
        "embed_per_document_chunks_per_s": per_second(stages.chunks, stages.seconds["embed"]),
        "embed_bulk_s": bulk_s,
        "embed_bulk_chunks_per_s": per_second(stages.chunks, bulk_s),
        "embed_bulk_tokens_per_s": per_second(stages.chunk_tokens, bulk_s),
        "embed_bulk_cpu_per_wall": bulk_cpu_per_wall,
    }


# -- 4. questions --------------------------------------------------------------------------


def ask(service: RagService, question: str) -> dict:
    clock = time.perf_counter
    started = clock()
    stream = service.ask_stream(question)
    retrieved = clock()
    pieces: list[str] = []
    first = None
    for piece in stream.tokens:
        if first is None:
            first = clock()
        pieces.append(piece)
    ended = clock()
    answer = "".join(pieces).strip()
    tokens = service.generator.count_tokens(answer) if stream.found else 0
    decode_s = ended - first if first is not None else 0.0
    result = {
        "question": question,
        "found": stream.found,
        "citations": len(stream.citations),
        "retrieval_s": retrieved - started,
        "ttft_s": (first if first is not None else ended) - started,
        "total_s": ended - started,
        "pieces": len(pieces),
        "answer_tokens": tokens,
        # The first token's time is in the TTFT; the rate is over the ones after it.
        "tokens_per_s": per_second(tokens - 1, decode_s) if tokens > 1 else None,
        "answer": answer,
    }
    result.update(retrieval_parts(service, question))
    return result


def retrieval_parts(service: RagService, question: str) -> dict:
    """What `ask_stream` does before the LLM, timed part by part (run after the ask, so warm),
    and the prompt's size: the LLM reads it all before its first token."""
    clock = time.perf_counter
    t0 = clock()
    pseudonymized = service.anonymizer.anonymize(question).text
    t1 = clock()
    hits = service.retriever.search(pseudonymized)
    t2 = clock()
    messages, _ = pack_prompt(
        pseudonymized, hits, service.generator, service.settings.llm.max_tokens
    )
    t3 = clock()
    prompt_tokens = sum(service.generator.count_tokens(m["content"]) for m in messages)
    return {
        "anonymize_question_s": t1 - t0,
        "search_s": t2 - t1,
        "pack_prompt_s": t3 - t2,
        "prompt_tokens": prompt_tokens if hits else 0,
    }


def ask_questions(service: RagService, questions: list[str]) -> dict:
    started = time.perf_counter()
    service.load_all()  # builds the FAISS index from SQL; the models are loaded already
    load_all_s = time.perf_counter() - started
    warm_up = ask(service, WARM_UP_QUESTION)
    cpu_started, started = time.process_time(), time.perf_counter()
    asked = [ask(service, question) for question in questions]
    cpu_per_wall = (time.process_time() - cpu_started) / (time.perf_counter() - started)
    answered = [a for a in asked if a["found"]]
    # Between the citations and the first token the LLM reads the prompt.
    prefill = [
        per_second(a["prompt_tokens"], a["ttft_s"] - a["retrieval_s"])
        for a in answered
        if a["prompt_tokens"]
    ]
    return {
        "load_all_s": load_all_s,
        "index_vectors": service.index.size,
        "cpu_per_wall": cpu_per_wall,
        "warm_up": warm_up,
        "questions": asked,
        "summary": {
            "retrieval_s": spread([a["retrieval_s"] for a in asked]),
            "search_s": spread([a["search_s"] for a in asked]),
            "ttft_s": spread([a["ttft_s"] for a in answered]),
            "tokens_per_s": spread([a["tokens_per_s"] for a in answered if a["tokens_per_s"]]),
            "answer_tokens": spread([a["answer_tokens"] for a in answered]),
            "prompt_tokens": spread([a["prompt_tokens"] for a in answered]),
            "prompt_tokens_per_s": spread(prefill),
            "total_s": spread([a["total_s"] for a in answered]),
            "not_found": len(asked) - len(answered),
        },
    }


# -- output --------------------------------------------------------------------------------


def print_tables(results: dict) -> None:
    m, load, ing = results["machine"], results["model_loading_s"], results["ingest"]
    console.print(
        f"[bold]{m['cpu_model']}[/bold], {m['cores']} cores, {m['memory_gib']} GiB; "
        f"torch {m['torch']} ({m['torch_threads']} threads, embedding on {m['embedding_device']}), "
        f"llama-cpp-python {m['llama_cpp_python']} ({m['llm_threads']} generation threads, "
        f"{m['llm_threads_batch']} for the prompt, {m['llm_n_gpu_layers']} GPU layers); "
        f"load average {results['load_average_start']} at start, "
        f"{results['load_average_end']} at end"
    )

    table = Table(title="Model loading (seconds, imports included)")
    for column in ("embedder", "anonymizer", "generator", "total"):
        table.add_column(column, justify="right")
    table.add_row(*(f"{load[c]:.1f}" for c in ("embedder", "anonymizer", "generator", "total")))
    console.print(table)

    table = Table(title=f"Ingestion of {results['corpus']}")
    columns = ("files", "pages", "chunks", "wall s", "CPU s/s", "files/s", "pages/s", "chunks/s")
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(
        str(ing["files_indexed"]),
        str(ing["pages"]),
        str(ing["chunks"]),
        f"{ing['wall_s']:.1f}",
        f"{ing['cpu_per_wall']:.2f}",
        f"{ing['files_per_s']:.2f}",
        f"{ing['pages_per_s']:.2f}",
        f"{ing['chunks_per_s']:.2f}",
    )
    console.print(table)
    for line in ing["files_skipped"] + ing["files_failed"]:
        console.print(f"  not indexed: {line}")

    stages = results.get("stages")
    if stages:
        table = Table(title="Stages, the same files again (seconds, share of the stages' sum)")
        for column in ("stage", "seconds", "share", "rate"):
            table.add_column(column, justify="right" if column != "stage" else "left")
        rates = {
            "anonymize": f"{stages['anonymize_chars_per_s'] / 1000:.1f} k chars/s",
            "embed": f"{stages['embed_per_document_chunks_per_s']:.1f} chunks/s",
        }
        for stage in ("load", "anonymize", "chunk", "embed"):
            table.add_row(
                stage,
                f"{stages['seconds'][stage]:.1f}",
                f"{stages['share'][stage]:.0%}",
                rates.get(stage, ""),
            )
        table.add_row("sum", f"{stages['seconds']['total']:.1f}", "100%", "")
        table.add_row(
            "embed, all chunks in one call",
            f"{stages['embed_bulk_s']:.1f}",
            "",
            f"{stages['embed_bulk_chunks_per_s']:.1f} chunks/s",
        )
        console.print(table)
        console.print(
            f"  CPU s/s: {stages['cpu_per_wall']:.2f} over the stages, "
            f"{stages['embed_bulk_cpu_per_wall']:.2f} embedding all chunks; "
            f"personal data found and replaced: {stages['pii_found']}"
        )

    qa = results["ask"]
    table = Table(title=f"Questions ({len(qa['questions'])} after one warm-up)")
    for column in ("figure", "median", "p90", "min", "max"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    labels = {
        "retrieval_s": "retrieval, until citations (s)",
        "search_s": "  of which embed + FAISS + SQL (s)",
        "ttft_s": "time to first token (s)",
        "prompt_tokens": "prompt tokens",
        "prompt_tokens_per_s": "prompt reading (tokens/s)",
        "tokens_per_s": "generation (tokens/s)",
        "answer_tokens": "answer tokens",
        "total_s": "total (s)",
    }
    for key, label in labels.items():
        s = qa["summary"][key]
        if s:
            table.add_row(label, *(f"{s[c]:.2f}" for c in ("median", "p90", "min", "max")))
    console.print(table)
    w = qa["warm_up"]
    console.print(
        f"  warm-up question: retrieval {w['retrieval_s']:.2f}s, first token {w['ttft_s']:.2f}s, "
        f"total {w['total_s']:.2f}s; load_all {qa['load_all_s']:.1f}s "
        f"({qa['index_vectors']} vectors); CPU s/s while asking {qa['cpu_per_wall']:.2f}; "
        f"not found: {qa['summary']['not_found']}; "
        f"peak RSS {results['peak_rss_mib']:.0f} MiB"
    )


# -- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder to ingest")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="an empty or absent folder to use, and keep, instead of a temporary one",
    )
    parser.add_argument(
        "--skip-stages", action="store_true", help="leave out the stage breakdown (halves the time)"
    )
    return parser.parse_args()


def run(args: argparse.Namespace, data_dir: Path) -> dict:
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'rag.db'}")
    upgrade(settings.resolved_database_url)
    service = RagService(settings)
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "corpus": str(args.corpus),
        "code": code_version(),
        "load_average_start": load_average(),
    }
    results["model_loading_s"] = load_models(service)
    results["machine"] = machine_facts(service)
    console.print(f"ingesting {args.corpus} ...")
    results["ingest"] = ingest(service, args.corpus)
    if not args.skip_stages:
        console.print("stage breakdown (the same files again) ...")
        results["stages"] = stage_breakdown(service, args.corpus)
    console.print("asking ...")
    results["ask"] = ask_questions(service, QUESTIONS)
    results["load_average_end"] = load_average()
    results["peak_rss_mib"] = peak_rss_mib()
    service.close()  # saves the FAISS snapshot, so `rag ask` on --data-dir starts from it
    return results


def main() -> int:
    args = parse_args()
    if not args.corpus.is_dir():
        console.print(
            f"[red]corpus not found:[/red] {args.corpus}\n"
            "The default is ../shared/eval/handbook-18f beside the repository; "
            "pass another folder with --corpus."
        )
        return 2
    if args.data_dir:
        if args.data_dir.exists() and any(args.data_dir.iterdir()):
            console.print(f"[red]--data-dir must be empty or absent:[/red] {args.data_dir}")
            return 2
        args.data_dir.mkdir(parents=True, exist_ok=True)
        results = run(args, args.data_dir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
            results = run(args, Path(tmp))
    print_tables(results)
    write_results(args.out, results)
    console.print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
