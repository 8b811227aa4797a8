"""Generators: one file per LLM backend, all behind the Generator protocol."""

from rag.config import LlmSettings
from rag.llm.base import ChatMessage, Generator, GeneratorError


def build_generator(settings: LlmSettings) -> Generator:
    if settings.backend == "llama_cpp":
        from rag.llm.llama_cpp import LlamaCppGenerator

        return LlamaCppGenerator(settings)
    raise ValueError(f"unknown LLM backend '{settings.backend}'")


__all__ = ["ChatMessage", "Generator", "GeneratorError", "build_generator"]
