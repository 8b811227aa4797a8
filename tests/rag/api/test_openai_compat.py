"""The OpenAI-compatible endpoint with the official `openai` client against a real server on
loopback: a chat completion, streamed and not, returns the answer and its sources, its token
usage, and obeys the client's max_tokens (within the server's) and stop strings."""

from __future__ import annotations

import pytest
from openai import OpenAI, PermissionDeniedError, UnprocessableEntityError

from rag.answer import pack_prompt
from rag.api.routers.openai_compat import MODEL_ID, ChatMessageIn, split_conversation
from tests.rag.api.conftest import live_server

QUESTION = "When does the canteen serve lunch?"
# llm.max_tokens of the test API (tests/rag/api/conftest.py): a client may only lower it.
SERVER_MAX_TOKENS = 32


@pytest.fixture
def openai_client(make_api):
    with make_api() as env, live_server(env.app) as url:
        yield OpenAI(base_url=f"{url}/v1", api_key=env.keys["lobby"], max_retries=0, timeout=120)


def test_a_chat_completion_answers_with_its_sources(openai_client):
    completion = openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
    )
    assert completion.model == MODEL_ID
    content = completion.choices[0].message.content
    answer, _, sources = content.partition("\n\nSources:\n")
    assert answer.strip()
    # In the text for every client, and as a field for those that read it.
    assert sources.startswith("[1] Employee handbook (handbook.txt, page 1)")
    citations = completion.model_extra["citations"]
    assert citations[0]["path"] == "handbook.txt" and citations[0]["n"] == 1


def test_a_streamed_chat_completion_ends_with_its_sources(openai_client):
    stream = openai_client.chat.completions.create(
        model="private-docs",
        messages=[
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "Hi, I have questions about the office."},
            {"role": "assistant", "content": "Sure, ask away.\n\nSources:\n[1] Old (x, page 1)"},
            {"role": "user", "content": QUESTION},
        ],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 3 and "\n\nSources:\n[1] Employee handbook" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason in ("stop", "length")
    assert last.model_extra["citations"][0]["path"] == "handbook.txt"
    # Usage is streamed only when the client asks for it.
    assert all(c.usage is None and "usage" not in c.model_extra for c in chunks)


def answer_text(content: str) -> str:
    """The model's part of a completion's text, without the sources block."""
    return content.partition("\n\nSources:\n")[0]


def test_usage_adds_up_and_a_max_tokens_above_the_servers_is_capped(openai_client):
    completion = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": QUESTION}], max_tokens=10_000
    )
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens >= 1
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # The prompt holds the instructions, the source and the question: more than the question.
    assert usage.prompt_tokens > len(QUESTION.split())
    assert usage.completion_tokens <= SERVER_MAX_TOKENS
    choice = completion.choices[0]
    assert choice.finish_reason == (
        "length" if usage.completion_tokens == SERVER_MAX_TOKENS else "stop"
    )
    assert answer_text(choice.message.content).strip()


def test_max_tokens_cuts_the_answer_with_finish_reason_length(openai_client):
    completion = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": QUESTION}], max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert 1 <= completion.usage.completion_tokens <= 3
    # The sources still follow a cut answer.
    assert "\n\nSources:\n[1] Employee handbook" in completion.choices[0].message.content


def test_a_stream_with_include_usage_ends_with_one_usage_chunk(openai_client):
    stream = openai_client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
        max_completion_tokens=3,
    )
    chunks = list(stream)
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert usage.prompt_tokens > 0 and 1 <= usage.completion_tokens <= 3
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "length"
    assert finish.model_extra["citations"][0]["path"] == "handbook.txt"


def test_a_stop_string_ends_the_generated_text(openai_client):
    # Any English answer of a few words has an "e" (greedy decoding: the same one each run).
    completion = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": QUESTION}], stop="e"
    )
    choice = completion.choices[0]
    assert "e" not in answer_text(choice.message.content)
    assert choice.finish_reason == "stop"
    # The model stopped there, not merely its text trimmed after reaching the maximum.
    assert completion.usage.completion_tokens < SERVER_MAX_TOKENS
    assert completion.model_extra["citations"][0]["path"] == "handbook.txt"


def test_options_out_of_range_are_refused_with_422(openai_client):
    bad = [
        {"max_tokens": 0},
        {"max_completion_tokens": -1},
        {"stop": ["a", "b", "c", "d", "e"]},
        {"n": 2},
        {"stream_options": {"include_usage": True}},  # without stream: true
    ]
    for options in bad:
        with pytest.raises(UnprocessableEntityError):
            openai_client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": QUESTION}], **options
            )


def test_models_lists_the_service(openai_client):
    assert [m.id for m in openai_client.models.list()] == [MODEL_ID]
    assert openai_client.models.retrieve(MODEL_ID).id == MODEL_ID


def test_nothing_found_says_so_without_sources(openai_client):
    completion = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "What is the boiling point of tungsten?"}]
    )
    assert completion.choices[0].message.content == "I could not find this in the documents."
    assert completion.model_extra["citations"] == [] and completion.model_extra["found"] is False
    # No model was called: no prompt was read, nothing generated.
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (0, 0, 0)
    assert completion.choices[0].finish_reason == "stop"


def test_a_reader_key_cannot_reach_admin_routes_through_the_client(make_api):
    with make_api() as env, live_server(env.app) as url:
        client = OpenAI(base_url=url, api_key=env.keys["lobby"], max_retries=0)
        with pytest.raises(PermissionDeniedError):
            client.get("/v1/keys", cast_to=object)


def test_history_is_the_earlier_turns_and_fits_a_share_of_the_context(generator):
    messages = [
        ChatMessageIn(role="system", content="ignored"),
        ChatMessageIn(role="user", content=[{"type": "text", "text": "About leave."}]),
        ChatMessageIn(role="assistant", content="Ask.\n\nSources:\n[1] A (a.txt, page 1)"),
        ChatMessageIn(role="user", content="How many days?"),
    ]
    question, history = split_conversation(messages)
    assert question == "How many days?"
    assert history == [
        {"role": "user", "content": "About leave."},
        {"role": "assistant", "content": "Ask."},
    ]
    prompt, _ = pack_prompt(question, [], generator, 64, history)
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user"]
    # A history larger than its share of the context keeps only the newest turns that fit.
    long_history = [{"role": "user", "content": f"turn {i} " + "word " * 200} for i in range(40)]
    prompt, _ = pack_prompt(question, [], generator, 64, long_history)
    kept = [m["content"] for m in prompt[1:-1]]
    assert 0 < len(kept) < 40 and kept[-1].startswith("turn 39")
    assert sum(generator.count_tokens(c) for c in kept) <= generator.context_tokens // 3
