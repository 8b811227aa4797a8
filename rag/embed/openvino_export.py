"""The embedding model quantized to int8 for OpenVINO, once, offline, and kept in the shared cache.

NNCF's post-training quantization (transformer mode: SmoothQuant, fast bias correction) of the
float32 ONNX export (onnx_export.py), calibrated on `calibration.txt`, shipped with the package:
company-document prose, table rows and questions, so every installation quantizes the same
way. Kept in the export cache under a key of the model's files, the recipe and the calibration
text, so every data folder on the machine shares it. OpenVINO's `convert_model` is never
called (it loads a telemetry package); NNCF's own telemetry is switched off before it loads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from rag.embed.onnx_export import _cached, exported_model, publish

log = logging.getLogger(__name__)

CALIBRATION = Path(__file__).with_name("calibration.txt")
MODEL_XML = "model.xml"
RECIPE = "nncf-transformer-1"


def calibration_texts() -> list[str]:
    return [line for line in CALIBRATION.read_text().splitlines() if line.strip()]


def quantization_key() -> str:
    """The recipe and the calibration text: what makes the int8 model what it is."""
    digest = hashlib.sha256(CALIBRATION.read_bytes()).hexdigest()[:12]
    return f"openvino-int8-{RECIPE}-{digest}"


def is_quantized(model_dir: Path, cache_dir: Path | None = None) -> bool:
    """Whether the int8 model is in the cache already (then loading it needs no torch)."""
    return (_cached(model_dir, quantization_key(), cache_dir) / MODEL_XML).is_file()


def openvino_model(
    model_dir: Path,
    quantization: str,
    cache_dir: Path | None,
    inputs: Callable[[list[str], list[str]], Iterable[dict]],
) -> Path:
    """The model file OpenVINO reads: the float32 ONNX export ("none"; OpenVINO runs it in
    bfloat16 where the CPU has it), or the int8 IR ("int8"), quantized now (about a minute)
    if the cache has none. `inputs(texts, names)` turns texts into batches of the model's
    inputs (by name), as the embedder tokenizes them."""
    if quantization == "none":
        return exported_model(model_dir, "none", cache_dir)
    target = _cached(model_dir, quantization_key(), cache_dir)
    if (target / MODEL_XML).is_file():
        return target / MODEL_XML
    fp32 = exported_model(model_dir, "none", cache_dir)  # what NNCF quantizes
    log.info("quantizing the embedding model for OpenVINO (int8), once, into %s", target.parent)
    os.environ.setdefault("NNCF_CI", "1")  # NNCF sends no usage data where this is set
    import nncf
    import openvino

    core = openvino.Core()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as scratch:
        work = Path(scratch)
        # NNCF finds its nodes by the names an OpenVINO IR gives them: the float32 model as one.
        openvino.save_model(core.read_model(str(fp32)), str(work / "fp32.xml"), False)
        model = core.read_model(str(work / "fp32.xml"))
        names = [name for port in model.inputs for name in port.get_names()]
        dataset = list(inputs(calibration_texts(), names))
        quantized = nncf.quantize(
            model,
            nncf.Dataset(dataset),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(dataset),
        )
        made = work / "made"
        made.mkdir()
        openvino.save_model(quantized, str(made / MODEL_XML), False)
        publish(made, target, MODEL_XML)
    return target / MODEL_XML
