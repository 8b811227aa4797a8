"""Concurrency over HTTP with the real LLM: a full generation queue answers 429 at once with
Retry-After, retrieval is not blocked meanwhile, and a generation past its timeout is stopped
and reported (504, or an error event in a stream)."""

from __future__ import annotations

import json
import threading
import time

from tests.rag.api.conftest import wait_until

QUESTION = {"question": "What is the chief executive salary approved under codename BLUEHERON?"}


class HeldGenerator:
    """The real LLM, each answer held back until the test lets it go."""

    def __init__(self, real, release: threading.Event) -> None:
        self.real, self.release = real, release
        self.name, self.context_tokens = real.name, real.context_tokens

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def stream(self, messages, max_tokens, stop=None, **options):
        self.release.wait(60)
        yield from self.real.stream(messages, max_tokens, stop, **options)


class SlowGenerator(HeldGenerator):
    """The real LLM's pieces, each after a pause: an answer that takes too long."""

    def stream(self, messages, max_tokens, stop=None, **options):
        pieces = self.real.stream(messages, max_tokens, stop, **options)
        try:
            for piece in pieces:
                time.sleep(0.4)
                yield piece
        finally:
            pieces.close()  # frees the model at once when the gate stops this answer


def test_a_full_generation_queue_answers_429_at_once(make_api, generator):
    release = threading.Event()
    held = HeldGenerator(generator, release)
    with make_api(held, max_concurrent_generations=1, generation_queue=1) as env:
        headers = env.headers("hr-bot")
        statuses: list[int] = []

        def ask() -> None:
            statuses.append(
                env.client.post("/v1/query", json=QUESTION, headers=headers).status_code
            )

        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
        # One answer runs (held), one waits: the gate is full.
        wait_until(
            lambda: (
                getattr(env.app.state, "generation_gate", None) is not None
                and env.app.state.generation_gate.running == 1
                and env.app.state.generation_gate.waiting == 1
            )
        )
        overflow = env.client.post("/v1/query", json=QUESTION, headers=headers)
        chat = env.client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": QUESTION["question"]}]},
            headers=headers,
        )
        # Retrieval alone does not wait for the LLM.
        search = env.client.post("/v1/search", json=QUESTION, headers=headers)
        still_held = not release.is_set() and all(t.is_alive() for t in threads)
        release.set()
        for thread in threads:
            thread.join(120)

    # Refused while the others were still held: it did not wait for them.
    assert still_held
    for refused in (overflow, chat):
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) >= 1
    assert search.status_code == 200 and search.json()["results"]
    assert statuses == [200, 200]


def test_a_generation_past_its_timeout_is_stopped_and_reported(make_api, generator):
    slow = SlowGenerator(generator, threading.Event())
    with make_api(slow, generation_timeout_s=1.0) as env:
        headers = env.headers("hr-bot")
        r = env.client.post("/v1/query", json=QUESTION, headers=headers)
        assert r.status_code == 504, r.text
        assert r.json()["code"] == "timeout" and "longer than 1 s" in r.json()["message"]

        r = env.client.post("/v1/query", json={**QUESTION, "stream": True}, headers=headers)
        events = [line for line in r.text.splitlines() if line.startswith("event: ")]
        assert events[0] == "event: citations" and events[-1] == "event: error"
        error = json.loads(r.text.strip().splitlines()[-1].removeprefix("data: "))
        assert error["status"] == 504 and error["code"] == "timeout"

        chat = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
        chat["messages"][0]["content"] = QUESTION["question"]
        r = env.client.post("/v1/chat/completions", json=chat, headers=headers)
        data = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
        assert data[-1] == "[DONE]" and json.loads(data[-2])["error"]["status"] == 504
        # The stopped generations give their slot back.
        wait_until(lambda: env.app.state.generation_gate.running == 0)
