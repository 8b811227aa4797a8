"""Which runtime embeds when `embedding.backend` is `auto` (the default).

On a CPU with an int8 dot-product instruction (VNNI or AMX) OpenVINO's int8 model embeds 1.5-2x
as fast as ONNX Runtime's; on one without, it is slower (bench/RESULTS.md, issue 19). So `auto`
takes openvino where the CPU has such an instruction and OpenVINO is installed, onnx elsewhere,
and torch where `embedding.device` is cuda.

The choice is made once per store, not per machine: a store whose vectors one of the CPU
runtimes made keeps that runtime wherever it is opened (also when another setting, the model
say, changes and re-embeds it), so moving a data folder to another machine never re-embeds it
(the runtime only runs slower there). A store without vectors, or with torch's, takes this
machine's choice. onnx_quantization none (float32) is always onnx.
"""

from __future__ import annotations

import importlib.util
import json

from rag.config import EmbeddingSettings
from rag.host_resources import cpu_flags

# The CPU flags of int8 dot-product instructions, best first.
INT8_DOT_PRODUCT_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")
CPU_RUNTIMES = ("onnx", "openvino")


def int8_dot_product_flag(flags: frozenset[str] | None = None) -> str | None:
    """The CPU's best int8 dot-product instruction, as its flag; None: it has none."""
    flags = cpu_flags() if flags is None else flags
    return next((flag for flag in INT8_DOT_PRODUCT_FLAGS if flag in flags), None)


def openvino_installed() -> bool:
    """OpenVINO and NNCF (which quantizes its model once) can be imported; not imported here."""
    return all(importlib.util.find_spec(name) is not None for name in ("openvino", "nncf"))


def host_runtime(flags: frozenset[str] | None = None, openvino: bool | None = None) -> str:
    """The faster CPU runtime for int8 on this machine: openvino or onnx."""
    openvino = openvino_installed() if openvino is None else openvino
    return "openvino" if openvino and int8_dot_product_flag(flags) else "onnx"


def stored_runtime(fingerprint: str | None) -> str | None:
    """The CPU runtime that made a store's vectors, from its recorded embedding fingerprint
    (ingest/reembed.py); None: no vectors recorded, or torch's."""
    if not fingerprint:
        return None
    try:
        backend = str(json.loads(fingerprint).get("backend", ""))
    except (ValueError, AttributeError):
        return None
    runtime = backend.partition("-")[0]
    return runtime if runtime in CPU_RUNTIMES else None


def resolve_backend(
    settings: EmbeddingSettings,
    stored_fingerprint: str | None = None,
    flags: frozenset[str] | None = None,
) -> EmbeddingSettings:
    """`settings` with `auto` replaced by the runtime that embeds: torch on cuda, else the
    store's own (from `stored_fingerprint`), else this machine's faster CPU runtime (`flags`:
    the CPU's, for tests). Other backends are returned as they are."""
    if settings.backend != "auto":
        return settings
    if not settings.on_cpu_runtime:
        backend = "torch"
    elif settings.onnx_quantization != "int8":
        backend = "onnx"  # OpenVINO's float model was never measured faster than onnx's
    else:
        backend = stored_runtime(stored_fingerprint) or host_runtime(flags)
    if backend == "openvino" and not openvino_installed():
        backend = "onnx"  # the store's runtime is missing here: re-embedding beats not starting
    return settings.model_copy(update={"backend": backend})
