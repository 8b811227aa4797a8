"""A question's words the store holds only as pseudonyms are searched as those pseudonyms."""

from __future__ import annotations

import pytest

from rag.access import Caller
from rag.privacy.anonymizer import AnonymizedText, Anonymizer
from rag.privacy.operators.pseudonymize import PseudonymizeOperator
from rag.stored_values import (
    add_stored_parts,
    candidates,
    hide_stored_values,
    share_said,
    typed_question,
    typed_values_shown,
)


def _spans(text: str) -> list[str]:
    return [text[start:end] for start, end in candidates(text)]


def test_candidates_are_capitalized_runs_longest_first_without_lone_stopwords():
    spans = _spans("What did Richard II of Normandy's court do?")
    assert spans[0] == "Richard II"  # the longest first
    # The possessive is not part of the value; "What" and "of" are no candidates.
    assert sorted(spans) == ["II", "Normandy", "Richard", "Richard II"]


def test_pseudonyms_already_in_the_question_are_no_candidates():
    assert _spans("Where does <PERSON_0123456789abcdef> work in Lisbon?") == ["Lisbon"]


def _fake_token(kind: str, value: str) -> str:
    return f"<{kind}_{value.casefold().replace(' ', '')}>"


def test_the_longest_stored_value_wins_and_replacements_never_overlap():
    question = AnonymizedText("Did Maria Lopez meet Maria in Porto?")
    stored = {"<PERSON_marialopez>", "<PERSON_maria>", "<PERSON_lopez>"}
    hidden = hide_stored_values(question, ["PERSON"], _fake_token, lambda t: stored & set(t))
    assert hidden.text == "Did <PERSON_marialopez> meet <PERSON_maria> in Porto?"
    assert hidden.originals == {"<PERSON_marialopez>": "Maria Lopez", "<PERSON_maria>": "Maria"}
    assert hidden.counts["PERSON"] == 2


def test_a_question_is_left_as_it_is_when_the_store_holds_none_of_its_values():
    question = AnonymizedText("Where is Porto?")
    assert hide_stored_values(question, ["PERSON"], _fake_token, lambda t: set()) is question


def test_a_name_the_store_lacks_is_searched_with_the_parts_it_holds():
    # The question's anonymizer took "Ralph earl" for a name; the passage hides "Ralph" (and the
    # words of "William John Macquorn Rankine" in its header: rag/privacy/name_parts.py).
    token = PseudonymizeOperator(b"k" * 32).operate
    ralph_earl, rankine_s = token("PERSON", "Ralph earl"), token("PERSON", "William Rankine's")
    ralph, william, rankine = (token("PERSON", v) for v in ("Ralph", "William", "Rankine"))
    question = AnonymizedText(
        f"Who made {ralph_earl} and {rankine_s} friends?",
        originals={ralph_earl: "Ralph earl", rankine_s: "William Rankine's"},
    )
    stored = {ralph, william, rankine}
    asked: list[str] = []

    def lookup(tokens):
        asked.extend(tokens)
        return stored & set(tokens)

    added = add_stored_parts(question, ["PERSON"], token, lookup)
    # The question's own tokens stay (nothing hidden is shown again); the held parts join them.
    assert added.text == (
        f"Who made {ralph} {ralph_earl} and {william} {rankine} {rankine_s} friends?"
    )
    assert added.originals[rankine] == "Rankine" and added.originals[ralph] == "Ralph"
    assert added.counts["PERSON"] == 3
    assert token("PERSON", "William Rankine") in asked  # the longest part is tried first
    # A token the store holds is left alone.
    held = AnonymizedText(f"Who is {ralph_earl}?", originals={ralph_earl: "Ralph earl"})
    assert add_stored_parts(held, ["PERSON"], token, lambda t: {ralph_earl, ralph}) == held


def test_the_embedded_question_shows_the_askers_hidden_words_as_typed():
    token = PseudonymizeOperator(b"k" * 32).operate
    hastings, harold = token("PERSON", "Hastings"), token("PERSON", "Harold")
    phone = token("PHONE_NUMBER", "555 0100")
    question = AnonymizedText(
        f"Did {harold} fight at {hastings}? Call {phone}",
        originals={hastings: "Hastings", harold: "Harold", phone: "555 0100"},
    )
    # A type that is not a word (a phone number) is never written back.
    embedded = typed_values_shown(question, ["PERSON"])
    assert embedded == f"Did Harold fight at Hastings? Call {phone}"
    assert question.text.startswith(f"Did {harold}")  # the searched question is unchanged
    # A token the documents hold may be kept: the dense leg meets their passages by it.
    kept = typed_values_shown(question, ["PERSON"], kept={harold})
    assert kept == f"Did {harold} fight at Hastings? Call {phone}"
    # ... or follow the words: the dense leg meets passages that say the word and those that
    # hid it.
    both = typed_values_shown(question, ["PERSON"], typed_and_kept={harold})
    assert both == f"Did Harold {harold} fight at Hastings? Call {phone}"
    plain = AnonymizedText("Who won at Hastings?")
    assert typed_values_shown(plain, ["PERSON"]) == plain.text


def test_the_typed_question_splits_hidden_words_by_whether_a_document_holds_their_token():
    token = PseudonymizeOperator(b"k" * 32).operate
    hastings, harold = token("PERSON", "Hastings"), token("PERSON", "Harold")
    phone = token("PHONE_NUMBER", "555 0100")
    question = AnonymizedText(
        f"Did {harold} fight at {hastings}? Call {phone}",
        originals={hastings: "Hastings", harold: "Harold", phone: "555 0100"},
    )
    typed = typed_question(question, ["PERSON"], {harold}, "typed_and_held")
    assert typed.embedded == f"Did Harold {harold} fight at Hastings? Call {phone}"
    # A phone number is no word: it is in neither list.
    assert typed.unheld == ("Hastings",) and typed.held == ("Harold",)
    assert typed_question(AnonymizedText("Who won?"), ["PERSON"], set(), "all") is None


def test_a_word_is_said_only_as_a_whole_word_in_any_case():
    assert share_said("The battle of HASTINGS, 1066.", ["Hastings", "Harold"]) == 0.5
    assert share_said("Hastingsford is a village.", ["Hastings"]) == 0.0
    assert share_said("anything", []) == 0.0


# -- on a real store ---------------------------------------------------------------------------

DOC = "The Lighthouse project is run by the data team in Lisbon.\n"
QUESTION = "Who runs the Lighthouse project?"


@pytest.fixture
def stored_as_pseudonym(make_service, tmp_path, settings):
    """A store where "Lighthouse" was stored as a PERSON pseudonym (as a recognizer in the
    document's context would), asked through an anonymizer that leaves it in questions."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "projects.txt").write_text(DOC)
    strict = Anonymizer(
        settings.anonymize.model_copy(update={"deny_list": {"PERSON": ["Lighthouse"]}}),
        secret=b"test-secret-key",  # the key of the session's anonymizer (tests/conftest.py)
    )
    from rag.service import RagService

    writer = RagService(settings, embedder=make_service().embedder, anonymizer=strict)
    assert writer.pipeline.ingest_folder(folder, groups=["ops"]).indexed == 1
    writer.engine.dispose()
    return make_service


def test_a_value_the_store_holds_as_a_pseudonym_is_searched_as_it(stored_as_pseudonym):
    service = stored_as_pseudonym()
    token = service.anonymizer.pseudonymize("PERSON", "Lighthouse")
    assert service.anonymizer.anonymize(QUESTION).text == QUESTION  # the anonymizer misses it

    question = service.pseudonymize_question(QUESTION)
    assert question.text == f"Who runs the {token} project?"
    assert question.originals[token] == "Lighthouse"
    hits = service.search_for(QUESTION, 3, None)
    assert hits and "Lighthouse project" in hits[0].text  # the asker's own word, shown back


def test_only_the_callers_documents_are_looked_up(stored_as_pseudonym):
    service = stored_as_pseudonym()
    outsider = Caller("sales", groups=frozenset({"sales"}))
    assert service.pseudonymize_question(QUESTION, outsider).text == QUESTION
    insider = Caller("ops", groups=frozenset({"ops"}))
    assert "Lighthouse" not in service.pseudonymize_question(QUESTION, insider).text


def test_the_setting_turns_the_lookup_off(stored_as_pseudonym, settings):
    anonymize = settings.anonymize.model_copy(update={"stored_values_in_questions": False})
    service = stored_as_pseudonym(anonymize=anonymize)
    assert service.pseudonymize_question(QUESTION).text == QUESTION


PROJECTS = {
    "lighthouse.txt": "The Lighthouse project is run by the data team in Lisbon.\n",
    "harbour.txt": "The Harbour project is run by the finance team in Porto.\n",
    "beacon.txt": "The Beacon project is run by the sales team in Madrid.\n",
    "compass.txt": "The Compass project is run by the legal team in Braga.\n",
}
ASKED = "Which team runs the Lighthouse project?"


@pytest.fixture
def asked_hiding_lighthouse(make_service, tmp_path, settings, embedder):
    """store(corpus) -> make(**overrides): a store of `corpus` (its documents leave
    "Lighthouse" in plain text), then services asking it through an anonymizer that hides it
    in questions (a short question's context reads it as a name), each with the SQL it sends."""
    from sqlalchemy import event

    from rag.service import RagService

    strict = Anonymizer(
        settings.anonymize.model_copy(update={"deny_list": {"PERSON": ["Lighthouse"]}}),
        secret=b"test-secret-key",
    )

    def store(corpus: dict[str, str]):
        folder = tmp_path / "docs"
        folder.mkdir()
        for name, text in corpus.items():
            (folder / name).write_text(text)
        assert make_service().pipeline.ingest_folder(folder).indexed == len(corpus)

        def make(**overrides):
            asking = RagService(
                settings.model_copy(update=overrides) if overrides else settings,
                embedder=embedder,
                anonymizer=strict,
            )
            sent: list[str] = []
            event.listen(
                asking.engine,
                "before_cursor_execute",
                lambda conn, cursor, statement, parameters, *rest: sent.append(
                    f"{statement} {parameters}"
                ),
            )
            return asking, sent

        return make

    return store


@pytest.fixture
def hidden_only_in_questions(asked_hiding_lighthouse):
    return asked_hiding_lighthouse(PROJECTS)


def test_a_word_hidden_only_in_the_question_is_embedded_as_typed(hidden_only_in_questions):
    service, sent = hidden_only_in_questions()
    token = service.anonymizer.pseudonymize("PERSON", "Lighthouse")
    question = service.pseudonymize_question(ASKED)
    assert question.text == f"Which team runs the {token} project?"
    hits = service.search_for(ASKED, 3, None)
    # The documents say "Lighthouse" in plain text, so only the dense leg can connect it.
    assert hits and hits[0].path == "lighthouse.txt"
    # The hidden word reaches SQL only as its token, never as typed.
    assert sent and not any("lighthouse" in statement.casefold() for statement in sent)
    service.engine.dispose()


RIVALS = {
    # Says the question's other words, not the hidden one: both legs rank it high.
    "harbour.txt": "Which team runs the Harbour project? The finance team runs the Harbour "
    "project from Porto.\n",
    # Says the hidden word plainly, in other words: only the typed word connects it.
    "warehouse.txt": "Lighthouse is our data warehouse; the data team in Lisbon looks after it.\n",
}


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_a_passage_saying_a_word_hidden_only_in_the_question_ranks_higher_by_it(
    asked_hiding_lighthouse, settings, fusion
):
    """The full-text leg is searched with the token, which no document holds; the passage that
    says the word plainly is found by the word as typed, matched in-process."""
    corpus = {**{n: t for n, t in PROJECTS.items() if n != "lighthouse.txt"}, **RIVALS}
    make = asked_hiding_lighthouse(corpus)

    def ranked(weight: float) -> tuple[list[str], list[str]]:
        retrieval = settings.retrieval.model_copy(
            update={"unheld_words_weight": weight, "fusion": fusion}
        )
        service, sent = make(retrieval=retrieval)
        paths = [hit.path for hit in service.search_for(ASKED, 5, None)]
        service.engine.dispose()
        return paths, sent

    without, _ = ranked(0.0)
    with_words, sent = ranked(1.0)
    assert with_words.index("warehouse.txt") < without.index("warehouse.txt")
    assert sent and not any("lighthouse" in statement.casefold() for statement in sent)
