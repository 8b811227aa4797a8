"""Questions that name people: retrieval through pseudonyms, and whose names an answer shows."""

from __future__ import annotations

import re

from rag.config import Settings

DOCS = {
    "payroll.md": "# Payroll\n\nKenji Watanabe is responsible for the quarterly payroll audit.\n",
    "security.md": "# Security\n\nHannah Lindqvist is responsible for the yearly access audit.\n",
    "travel.md": "# Travel\n\nMargaret Okafor is responsible for the quarterly travel audit.\n",
    "expenses.md": (
        "# Expenses\n\nExpense reports from Priya Raman are approved by Daniel Whitfield.\n"
    ),
}


class EchoPseudonyms:
    """A fake LLM that answers with every pseudonym token found in its sources."""

    name = "echo"
    context_tokens = 2048

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, max_tokens, stop=None):
        sources = messages[-1]["content"].split("Question:")[0]
        yield "People: "
        for token in re.findall(r"<[A-Z_]+_[0-9a-f]+>", sources):
            yield token[:5]  # tokens arrive split across pieces, as from a real model
            yield token[5:] + " "


def _ingest(make_service, tmp_path, generator=None, **overrides):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, body in DOCS.items():
        (folder / name).write_text(body)
    service = make_service(generator=generator, **overrides)
    service.pipeline.ingest_folder(folder)
    return service


def test_a_question_naming_a_person_finds_their_chunk(make_service, tmp_path):
    service = _ingest(make_service, tmp_path)
    with service.session_factory() as session:
        service.index.catch_up(session)
    question = service.anonymizer.anonymize("What is Hannah Lindqvist responsible for?").text
    assert "Hannah" not in question
    hits = service.retriever.search(question, 3)
    assert hits and hits[0].path == "security.md"


def test_the_askers_own_name_is_restored_and_no_one_elses(make_service, tmp_path):
    service = _ingest(make_service, tmp_path, generator=EchoPseudonyms())
    answer = service.ask("Who approves the expense reports from Priya Raman?")
    expenses = [c for c in answer.citations if c.path == "expenses.md"]
    assert expenses, answer.citations
    assert "Priya Raman" in answer.text
    assert "Daniel" not in answer.text and "Whitfield" not in answer.text
    assert "<PERSON_" in answer.text  # the other person stays a pseudonym
    assert "Priya Raman" in expenses[0].snippet and "Whitfield" not in expenses[0].snippet


class RecordingEcho(EchoPseudonyms):
    """EchoPseudonyms that also keeps the messages it was given."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def stream(self, messages, max_tokens, stop=None):
        self.seen = messages
        return super().stream(messages, max_tokens, stop)


def test_a_client_history_reaches_the_model_pseudonymized_and_its_names_are_restored(
    make_service, tmp_path
):
    """An OpenAI client sends its earlier turns raw: the model sees them with the same
    pseudonyms as the documents, and the asker's own names come back as written."""
    generator = RecordingEcho()
    service = _ingest(make_service, tmp_path, generator=generator)
    history = [
        {"role": "user", "content": "Who approves the expense reports from Priya Raman?"},
        # A name in an answer is no value of the asker's: it must not be restored.
        {"role": "assistant", "content": "Daniel Whitfield does [1]."},
    ]
    stream = service.ask_stream("And who checks them?", history=history)
    answer = "".join(stream.tokens)
    prompt = " ".join(message["content"] for message in generator.seen)
    assert "Priya" not in prompt and "Raman" not in prompt and "Whitfield" not in prompt
    pseudonym = service.anonymizer.anonymize("Priya Raman").text
    assert pseudonym in prompt
    # The follow-up was searched with the question it follows: the expenses passage.
    assert [c.path for c in stream.citations][:1] == ["expenses.md"]
    assert "Priya Raman" in answer and "Whitfield" not in answer


def _capped(make_service, tmp_path, cap: int):
    anonymize = Settings().anonymize.model_copy(update={"max_restored_values": cap})
    return _ingest(make_service, tmp_path, generator=EchoPseudonyms(), anonymize=anonymize)


def test_a_pasted_list_of_names_restores_only_the_first_few(make_service, tmp_path):
    """Pasting a staff directory must not reveal who appears in which passage: at most
    anonymize.max_restored_values of the asker's values are shown as themselves."""
    service = _capped(make_service, tmp_path, cap=2)
    answer = service.ask(
        "Which audits are Kenji Watanabe, Hannah Lindqvist and Margaret Okafor responsible for?"
    )
    assert "travel.md" in [c.path for c in answer.citations]  # Margaret Okafor's passage
    assert "Kenji Watanabe" in answer.text and "Hannah Lindqvist" in answer.text
    assert "Margaret" not in answer.text and "Okafor" not in answer.text
    assert all("Okafor" not in c.snippet for c in answer.citations)


def test_the_question_s_values_come_before_earlier_turns(make_service, tmp_path):
    service = _capped(make_service, tmp_path, cap=1)
    history = [
        {"role": "user", "content": "What is Kenji Watanabe responsible for?"},
        {"role": "assistant", "content": "The quarterly payroll audit [1]."},
    ]
    stream = service.ask_stream(
        "And what are Hannah Lindqvist and Kenji Watanabe responsible for?", history=history
    )
    answer = "".join(stream.tokens)
    assert {"security.md", "payroll.md"} <= {c.path for c in stream.citations}
    assert "Hannah Lindqvist" in answer and "Kenji" not in answer


def test_a_question_naming_one_word_of_a_name_finds_its_chunk(make_service, tmp_path):
    # "Lindqvist" alone is another token than "Hannah Lindqvist": the chunk's header carries
    # the token of each word of the name (rag/privacy/name_parts.py), so the question meets it.
    service = _ingest(make_service, tmp_path)
    with service.session_factory() as session:
        service.index.catch_up(session)
    question = service.pseudonymize_question("What is Lindqvist responsible for?").text
    assert "Lindqvist" not in question
    lindqvist = service.anonymizer.pseudonymize("PERSON", "Lindqvist")
    assert lindqvist in question
    hits = service.retriever.search(question, 3)
    assert hits and hits[0].path == "security.md"
