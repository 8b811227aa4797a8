"""transformers backend: a Hugging Face checkpoint from a local folder (or a GGUF file, which
transformers dequantizes), in this process.

CUDA: 4-bit NF4 or 8-bit weights through bitsandbytes, or bfloat16 / float16. CPU: float32, or
int8 weights for the linear layers (torch's dynamic quantization). Generation runs in a thread
and streams through a TextIteratorStreamer; a stopping criterion ends it on cancel, on a stop
string or when the request's time is up. This module is imported only when the backend is
chosen (rag/llm/__init__.py), so torch and transformers load only then.
"""

from __future__ import annotations

import logging
import queue
import threading
import warnings
from collections.abc import Iterator

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

from rag.config import LlmSettings, TransformersSettings
from rag.devices import pick_torch_device
from rag.llm.base import (
    ChatMessage,
    Deadline,
    FinishReason,
    GeneratorError,
    StopScanner,
    StreamControl,
    Usage,
)
from rag.llm.streaming import GenerationRequest, ModelLock, StreamingGenerator
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)
# llama.cpp's repeat penalty looks at the last 64 generated tokens; the same window here makes
# llm.repeat_penalty mean the same on both backends (transformers' own penalizes the prompt too,
# which pushes a small model away from the very facts the sources state).
REPEAT_PENALTY_WINDOW = 64


class RecentRepetitionPenalty(LogitsProcessor):
    """Penalize the tokens among the last `window` generated ones (never the prompt's)."""

    def __init__(self, penalty: float, prompt_tokens: int, window: int = REPEAT_PENALTY_WINDOW):
        self.penalty = penalty
        self.prompt_tokens = prompt_tokens
        self.window = window

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        start = max(self.prompt_tokens, input_ids.shape[1] - self.window)
        recent = input_ids[:, start:]
        if recent.shape[1] == 0:
            return scores
        score = torch.gather(scores, 1, recent)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return scores.scatter(1, recent, score)


class Halt(StoppingCriteria):
    """Ends generation when told to (cancel, a stop string) or when the deadline passes."""

    def __init__(self, deadline: Deadline, *events: threading.Event) -> None:
        self.deadline = deadline
        self.events = events
        self.timed_out = False

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        left = self.deadline.remaining()
        if left is not None and left <= 0:
            self.timed_out = True
        stop = self.timed_out or any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


def load_options(settings: TransformersSettings, device: str) -> tuple[dict, bool]:
    """from_pretrained's keyword arguments for the device and quantization, and whether to
    quantize to int8 on the CPU after loading."""
    if settings.quantization == "nf4" and device != "cuda":
        raise GeneratorError(
            "llm.transformers.quantization nf4 needs CUDA, and none is available: "
            "use int8 or none on the CPU"
        )
    if device == "cpu":
        dtype = torch.float32 if settings.dtype == "auto" else getattr(torch, settings.dtype)
        return {"dtype": dtype}, settings.quantization == "int8"
    dtype = torch.bfloat16 if settings.dtype == "auto" else getattr(torch, settings.dtype)
    options: dict = {"dtype": dtype, "device_map": {"": 0}}
    if settings.quantization != "none":
        from transformers import BitsAndBytesConfig

        if settings.quantization == "nf4":
            options["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=dtype,
                bnb_4bit_use_double_quant=True,
            )
        else:
            options["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    return options, False


class TransformersGenerator(StreamingGenerator):
    def __init__(self, settings: LlmSettings) -> None:
        path = resolve_model_path(settings.model, "LLM")
        self.settings = settings
        options = settings.transformers
        self.device = pick_torch_device(options.device, "llm.transformers.device")
        if options.n_threads:
            torch.set_num_threads(options.n_threads)  # process-wide: the embedder shares it
        source, files = path, {"local_files_only": True}
        if path.is_file():
            if path.suffix != ".gguf":
                raise GeneratorError(
                    f"llm.model for the transformers backend must be a checkpoint folder or a "
                    f"GGUF file, not {path.name}"
                )
            source, files["gguf_file"] = path.parent, path.name
        model_options, int8_on_cpu = load_options(options, self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(source), **files)
        if not self.tokenizer.chat_template:
            raise GeneratorError(f"the tokenizer of {path.name} has no chat template")
        model = AutoModelForCausalLM.from_pretrained(str(source), **files, **model_options)
        if int8_on_cpu:
            with warnings.catch_warnings():
                # Deprecated in favour of torchao, which does not ship for every platform.
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self.model = model.eval()
        self.name = path.stem
        self.context_tokens = settings.n_ctx
        self.quantization = options.quantization
        limit = getattr(model.config, "max_position_embeddings", None)
        if limit and settings.n_ctx > limit:
            log.warning("llm.n_ctx %d is more than the model's %d positions", settings.n_ctx, limit)
        # One generation at a time: a second would double the memory of the activations.
        self._model_lock = ModelLock()
        log.info("LLM %s loaded on %s (%s)", self.name, self.device, options.quantization)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def _inputs(self, messages: list[ChatMessage]) -> dict:
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = inputs["input_ids"].shape[1]
        if prompt_tokens >= self.context_tokens:
            raise GeneratorError(
                f"the prompt has {prompt_tokens} tokens, more than the context of "
                f"{self.context_tokens} (llm.n_ctx)"
            )
        return {key: value.to(self.model.device) for key, value in inputs.items()}

    def _run_model(self, inputs: dict, max_tokens: int, halt: Halt, streamer=None):
        sampling = self.settings.temperature > 0
        if sampling:
            torch.manual_seed(self.settings.seed)
        processors = LogitsProcessorList()
        if self.settings.repeat_penalty != 1.0:
            prompt_tokens = inputs["input_ids"].shape[1]
            processors.append(RecentRepetitionPenalty(self.settings.repeat_penalty, prompt_tokens))
        with torch.inference_mode():
            return self.model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                do_sample=sampling,
                temperature=self.settings.temperature if sampling else None,
                top_p=None,
                top_k=None,
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([halt]),
                streamer=streamer,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )

    def _generate(self, control: StreamControl, request: GenerationRequest) -> Iterator[str]:
        deadline, max_tokens = request.deadline, request.max_tokens
        with self._model_lock.held(deadline):
            inputs = self._inputs(request.messages)
            streamer = TextIteratorStreamer(
                self.tokenizer, skip_prompt=True, skip_special_tokens=True
            )
            stopped = threading.Event()  # set on a stop string, a timeout or an early close
            halt = Halt(deadline, control.cancelled, stopped)
            result: dict = {}

            def run() -> None:
                try:
                    result["output"] = self._run_model(inputs, max_tokens, halt, streamer)
                except Exception as exc:  # reported to the reading thread below
                    result["error"] = exc
                    streamer.end()

            worker = threading.Thread(target=run, name="llm-generate", daemon=True)
            worker.start()
            scanner = StopScanner(request.stop)
            try:
                yield from self._read(streamer, scanner, deadline, stopped, control.cancelled)
            finally:
                stopped.set()
                worker.join()  # the model is free again only when generation has ended
            if "error" in result:
                # Its type only: the text may quote the prompt, and this message reaches the
                # client.
                failed = result["error"]
                raise GeneratorError(f"generation failed ({type(failed).__name__})") from failed
            if halt.timed_out:
                deadline.check()
            generated = result["output"].shape[1] - inputs["input_ids"].shape[1]
            usage = Usage(inputs["input_ids"].shape[1], generated)
            control.finish(usage, self._reason(scanner, generated, max_tokens))

    def _read(
        self,
        streamer: TextIteratorStreamer,
        scanner: StopScanner,
        deadline: Deadline,
        stopped: threading.Event,
        cancelled: threading.Event,
    ) -> Iterator[str]:
        while not cancelled.is_set():
            left = deadline.remaining()
            streamer.timeout = None if left is None else max(left, 0.001)
            try:
                piece = next(streamer)
            except StopIteration:
                break
            except queue.Empty:
                deadline.check()
                continue
            text = scanner.feed(piece)
            if text:
                yield text
            if scanner.stopped:
                stopped.set()
                return
        if cancelled.is_set():
            return
        tail = scanner.flush()
        if tail:
            yield tail

    @staticmethod
    def _reason(scanner: StopScanner, generated: int, max_tokens: int) -> FinishReason:
        if scanner.stopped:
            return "stop"
        return "length" if generated >= max_tokens else "stop"
