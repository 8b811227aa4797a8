"""A generation that fails inside the LLM library: its exception text quotes the prompt (the
passages and the question), and none of it reaches the client or the log; the client gets the
failure's status and the exception's type."""

from __future__ import annotations

import pytest

# In the hr document's passage, which the prompt holds.
PASSAGE_VALUES = ["BLUEHERON", "912345"]
QUESTION = "What is the chief executive salary under codename BLUEHERON?"


@pytest.fixture
def failing_llm(generator, monkeypatch):
    """The real llama.cpp backend, whose library refuses the prompt quoting it."""
    llm = generator._llm

    def refuse(prompt, **_):
        raise ValueError(f"cannot process prompt: {llm.detokenize(prompt).decode()}")

    monkeypatch.setattr(llm, "create_completion", refuse)
    return generator


def test_a_library_error_quoting_the_prompt_reaches_neither_client_nor_log(
    make_api, failing_llm, caplog
):
    caplog.set_level("DEBUG")
    with make_api(generator_override=failing_llm) as env:
        headers = env.headers("hr-bot")
        plain = env.client.post("/v1/query", json={"question": QUESTION}, headers=headers)
        streamed = env.client.post(
            "/v1/query", json={"question": QUESTION, "stream": True}, headers=headers
        )
        chat = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]}
        completion = env.client.post("/v1/chat/completions", json=chat, headers=headers)
        chat_streamed = env.client.post(
            "/v1/chat/completions", json={**chat, "stream": True}, headers=headers
        )
    assert plain.status_code == 503 and "ValueError" in plain.json()["message"]
    assert completion.status_code == 503
    assert "event: error" in streamed.text and '"error"' in chat_streamed.text
    for response in (plain, streamed, completion, chat_streamed):
        error_part = response.text.split("event: error")[-1]
        for value in PASSAGE_VALUES:
            assert value not in error_part, response.text
    for value in PASSAGE_VALUES:
        assert value not in caplog.text
