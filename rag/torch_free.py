"""Keep torch out of processes that do not run it.

Presidio and thinc import torch (and transformers) whenever they are installed, for their
transformer models alone: ~5 s and ~335 MB in every process that anonymizes, measured on the
ingest's parent process (bench/RESULTS.md, issue 19). Blocked before the first import, they
fall back to what they do without it. Only a process's entry point blocks (`rag ingest`,
`rag worker`, `rag serve`, the file workers): never a library import, so a test process that
also runs the torch backend is left as it is.
"""

from __future__ import annotations

import sys

from rag.config import AnonymizeSettings, EmbeddingSettings, Settings


def block_torch() -> None:
    """Imports of torch and transformers fail from now on in this process (ImportError)."""
    sys.modules["torch"] = sys.modules["transformers"] = None  # type: ignore[assignment]


def anonymizing_needs_torch(settings: AnonymizeSettings) -> bool:
    return settings.spacy_model.endswith("_trf")  # spaCy's transformer pipelines


def ingest_needs_torch(settings: Settings) -> bool:
    """Whether indexing with these settings runs torch in this process: the torch embedding
    backend, a transformer spaCy model, or an ONNX export (or the OpenVINO int8 model made from
    one) not yet made (made with torch). For `auto`, either CPU runtime may run (the store
    chooses, not only this machine: rag/embed/backend_choice.py), so both must be made."""
    from rag.embed.backend_choice import openvino_installed

    embedding = settings.embedding
    if anonymizing_needs_torch(settings.anonymize) or not embedding.on_cpu_runtime:
        return True
    if embedding.backend == "auto":
        runtimes = ["onnx", "openvino"] if openvino_installed() else ["onnx"]
    else:
        runtimes = [embedding.backend]
    return any(_runtime_needs_torch(embedding, runtime) for runtime in runtimes)


def _runtime_needs_torch(embedding: EmbeddingSettings, runtime: str) -> bool:
    """Whether the CPU runtime's model is still to be made (with torch)."""
    from rag.embed.onnx_export import is_exported
    from rag.model_paths import ModelNotFoundError, resolve_model_path

    try:
        model_dir = resolve_model_path(embedding.model, "embedding")
    except ModelNotFoundError:
        return False  # the embedder's own start-up error says it, with or without torch
    if not is_exported(model_dir, embedding.onnx_quantization, embedding.cache_dir):
        return True
    if runtime == "openvino":  # quantized from the float32 export, made with torch
        from rag.embed.openvino_export import is_quantized

        if embedding.onnx_quantization == "int8":
            return not is_quantized(model_dir, embedding.cache_dir)
        return not is_exported(model_dir, "none", embedding.cache_dir)
    return False


def serving_needs_torch(settings: Settings) -> bool:
    """Whether the API with these settings runs torch: as an ingest does (it may index
    uploads in-process), or through its LLM (the transformers backend, or an LLM server's
    tokenizer read by transformers rather than from a GGUF file)."""
    llm = settings.llm
    if ingest_needs_torch(settings) or llm.backend == "transformers":
        return True
    if llm.backend != "openai_compatible" or llm.server.tokenizer is None:
        return False
    from rag.model_paths import ModelNotFoundError, resolve_model_path

    try:  # as rag/llm/openai_compatible.py reads it
        return resolve_model_path(llm.server.tokenizer, "LLM tokenizer").suffix != ".gguf"
    except ModelNotFoundError:
        return False  # the LLM's own start-up error says it
