"""The contract every LLM backend keeps, run against each of them on the real SmolLM2 model:
llama.cpp in this process, transformers in this process, and llama.cpp's OpenAI-compatible
server on loopback reached over HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from rag.llm import GeneratorTimeout, TokenStream

pytestmark = pytest.mark.slow

# SmolLM2-135M answers this one reliably (a longer system prompt can send it off course).
SYSTEM = "Answer using only the sources."
QUESTION = [
    {"role": "system", "content": SYSTEM},
    {
        "role": "user",
        "content": "Sources:\n\n[1] Leave policy (page 1)\n"
        "Employees get 25 days of annual leave per year.\n\n"
        "Question: How many days of annual leave do employees get?\nAnswer:",
    },
]
# An answer that goes on for longer than the tests read.
LONG = [{"role": "user", "content": "Write a long story about a cat who travels the world."}]


def test_answers_the_question_from_the_given_context(any_generator):
    completion = any_generator.complete(QUESTION, max_tokens=48)
    assert "25" in completion.text


def test_streamed_pieces_join_to_the_plain_answer(any_generator):
    plain = any_generator.complete(QUESTION, max_tokens=48)
    stream = any_generator.stream(QUESTION, max_tokens=48)
    assert isinstance(stream, TokenStream)
    pieces = list(stream)
    assert len(pieces) > 1  # it really streamed
    assert "".join(pieces) == plain.text
    assert stream.finish_reason == plain.finish_reason


def test_max_tokens_ends_the_answer_early(any_generator):
    full = any_generator.complete(LONG, max_tokens=24).text
    stream = any_generator.stream(LONG, max_tokens=6)
    short = stream.text()
    assert stream.finish_reason == "length"
    assert stream.usage.completion_tokens == 6
    assert short and len(short) < len(full)
    assert full.startswith(short)  # greedy decoding: the same answer, cut


def test_stop_string_ends_the_answer_before_it(any_generator):
    full = any_generator.complete(QUESTION, max_tokens=48).text
    stop = "25"
    expected = full[: full.index(stop)]
    streamed = any_generator.stream(QUESTION, max_tokens=48, stop=[stop])
    assert streamed.text() == expected
    assert streamed.finish_reason == "stop"
    completed = any_generator.complete(QUESTION, max_tokens=48, stop=[stop])
    assert completed.text == expected


def test_cancel_ends_the_stream_at_the_next_token(any_generator):
    stream = any_generator.stream(LONG, max_tokens=64)
    first = next(stream)
    stream.cancel()
    rest = list(stream)
    assert first and rest == []
    assert stream.finish_reason == "cancelled"
    assert stream.usage.completion_tokens < 64
    # The backend is free again at once.
    assert any_generator.complete(QUESTION, max_tokens=4).text


def test_a_cancel_event_set_from_another_thread_stops_the_stream(any_generator):
    cancel = threading.Event()
    stream = any_generator.stream(LONG, max_tokens=64, cancel=cancel)
    pieces = [next(stream)]
    threading.Thread(target=cancel.set).start()
    pieces.extend(stream)
    assert stream.finish_reason == "cancelled"
    assert stream.usage.completion_tokens < 64


def test_usage_counts_prompt_and_completion_tokens(any_generator):
    stream = any_generator.stream(QUESTION, max_tokens=48)
    pieces = list(stream)
    content_tokens = sum(any_generator.count_tokens(m["content"]) for m in QUESTION)
    usage = stream.usage
    # The chat template adds a few tokens around each message.
    assert content_tokens <= usage.prompt_tokens <= content_tokens + 64
    assert len(pieces) <= usage.completion_tokens + 1
    assert 1 <= usage.completion_tokens <= 48
    completed = any_generator.complete(QUESTION, max_tokens=48).usage
    assert abs(completed.completion_tokens - usage.completion_tokens) <= 1


def test_a_request_past_its_time_raises_generator_timeout(any_generator):
    with pytest.raises(GeneratorTimeout):
        list(any_generator.stream(QUESTION, max_tokens=48, timeout_s=0.001))
    with pytest.raises(GeneratorTimeout):
        any_generator.complete(QUESTION, max_tokens=48, timeout_s=0.001)
    # Time out in the middle of generating: a quarter of what the whole answer takes here.
    started = time.perf_counter()
    any_generator.complete(LONG, max_tokens=64)
    whole = time.perf_counter() - started
    stream = any_generator.stream(LONG, max_tokens=64, timeout_s=whole / 4)
    with pytest.raises(GeneratorTimeout):
        list(stream)
    # The backend is free again afterwards.
    assert any_generator.complete(QUESTION, max_tokens=4).text
