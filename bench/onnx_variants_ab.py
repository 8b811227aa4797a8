"""ONNX Runtime variants of the int8 embedder on the texts an ingest embeds, taking turns.

    python bench/onnx_variants_ab.py PASSAGES.json [--count 160] [--rounds 2] [--profile]
        [--variant NAME:key=value,... ...] [--out FILE.json]

PASSAGES.json: a JSON list of the texts `rag ingest` gave its embedder (header + chunk), made by
`python bench/onnx_variants_ab.py --dump FOLDER PASSAGES.json` (an ingest into a scratch data
folder, anonymizing as usual). Each variant is one InferenceSession over one model file,
embedding the first --count texts through the backend's own `_encode` (tokenizing, length-sorted
batches, pooling); the variants take turns, the order reversed each round. Keys: `model`
(recipe2 = the int8 file before recipe 3, made here from the same export; recipe3 = now; or a
path), `threads` (intra-op threads), `spin` (0: ONNX Runtime's threads do not spin while
waiting), `bs` (batch size). Printed per run: CPU seconds of this process (every thread), wall
seconds, chunks per CPU second and the mean cosine to the first variant's vectors. --profile:
ONNX Runtime's own profile per variant, summed by operator (which kernels the time goes to).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results_io import load_average, write_results

SCRATCH = Path(tempfile.gettempdir()) / "onnx-variants-ab"


def dump(folder: Path, out: Path) -> None:
    """`rag ingest FOLDER` into a scratch data folder, keeping every text sent to the embedder."""
    os.environ["RAG_DATA_DIR"] = str(SCRATCH / "data")
    os.environ["RAG_INGEST__ALLOWED_ROOTS"] = json.dumps([str(folder.resolve())])
    import ingest.pipeline as pipeline
    from rag.cli import app

    texts: list[str] = []
    original_init = pipeline.IngestPipeline.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        embed = self.embedder.embed

        def keeping(batch):
            texts.extend(batch)
            return embed(batch)

        self.embedder.embed = keeping

    pipeline.IngestPipeline.__init__ = init
    app(["ingest", str(folder.resolve())], standalone_mode=False)
    out.write_text(json.dumps(texts))


def recipe2_model(model_dir: Path) -> Path:
    """Recipe 2's int8 file (the fused attention left float32), from this checkout's export."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.embed import onnx_export

    target = SCRATCH / "recipe2.onnx"
    if target.is_file():
        return target
    SCRATCH.mkdir(parents=True, exist_ok=True)
    onnx_export._export(model_dir, SCRATCH / "exported.onnx")
    onnx_export._optimize(model_dir, SCRATCH / "exported.onnx", SCRATCH / "optimized.onnx")
    quantize_dynamic(
        str(SCRATCH / "optimized.onnx"),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        op_types_to_quantize=["MatMul"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("passages", type=Path, nargs="+")
    parser.add_argument("--dump", action="store_true")
    parser.add_argument("--count", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.dump:
        dump(args.passages[0], args.passages[1])
        return

    import onnxruntime

    from rag.config import get_settings
    from rag.embed.onnx_backend import OnnxEmbedder
    from rag.embed.onnx_export import exported_model

    texts = json.loads(args.passages[0].read_text())[: args.count]
    settings = get_settings().embedding.model_copy(update={"backend": "onnx"})
    embedder = OnnxEmbedder(settings)
    models = {
        "recipe3": exported_model(embedder.path, "int8", settings.cache_dir),
        "recipe2": recipe2_model(embedder.path),
    }
    variants = {}
    for spec in args.variant or ["recipe2:model=recipe2", "recipe3:model=recipe3"]:
        name, _, rest = spec.partition(":")
        keys = dict(item.split("=", 1) for item in rest.split(",") if item)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if "threads" in keys:
            options.intra_op_num_threads = int(keys["threads"])
        if keys.get("spin") == "0":
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if args.profile:
            options.enable_profiling = True
            options.profile_file_prefix = str(SCRATCH / f"profile-{name}")
        model = models.get(keys.get("model", "recipe3"), keys.get("model"))
        session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        variants[name] = (session, int(keys.get("bs", settings.batch_size)), keys)

    runs: dict[str, list[dict]] = {name: [] for name in variants}
    first = None
    for round_no in range(args.rounds):
        order = list(variants) if round_no % 2 == 0 else list(variants)[::-1]
        for name in order:
            session, batch_size, _ = variants[name]
            embedder.session, embedder.batch_size = session, batch_size
            embedder._inputs = {i.name for i in session.get_inputs()}
            cpu, wall = time.process_time(), time.perf_counter()
            vectors = embedder.embed(texts)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            first = vectors if first is None else first
            cosine = float(np.mean(np.sum(vectors * first, axis=1)))
            run = {
                "round": round_no,
                "cpu_s": round(cpu, 2),
                "wall_s": round(wall, 2),
                "chunks_per_cpu_s": round(len(texts) / cpu, 1),
                "mean_cosine_to_first": round(cosine, 5),
                "load": load_average(),
            }
            runs[name].append(run)
            print(name, json.dumps(run), flush=True)
    kernels = {}
    if args.profile:
        for name, (session, _, _) in variants.items():
            totals = collections.Counter()
            for event in json.loads(Path(session.end_profiling()).read_text()):
                if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                    totals[event["args"]["op_name"]] += event["dur"]
            whole = sum(totals.values()) or 1
            kernels[name] = {op: round(100 * us / whole, 1) for op, us in totals.most_common(8)}
            print(name, "kernel time shares (%):", kernels[name])
    if args.out:
        write_results(
            args.out,
            {
                "texts": len(texts),
                "variants": {n: v[2] for n, v in variants.items()},
                "runs": runs,
                "kernel_shares": kernels,
            },
        )


if __name__ == "__main__":
    sys.exit(main())
