"""Generators: one file per LLM backend, all behind the Generator protocol.

Each backend module is imported only when it is chosen, so torch/transformers, llama.cpp or
httpx load only for the backend in use.
"""

from rag.config import LlmSettings
from rag.llm.base import (
    ChatMessage,
    Completion,
    Generator,
    GeneratorError,
    GeneratorTimeout,
    GeneratorUnavailable,
    TokenStream,
    Usage,
)

BACKENDS = ("llama_cpp", "transformers", "openai_compatible")


def build_generator(settings: LlmSettings) -> Generator:
    if settings.backend == "llama_cpp":
        from rag.llm.llama_cpp import LlamaCppGenerator

        return LlamaCppGenerator(settings)
    if settings.backend == "transformers":
        from rag.llm.transformers_backend import TransformersGenerator

        return TransformersGenerator(settings)
    if settings.backend == "openai_compatible":
        from rag.llm.openai_compatible import OpenAiCompatibleGenerator

        return OpenAiCompatibleGenerator(settings)
    raise ValueError(f"unknown LLM backend '{settings.backend}' (one of {', '.join(BACKENDS)})")


__all__ = [
    "BACKENDS",
    "ChatMessage",
    "Completion",
    "Generator",
    "GeneratorError",
    "GeneratorTimeout",
    "GeneratorUnavailable",
    "TokenStream",
    "Usage",
    "build_generator",
]
