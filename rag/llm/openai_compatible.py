"""openai_compatible backend: a model server on the company network (vLLM, llama.cpp's server,
Ollama, TGI) spoken to through its OpenAI-style /chat/completions, streamed as server-sent events.

The base URL was checked against the allowed networks when the config was read. The HTTP client
ignores proxy variables and does not follow redirects, so a request goes to that address only.
Connection errors (nothing reached the server) are retried with a doubling backoff; anything
after that is not, because the server may already be generating.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rag.config import LlmSettings
from rag.llm.base import (
    Completion,
    Deadline,
    FinishReason,
    GeneratorError,
    GeneratorTimeout,
    GeneratorUnavailable,
    StreamControl,
    Usage,
)
from rag.llm.streaming import GenerationRequest, StreamingGenerator
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)
# Without a local tokenizer: characters per token, on the low side so counts come out high and
# a packed prompt still fits the server's context.
CHARS_PER_TOKEN = 3
# Chat-template tokens around each message, for the estimate.
TOKENS_PER_MESSAGE = 8
# An error's `type` is shown only when it is a name ("BadRequestError"), never free text.
_ERROR_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")


class OpenAiCompatibleGenerator(StreamingGenerator):
    def __init__(self, settings: LlmSettings) -> None:
        import httpx

        self.settings = settings
        self.server = settings.server
        self.base_url = self.server.base_url.rstrip("/")
        self.context_tokens = settings.n_ctx
        headers = {"Accept": "text/event-stream, application/json"}
        if self.server.api_key is not None:
            headers["Authorization"] = f"Bearer {self.server.api_key.get_secret_value()}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(
                self.server.read_timeout_s, connect=self.server.connect_timeout_s
            ),
            trust_env=False,  # no HTTP(S)_PROXY: the request goes to base_url and nowhere else
            follow_redirects=False,
        )
        self._count = _token_counter(self.server.tokenizer)
        self._model_name = self.server.model
        self._model_lock = threading.Lock()
        self.name = self._model_name or "openai_compatible"

    # -- the protocol ----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def _complete(self, request: GenerationRequest) -> Completion:
        """Not streamed: the server sends the whole answer (and its usage) in one body."""
        deadline = request.deadline
        payload = self._payload(request, stream=False)
        # Nothing comes back until the answer is done: wait for the whole request's time.
        with self._request(payload, deadline, read_timeout=deadline.remaining()) as response:
            body = self._json(response.read())
        choice = (body.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = self._usage(body.get("usage"), request.messages, pieces=None, text=text)
        return Completion(text=text, usage=usage, finish_reason=_finish(choice))

    # -- what is sent ----------------------------------------------------------------------

    def model_name(self, deadline: Deadline | None = None) -> str:
        """The configured model name, or the first model the server lists (asked once)."""
        with self._model_lock:
            if self._model_name is None:
                deadline = deadline or Deadline(self.server.connect_timeout_s * 2)
                with self._request(None, deadline, path="/models") as response:
                    models = self._json(response.read()).get("data") or []
                if not models:
                    raise GeneratorError(f"the LLM server at {self.base_url} lists no model")
                self._model_name = str(models[0]["id"])
                self.name = self._model_name
            return self._model_name

    def _payload(self, request: GenerationRequest, *, stream: bool) -> dict:
        payload = {
            "model": self.model_name(request.deadline),
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "stream": stream,
        }
        if request.stop:
            payload["stop"] = request.stop
        if self.settings.repeat_penalty != 1.0:
            payload["repeat_penalty"] = self.settings.repeat_penalty  # llama.cpp, vLLM, Ollama
        if stream:
            payload["stream_options"] = {"include_usage": True}  # usage where the server has it
        return payload

    @contextmanager
    def _request(
        self,
        payload: dict | None,
        deadline: Deadline,
        *,
        path: str = "/chat/completions",
        read_timeout: float | None = None,
    ):
        """An open response, after retrying connection errors; errors become typed ones."""
        import httpx

        url = self.base_url + path
        tries = self.server.retries + 1
        read = read_timeout if read_timeout is not None else self.server.read_timeout_s
        for attempt in range(tries):
            deadline.check()
            left = deadline.remaining()
            timeout = httpx.Timeout(
                _within(read, left),
                connect=_within(self.server.connect_timeout_s, left),
            )
            method = "GET" if payload is None else "POST"
            answered = False
            try:
                with self._client.stream(method, url, json=payload, timeout=timeout) as response:
                    answered = True
                    if not response.is_success:  # redirects included: never followed
                        raise GeneratorError(self._status_error(response))
                    yield response
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if answered:  # the server was reached: never send the request twice
                    raise GeneratorError(
                        f"the connection to the LLM server at {self.base_url} broke off"
                    ) from exc
                reason = "timed out" if isinstance(exc, httpx.ConnectTimeout) else "refused"
                if attempt + 1 == tries:
                    raise GeneratorUnavailable(
                        f"the LLM server at {self.base_url} is not reachable (connection "
                        f"{reason}, {tries} tries): is it running?"
                    ) from exc
                pause = self.server.retry_backoff_s * 2**attempt
                left = deadline.remaining()
                log.warning(
                    "LLM server not reachable (%s); try %d in %.1fs", reason, attempt + 2, pause
                )
                time.sleep(pause if left is None else max(0.0, min(pause, left)))
            except httpx.TimeoutException as exc:
                raise GeneratorTimeout(
                    f"the LLM server at {self.base_url} sent nothing for {timeout.read:g} s"
                ) from exc
            except httpx.TransportError as exc:
                raise GeneratorError(
                    f"the connection to the LLM server at {self.base_url} broke off "
                    f"({type(exc).__name__})"
                ) from exc

    def _status_error(self, response) -> str:
        """The status and the error's type name; never the server's message, which may quote
        the request (vLLM's validation errors hold the prompt) and would reach the client."""
        response.read()
        try:
            kind = str(response.json().get("error", {}).get("type", ""))
        except (ValueError, AttributeError):
            kind = ""
        detail = f" ({kind})" if _ERROR_TYPE.fullmatch(kind) else ""
        return f"the LLM server answered HTTP {response.status_code}{detail}; its own log says why"

    # -- what comes back -------------------------------------------------------------------

    def _generate(self, control: StreamControl, request: GenerationRequest) -> Iterator[str]:
        deadline = request.deadline
        payload = self._payload(request, stream=True)
        reason: FinishReason = "stop"
        reported = None
        pieces = 0
        text_parts: list[str] = []
        # Leaving this block closes the response: the server sees the client go and stops.
        with self._request(payload, deadline) as response:
            for event in _sse_data(response.iter_lines()):
                if control.cancelled.is_set():
                    break
                deadline.check()
                chunk = self._json(event)
                reported = chunk.get("usage") or reported
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        pieces += 1
                        text_parts.append(content)
                        yield content
                    if choice.get("finish_reason"):
                        reason = _finish(choice)
        text = "".join(text_parts)
        usage = self._usage(reported, request.messages, pieces=pieces, text=text)
        control.finish(usage, reason)

    def _usage(self, reported, messages, *, pieces: int | None, text: str) -> Usage:
        """The server's own counts; without them (llama-cpp-python's server does not send them
        in a stream) a local count, marked as estimated."""
        if reported and reported.get("prompt_tokens") is not None:
            return Usage(int(reported["prompt_tokens"]), int(reported.get("completion_tokens", 0)))
        prompt = sum(self.count_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in messages)
        # Servers send about one piece per token.
        completion = pieces if pieces is not None else self.count_tokens(text)
        return Usage(prompt, completion, estimated=True)

    def _json(self, raw: bytes | str) -> dict:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise GeneratorError(
                f"the LLM server at {self.base_url} sent something that is not JSON"
            ) from exc

    def check(self) -> str:
        """Reach the server and name the model it serves (for `rag doctor`)."""
        return self.model_name(Deadline(self.server.connect_timeout_s * 2))

    def close(self) -> None:
        self._client.close()


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event, up to the closing [DONE]."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), event names
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        if data:
            yield data


def _finish(choice: dict) -> FinishReason:
    return "length" if choice.get("finish_reason") == "length" else "stop"


def _within(seconds: float | None, left: float | None) -> float | None:
    if left is None:
        return seconds
    return max(0.001, left if seconds is None else min(seconds, left))


def _token_counter(reference: str | None) -> Callable[[str], int]:
    """Count with the model's own tokenizer when one is configured, else estimate."""
    if reference is None:
        return lambda text: math.ceil(len(text) / CHARS_PER_TOKEN)
    path = resolve_model_path(reference, "LLM tokenizer")
    if path.suffix == ".gguf":
        from llama_cpp import Llama

        vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
        return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))
