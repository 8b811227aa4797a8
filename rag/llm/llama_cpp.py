"""llama.cpp backend: a quantized GGUF model in this process, CPU or GPU offload.

The prompt is rendered with the chat template the GGUF carries (or `llm.chat_template`), so the
prompt's tokens are known exactly; a stopping criterion inside llama.cpp's sampling loop counts
the generated tokens and ends generation at once on cancel or timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

from rag.config import LlmSettings
from rag.host_resources import usable_cpus
from rag.llm.base import ChatMessage, FinishReason, GeneratorError, StreamControl, Usage
from rag.llm.llama_facts import FactsProcessor, TokenTexts
from rag.llm.llama_weights import plain_weight_buffers
from rag.llm.streaming import GenerationRequest, ModelLock, StreamingGenerator
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)


class LlamaCppGenerator(StreamingGenerator):
    constrains_facts = True  # rag/llm/llama_facts.py

    def __init__(self, settings: LlmSettings) -> None:
        from llama_cpp import Llama

        path = resolve_model_path(settings.model, "LLM")
        self.name = path.stem
        self.settings = settings
        cores = usable_cpus()  # a container's CPU quota too, not only the affinity
        with nullcontext() if settings.repack_weights else plain_weight_buffers():
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
        self._formatter = self._chat_formatter(path)
        # One llama context serves one generation at a time.
        self._model_lock = ModelLock()
        self._token_texts: TokenTexts | None = None  # read on the first answer held to facts
        log.info("LLM %s loaded (context %d tokens)", self.name, settings.n_ctx)

    def _chat_formatter(self, path: Path):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self._llm.metadata.get("tokenizer.chat_template")
        if self.settings.chat_template:
            template = Path(self.settings.chat_template).expanduser().read_text()
        if not template:
            raise GeneratorError(
                f"the GGUF file {path.name} carries no chat template "
                "(tokenizer.chat_template): set llm.chat_template to a Jinja template file"
            )
        model = self._llm._model
        eos, bos = self._llm.token_eos(), self._llm.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _prompt(self, messages: list[ChatMessage]):
        """The prompt's tokens, the template's stop strings and its stopping criteria."""
        rendered = self._formatter(messages=messages)
        tokens = self._llm.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )
        if len(tokens) >= self.context_tokens:
            raise GeneratorError(
                f"the prompt has {len(tokens)} tokens, more than the context of "
                f"{self.context_tokens} (llm.n_ctx)"
            )
        stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop]
        return tokens, [s for s in stops if s], list(rendered.stopping_criteria or [])

    def _held_to(self, facts: tuple[str, ...] | None):
        """The logits processors that keep the answer's names and numbers to `facts`."""
        if facts is None:
            return None
        from llama_cpp import LogitsProcessorList

        if self._token_texts is None:
            self._token_texts = TokenTexts(self._llm)
        return LogitsProcessorList([FactsProcessor(self._token_texts, facts)])

    def _generate(self, control: StreamControl, request: GenerationRequest) -> Iterator[str]:
        from llama_cpp import StoppingCriteriaList

        deadline = request.deadline
        with self._model_lock.held(deadline):
            deadline.check()
            prompt, template_stops, template_criteria = self._prompt(request.messages)
            # The criterion runs once per sampled token, with the prompt and the tokens so far.
            seen = {"last": len(prompt) - 1}
            timed_out = threading.Event()

            def should_stop(input_ids, _logits) -> bool:
                seen["last"] = max(seen["last"], len(input_ids))
                if deadline.remaining() is not None and deadline.remaining() <= 0:
                    timed_out.set()
                return control.cancelled.is_set() or timed_out.is_set()

            criteria = StoppingCriteriaList([should_stop, *template_criteria])
            held_to = self._held_to(request.facts)
            reason: FinishReason = "length"
            chunks = None
            try:
                chunks = self._llm.create_completion(
                    prompt=prompt,
                    max_tokens=request.max_tokens,
                    temperature=self.settings.temperature,
                    repeat_penalty=self.settings.repeat_penalty,
                    stop=[*(request.stop or []), *template_stops],
                    seed=self.settings.seed,
                    stopping_criteria=criteria,
                    logits_processor=held_to,
                    stream=True,
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    if choice["text"]:
                        yield choice["text"]
                    if choice.get("finish_reason"):
                        reason = "length" if choice["finish_reason"] == "length" else "stop"
                    if control.cancelled.is_set() or timed_out.is_set():
                        break
            except ValueError as exc:  # llama.cpp raises ValueError for a prompt it refuses
                # Its type only: the text may quote the prompt, and this message reaches the
                # client.
                raise GeneratorError(
                    f"the model refused the prompt ({type(exc).__name__})"
                ) from exc
            finally:
                if chunks is not None:
                    chunks.close()  # ends llama.cpp's generation before the lock is released
            if timed_out.is_set():
                deadline.check()
            control.finish(Usage(len(prompt), seen["last"] - len(prompt) + 1), reason)
