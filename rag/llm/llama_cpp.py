"""llama.cpp backend: a quantized GGUF model in this process, CPU or GPU offload."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator

from rag.config import LlmSettings
from rag.llm.base import ChatMessage, GeneratorError
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)


class LlamaCppGenerator:
    def __init__(self, settings: LlmSettings) -> None:
        from llama_cpp import Llama

        path = resolve_model_path(settings.model, "LLM")
        self.name = path.stem
        self.settings = settings
        cores = len(os.sched_getaffinity(0))
        self._llm = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads or max(1, cores // 2),
            n_threads_batch=settings.n_threads_batch or cores,
            n_gpu_layers=settings.n_gpu_layers,
            seed=settings.seed,
            verbose=False,
        )
        self.context_tokens = settings.n_ctx
        # One llama context serves one generation at a time.
        self._lock = threading.Lock()
        log.info("LLM %s loaded (context %d tokens)", self.name, settings.n_ctx)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        with self._lock:
            try:
                chunks = self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=self.settings.temperature,
                    repeat_penalty=self.settings.repeat_penalty,
                    stop=stop or [],
                    seed=self.settings.seed,
                    stream=True,
                )
                for chunk in chunks:
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        yield text
            except ValueError as exc:  # llama.cpp raises ValueError when the prompt is too long
                raise GeneratorError(f"generation failed: {exc}") from exc
