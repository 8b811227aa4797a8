"""Embedding and dense search throughput on this machine's devices (CPU, and a GPU if any).

    python bench/devices.py [--chunks 2048] [--batch-sizes 32,256] [--vectors 100000]
        [--queries 500] [--visible 1.0,0.5,0.01] [--out FILE.json]
        [--devices cpu,cuda] [--precisions fp32,fp16] [--model PATH] [--corpus FILE] [--no-search]
        [--backends torch,onnx-int8,onnx-fp32] [--rounds 3]

* Embedding: chunks per second for real passages (the squad-dev corpus in ../shared/eval,
  else the handbook sentences repeated), through rag.embed.Embedder as ingestion uses it, on
  each device that torch sees (or --devices), at each batch size, in fp32 and, on CUDA, in
  each of --precisions (fp16: the model's weights cast to half, as a GPU host would run it);
  and with each of --backends (embedding.backend: the onnx ones on the CPU only), taking turns
  for --rounds rounds, the median counting.
* Search: queries per second through rag.index.VectorIndex, one query at a time as the API
  asks them, over --vectors random unit vectors of the model's dimension: the CPU index, and
  the GPU copy (rag/index/gpu_mirror.py) when faiss has GPU support; unfiltered and with an
  access filter leaving each --visible share of the chunks.

The generator's figures (time to first token, tokens per second) come from
bench/llm_speed.py --backend ...; bench/RESULTS.md puts them side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

from rag.config import Settings  # noqa: E402
from rag.devices import faiss_gpu_available  # noqa: E402
from rag.embed import load_embedder  # noqa: E402

CORPUS = REPO_ROOT.parent / "shared" / "eval" / "squad-dev" / "corpus.jsonl"
FALLBACK = "Employees request annual leave in the HR system before they take it. " * 12
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "devices.json"


def passages(n: int, corpus: Path = CORPUS) -> list[str]:
    if not corpus.is_file():
        return [FALLBACK] * n
    texts = []
    with corpus.open() as lines:
        for line in lines:
            texts.append(json.loads(line)["text"])
            if len(texts) == n:
                break
    return (texts * (n // len(texts) + 1))[:n]


BACKENDS = {
    "torch": {"backend": "torch"},
    "onnx-int8": {"backend": "onnx", "onnx_quantization": "int8"},
    "onnx-fp32": {"backend": "onnx", "onnx_quantization": "none"},
}


def embedding_speed(
    devices: list[str],
    batch_sizes: list[int],
    texts: list[str],
    precisions: list[str],
    model: str | None = None,
    backends: list[str] = ("torch",),
    rounds: int = 1,
) -> list[dict]:
    """Chunks/s of each configuration; with several rounds the configurations take turns
    (so a busy machine's drift hits them alike) and the median counts."""
    configs = []
    for device in devices:
        for backend in backends:
            if backend != "torch" and device != "cpu":
                continue  # the onnx backend runs on the CPU only
            precisions_here = precisions if device == "cuda" else ["fp32"]
            for precision in precisions_here if backend == "torch" else [backend[5:]]:
                for batch_size in batch_sizes:
                    update = {"device": device, "batch_size": batch_size, **BACKENDS[backend]}
                    if model:
                        update["model"] = model
                    embedder = load_embedder(Settings().embedding.model_copy(update=update))
                    if backend == "torch":
                        # The model's own dtype is whatever its file holds: set the one measured.
                        embedder.model.half() if precision == "fp16" else embedder.model.float()
                    embedder.embed(texts[:batch_size])  # warm-up: kernels, allocator
                    row = {"device": device, "backend": backend, "precision": precision}
                    configs.append((embedder, {**row, "batch_size": batch_size}))
    seconds: list[list[float]] = [[] for _ in configs]
    cpu_seconds: list[list[float]] = [[] for _ in configs]
    for _ in range(rounds):
        for (embedder, _row), taken, cpu in zip(configs, seconds, cpu_seconds, strict=True):
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.embed(texts)
            taken.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    rows = []
    for (_embedder, row), taken, cpu in zip(configs, seconds, cpu_seconds, strict=True):
        median = statistics.median(taken)
        rows.append(
            {
                **row,
                "chunks": len(texts),
                "seconds": round(median, 3),
                "rounds": [round(x, 3) for x in taken],
                "chunks_per_s": round(len(texts) / median, 1),
                # Chunks per CPU second of this process (all its threads): what the work
                # costs, steadier than wall time when other work shares the cores.
                "chunks_per_cpu_s": round(len(texts) / statistics.median(cpu), 1),
            }
        )
    base = next((r for r in rows if r["backend"] == "torch" and r["device"] == "cpu"), None)
    for row in rows:
        if base and row["batch_size"] == base["batch_size"]:
            row["x_torch_cpu"] = round(row["chunks_per_s"] / base["chunks_per_s"], 2)
            row["x_torch_cpu_per_cpu_s"] = round(
                row["chunks_per_cpu_s"] / base["chunks_per_cpu_s"], 2
            )
        print(
            f"embed  {row['device']:5} {row['backend']:9} {row['precision']} "
            f"batch {row['batch_size']:4}: {row['chunks_per_s']} chunks/s, "
            f"{row['chunks_per_cpu_s']} chunks per CPU s"
            + (
                f" ({row['x_torch_cpu']}x / {row['x_torch_cpu_per_cpu_s']}x torch on cpu)"
                if "x_torch_cpu" in row
                else ""
            )
        )
    return rows


def search_speed(
    dimension: int, n_vectors: int, n_queries: int, visible: list[float]
) -> list[dict]:
    from rag.index.gpu_mirror import GpuMirror, gpu_flat_factory
    from rag.index.vector_index import VectorIndex

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n_vectors, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, n_vectors + 1, dtype=np.int64)
    queries = vectors[rng.choice(n_vectors, n_queries)]

    placements = {"cpu": None}
    if faiss_gpu_available():
        placements["cuda"] = GpuMirror(gpu_flat_factory(), refresh_s=0)
    rows = []
    for device, mirror in placements.items():
        index = VectorIndex(Path("/nonexistent"), dimension, "bench", gpu_mirror=mirror)
        index._index.add_with_ids(vectors, ids)  # straight in: no SQL needed to time search
        index._version += 1
        for share in visible:
            allowed = None
            if share < 1.0:
                allowed = np.sort(rng.choice(ids, int(n_vectors * share), replace=False))
            index.search(queries[0], 50, allowed)  # warm-up (and the GPU copy's build)
            started = time.perf_counter()
            for query in queries:
                index.search(query, 50, allowed)
            seconds = time.perf_counter() - started
            on_gpu = mirror.searches if mirror else 0
            rows.append(
                {
                    "device": device,
                    "vectors": n_vectors,
                    "visible": share,
                    "k": 50,
                    "queries": n_queries,
                    "queries_per_s": round(n_queries / seconds, 1),
                    "answered_on_gpu": on_gpu,
                }
            )
            if mirror:
                mirror.searches = 0
            print(f"search {device:5} visible {share:>5.0%}: {rows[-1]['queries_per_s']} queries/s")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=2048)
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--visible", default="1.0,0.5,0.01")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--devices", help="comma-separated; default: cpu, and cuda if present")
    parser.add_argument("--precisions", default="fp32", help="on cuda: fp32,fp16")
    parser.add_argument("--model", help="embedding model path (default: the configured one)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="BEIR corpus.jsonl")
    parser.add_argument("--no-search", action="store_true", help="embedding figures only")
    parser.add_argument("--backends", default="torch", help="torch,onnx-int8,onnx-fp32")
    parser.add_argument("--rounds", type=int, default=1, help="turns each configuration takes")
    args = parser.parse_args()

    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.devices:
        devices = args.devices.split(",")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    texts = passages(args.chunks, args.corpus)
    embedding = embedding_speed(
        devices,
        [int(b) for b in args.batch_sizes.split(",")],
        texts,
        args.precisions.split(","),
        args.model,
        args.backends.split(","),
        args.rounds,
    )
    search = []
    if not args.no_search:
        model = {"model": args.model} if args.model else {}
        dimension = load_embedder(Settings().embedding.model_copy(update=model)).dimension
        search = search_speed(
            dimension, args.vectors, args.queries, [float(v) for v in args.visible.split(",")]
        )
    write_results(
        args.out,
        {
            "gpu": gpu,
            "torch_threads": torch.get_num_threads(),
            "load_average": load_average(),
            "embedding": embedding,
            "search": search,
        },
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
