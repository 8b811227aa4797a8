"""The contract every LLM backend keeps, one class each backend's test class inherits, run on
the real SmolLM2 model: llama.cpp in this process, transformers in this process, and
llama.cpp's OpenAI-compatible server on loopback reached over HTTP."""

from __future__ import annotations

import re
import threading
import time

import pytest

from rag.llm import GeneratorTimeout, TokenStream
from rag.llm.facts import SENTENCE_OPENERS, facts_in
from rag.llm.streaming import StreamingGenerator

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
# A question its source cannot answer: SmolLM2-135M answers it with a number all the same.
UNANSWERED_SOURCE = "Employees get annual leave every year."
UNANSWERED_QUESTION = "How many days of annual leave do employees get?"
UNANSWERED = [
    {"role": "system", "content": SYSTEM},
    {
        "role": "user",
        "content": f"Sources:\n\n[1] Leave policy (page 1)\n{UNANSWERED_SOURCE}\n\n"
        f"Question: {UNANSWERED_QUESTION}\nAnswer:",
    },
]
# An answer that goes on for longer than the tests read.
LONG = [{"role": "user", "content": "Write a long story about a cat who travels the world."}]


class GeneratorContract:
    """Each backend's test class inherits this and says which loaded generator it is."""

    @pytest.fixture
    def backend(self):
        raise NotImplementedError

    def test_the_backend_writes_only_its_generation(self, backend):
        """stream(), complete() and the deadline are the shared base's (rag/llm/streaming.py)."""
        assert isinstance(backend, StreamingGenerator)
        own = vars(type(backend))
        assert "stream" not in own and "complete" not in own and "_generate" in own

    def test_answers_the_question_from_the_given_context(self, backend):
        completion = backend.complete(QUESTION, max_tokens=48)
        assert "25" in completion.text

    def test_streamed_pieces_join_to_the_plain_answer(self, backend):
        plain = backend.complete(QUESTION, max_tokens=48)
        stream = backend.stream(QUESTION, max_tokens=48)
        assert isinstance(stream, TokenStream)
        pieces = list(stream)
        assert len(pieces) > 1  # it really streamed
        assert "".join(pieces) == plain.text
        assert stream.finish_reason == plain.finish_reason

    def test_max_tokens_ends_the_answer_early(self, backend):
        full = backend.complete(LONG, max_tokens=24).text
        stream = backend.stream(LONG, max_tokens=6)
        short = stream.text()
        assert stream.finish_reason == "length"
        assert stream.usage.completion_tokens == 6
        assert short and len(short) < len(full)
        assert full.startswith(short)  # greedy decoding: the same answer, cut

    def test_stop_string_ends_the_answer_before_it(self, backend):
        full = backend.complete(QUESTION, max_tokens=48).text
        stop = "25"
        expected = full[: full.index(stop)]
        streamed = backend.stream(QUESTION, max_tokens=48, stop=[stop])
        assert streamed.text() == expected
        assert streamed.finish_reason == "stop"
        completed = backend.complete(QUESTION, max_tokens=48, stop=[stop])
        assert completed.text == expected

    def test_cancel_ends_the_stream_at_the_next_token(self, backend):
        stream = backend.stream(LONG, max_tokens=64)
        first = next(stream)
        stream.cancel()
        rest = list(stream)
        assert first and rest == []
        assert stream.finish_reason == "cancelled"
        assert stream.usage.completion_tokens < 64
        # The backend is free again at once.
        assert backend.complete(QUESTION, max_tokens=4).text

    def test_a_cancel_event_set_from_another_thread_stops_the_stream(self, backend):
        cancel = threading.Event()
        stream = backend.stream(LONG, max_tokens=64, cancel=cancel)
        pieces = [next(stream)]
        threading.Thread(target=cancel.set).start()
        pieces.extend(stream)
        assert stream.finish_reason == "cancelled"
        assert stream.usage.completion_tokens < 64

    def test_usage_counts_prompt_and_completion_tokens(self, backend):
        stream = backend.stream(QUESTION, max_tokens=48)
        pieces = list(stream)
        content_tokens = sum(backend.count_tokens(m["content"]) for m in QUESTION)
        usage = stream.usage
        # The chat template adds a few tokens around each message.
        assert content_tokens <= usage.prompt_tokens <= content_tokens + 64
        assert len(pieces) <= usage.completion_tokens + 1
        assert 1 <= usage.completion_tokens <= 48
        completed = backend.complete(QUESTION, max_tokens=48).usage
        assert abs(completed.completion_tokens - usage.completion_tokens) <= 1

    def test_facts_hold_the_answer_to_the_given_names_and_numbers(self, backend):
        """A backend that `constrains_facts` states no name or number but the given ones (the
        unconstrained model answers "1" here); one that does not accepts them all the same."""
        facts = facts_in(["Leave policy", UNANSWERED_SOURCE, UNANSWERED_QUESTION])
        text = backend.complete(UNANSWERED, max_tokens=32, facts=facts).text
        assert text.strip()
        if backend.constrains_facts:
            stated = facts_in([text])
            assert not re.search(r"\d", text)
            assert set(stated) <= {*facts, *SENTENCE_OPENERS}, stated
            streamed = backend.stream(UNANSWERED, max_tokens=32, facts=facts)
            assert streamed.text() == text

    def test_a_request_past_its_time_raises_generator_timeout(self, backend):
        with pytest.raises(GeneratorTimeout):
            list(backend.stream(QUESTION, max_tokens=48, timeout_s=0.001))
        with pytest.raises(GeneratorTimeout):
            backend.complete(QUESTION, max_tokens=48, timeout_s=0.001)
        # Time out in the middle of generating: a quarter of what the whole answer takes here,
        # timed once the prompt is read (llama.cpp keeps it: the timed stream reads it no more).
        backend.complete(LONG, max_tokens=64)
        started = time.perf_counter()
        backend.complete(LONG, max_tokens=64)
        whole = time.perf_counter() - started
        stream = backend.stream(LONG, max_tokens=64, timeout_s=whole / 4)
        with pytest.raises(GeneratorTimeout):
            list(stream)
        # The backend is free again afterwards.
        assert backend.complete(QUESTION, max_tokens=4).text


class TestLlamaCpp(GeneratorContract):
    @pytest.fixture
    def backend(self, penalized_generator):
        return penalized_generator


class TestTransformers(GeneratorContract):
    @pytest.fixture
    def backend(self, transformers_generator):
        return transformers_generator


class TestOpenAiCompatible(GeneratorContract):
    @pytest.fixture
    def backend(self, server_generator):
        return server_generator
