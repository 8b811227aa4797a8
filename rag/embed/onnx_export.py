"""A sentence-transformers model exported to ONNX once, offline, and kept in a shared cache.

The export is made from the local model folder on first use (torch + transformers, which are
installed anyway; nothing is downloaded) and kept under the cache folder in a subfolder named
by a fingerprint of the model's files, the quantization and this recipe's version: every data
folder, test run and process on the machine reuses it, and another model or recipe gets its
own. Writes are atomic (a temporary folder renamed into place), so processes exporting at the
same time each end with a whole file.

The recipe: the transformer with the model's pooling (mean or CLS) traced to one graph whose
output is the sentence vector before normalization; for BERT-like models ONNX Runtime's
transformer optimizer fuses attention, layer norms and GELU (the attention is exported in its
eager form so the fusion recognizes it); with int8, weights are quantized per channel to 7
bits (`reduce_range`: CPUs without VNNI saturate 8-bit u8s8 products; measured, it costs no
quality here) while activations are quantized on the fly (dynamic quantization), in every
matrix product, the fused attention's projections included (_quantize says why).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from rag.model_paths import model_files_digest

log = logging.getLogger(__name__)

# Bumped whenever the steps below change what file they make.
RECIPE_VERSION = "3"
# Which int8 vectors the recipe makes: changed with any recipe change that changes them (the
# embedding fingerprint names it, ingest/reembed.py, so a store re-embeds). Float32 exports have
# not changed since recipe 1. Recipe 2's int8 vectors (the first stores') had none.
INT8_VECTORS = "recipe-3"
MODEL_FILE = "model.onnx"
# A long enough dummy input, with padding in one row, so tracing sees masking at work.
_DUMMY_TOKENS = 16


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag-private-docs" / "onnx"


def export_key(model_dir: Path, quantization: str) -> str:
    facts = {
        "model_files": model_files_digest(model_dir),
        "quantization": quantization,
        "recipe": RECIPE_VERSION,
    }
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    return f"{model_dir.name if model_dir.name != 'model' else model_dir.parent.name}-{digest}"


def _cached(model_dir: Path, quantization: str, cache_dir: Path | None) -> Path:
    """The cache folder the export of `model_dir` with `quantization` lives in."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    return cache_dir / export_key(model_dir, quantization)


def is_exported(model_dir: Path, quantization: str, cache_dir: Path | None = None) -> bool:
    """Whether the export is in the cache already (then making the embedder needs no torch)."""
    return (_cached(model_dir, quantization, cache_dir) / MODEL_FILE).is_file()


def exported_model(model_dir: Path, quantization: str, cache_dir: Path | None = None) -> Path:
    """The ONNX file of `model_dir` with `quantization` ("int8" or "none"): from the cache,
    or exported now (tens of seconds) and cached."""
    target = _cached(model_dir, quantization, cache_dir)
    cache_dir = target.parent
    if (target / MODEL_FILE).is_file():
        return target / MODEL_FILE
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("exporting the embedding model to ONNX (%s), once, into %s", quantization, cache_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".export-") as scratch:
        work = Path(scratch)
        _export(model_dir, work / "exported.onnx")
        _optimize(model_dir, work / "exported.onnx", work / "optimized.onnx")
        made = work / "made"
        made.mkdir()
        if quantization == "int8":
            _quantize(work / "optimized.onnx", made / MODEL_FILE)
        else:
            shutil.move(work / "optimized.onnx", made / MODEL_FILE)
        publish(made, target, MODEL_FILE)
    return target / MODEL_FILE


def publish(made: Path, target: Path, model_file: str) -> None:
    """Move the folder `made` to `target` in one step, so no reader ever sees half a model."""
    try:
        os.replace(made, target)
    except OSError:
        # Another process put it there first (a non-empty folder is not replaced): use its.
        if not (target / model_file).is_file():
            raise


def pooling_mode(model_dir: Path) -> str:
    """ "mean" or "cls", as the model's sentence-transformers pooling module says."""
    modules = model_dir / "modules.json"
    pooling = None
    if modules.is_file():
        for module in json.loads(modules.read_text()):
            if module.get("type", "").endswith("Pooling"):
                pooling = model_dir / module["path"] / "config.json"
    if pooling is None or not pooling.is_file():
        return "mean"  # sentence-transformers' default for a plain transformer folder
    config = json.loads(pooling.read_text())
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config.get("pooling_mode_mean_tokens"):
        return "mean"
    raise ValueError(
        "embedding.backend onnx supports mean or CLS pooling only; use embedding.backend torch"
    )


def _export(model_dir: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, transformer, mode: str) -> None:
            super().__init__()
            self.transformer, self.mode = transformer, mode

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if self.mode == "cls":
                return hidden[:, 0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()
    ids = torch.ones(2, _DUMMY_TOKENS, dtype=torch.long)
    mask = torch.ones(2, _DUMMY_TOKENS, dtype=torch.long)
    mask[1, _DUMMY_TOKENS // 2 :] = 0
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            Pooled(model, pooling_mode(model_dir)),
            (ids, mask, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
            opset_version=17,
            # The TorchScript exporter: its graphs are the ones ONNX Runtime's fusions know.
            dynamo=False,
        )


def _optimize(model_dir: Path, source: Path, path: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "bert":
        shutil.copyfile(source, path)  # ONNX Runtime still applies its generic fusions
        return
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=config["num_attention_heads"],
        hidden_size=config["hidden_size"],
        opt_level=1,
    )
    optimized.save_model_to_file(str(path))


def _quantize(source: Path, path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(path),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        # Every product, the fused attention's projections too (QAttention): on a CPU with
        # VNNI the float32 attention was half of the embedding's time, and quantizing it saves
        # ~17 % of the CPU (recipe 3); recipe 2 kept it float32 (mean cosine to torch's vectors
        # 0.9946 against 0.9928) for no speed on an AVX2-only CPU. bench/RESULTS.md, issue 19.
        # The fused operators' outputs have no inferred type; they are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
