"""The embedding backends alone, taking turns on the same passages, in CPU seconds of one thread.

    python bench/embedders_ab.py PASSAGES.json [--backends onnx,openvino,torch,onnx-fp32]
        [--count 200] [--rounds 2]

PASSAGES.json: a JSON list of texts (as `bench/onnx_variants_ab.py --dump` makes them). Each
backend embeds the first --count texts per round with one thread; printed per round: chunks per
CPU second; at the end, each backend's mean and least cosine to the first backend's vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.embed import load_embedder  # noqa: E402

SETTINGS = {
    "onnx": {"backend": "onnx"},
    "onnx-fp32": {"backend": "onnx", "onnx_quantization": "none"},
    "openvino": {"backend": "openvino"},
    "torch": {"backend": "torch"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("passages", type=Path)
    parser.add_argument("--backends", default="onnx,openvino,torch,onnx-fp32")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    texts = json.loads(args.passages.read_text())[: args.count]
    names = args.backends.split(",")
    embedders = {}
    for name in names:
        embedders[name] = load_embedder(
            Settings(embedding={"onnx_threads": 1, **SETTINGS[name]}).embedding
        )
        embedders[name].embed(["warm-up"])
    if "torch" in names:
        import torch

        torch.set_num_threads(1)
    vectors = {}
    for round_ in range(args.rounds):
        for name in names:
            started = time.process_time()
            vectors[name] = np.asarray(embedders[name].embed(texts))
            seconds = time.process_time() - started
            print(f"{name} round {round_}: {len(texts) / seconds:.1f} chunks per CPU s", flush=True)
    reference = vectors[names[0]]
    for name in names[1:]:
        cosine = (vectors[name] * reference).sum(axis=1)
        print(f"{name}: cosine to {names[0]} mean {cosine.mean():.4f}, least {cosine.min():.4f}")


if __name__ == "__main__":
    main()
