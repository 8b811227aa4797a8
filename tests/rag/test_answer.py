"""Prompt packing, citations, "not found" and pseudonym restoring, with a fake Generator.

The real LLM is exercised end to end elsewhere; here a word counts as a token.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.answer import (
    NOT_FOUND,
    SNIPPET_CHARS,
    TEMPLATE_OVERHEAD_TOKENS,
    Answer,
    GenerationLimits,
    citations_for,
    pack_prompt,
    source_block,
    start_answer,
)
from rag.llm.base import Usage
from rag.privacy.pseudonyms import restore_pieces, restore_pseudonyms
from rag.retrieve import Hit

PERSON = "<PERSON_1234abcd>"
EMAIL = "<EMAIL_ADDRESS_0badf00d>"
ORIGINALS = {PERSON: "Alice Martin", EMAIL: "alice@example.com"}


class FakeGenerator:
    name = "fake"

    def __init__(self, context_tokens: int = 2048, words: tuple[str, ...] = ("Yes", " [1].")):
        self.context_tokens = context_tokens
        self.words = words
        self.calls: list[tuple[list, int]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, max_tokens: int, stop=None) -> Iterator[str]:
        self.calls.append((messages, max_tokens))  # recorded when called, not when iterated
        return iter(self.words)


def hit(n: int, words: int = 20, page_start: int = 1, page_end: int | None = None) -> Hit:
    return Hit(
        chunk_id=100 + n,
        score=1.0 - n / 10 + 0.000123,
        text=" ".join(f"w{n}_{i}" for i in range(words)),
        page_start=page_start,
        page_end=page_start if page_end is None else page_end,
        document_id=n,
        title=f"Doc {n}",
        path=f"folder/doc{n}.pdf",
    )


def prompt_tokens(generator: FakeGenerator, messages) -> int:
    return sum(generator.count_tokens(m["content"]) for m in messages)


def test_pack_prompt_keeps_order_and_stops_at_the_first_misfit():
    generator = FakeGenerator(context_tokens=400)
    hits = [hit(1, 60), hit(2, 60), hit(3, 500), hit(4, 5)]
    messages, packed = pack_prompt("What is due?", hits, generator, max_answer_tokens=100)
    # Hit 4 would fit, but it must not jump ahead of hit 3.
    assert packed == hits[:2]
    user = messages[1]["content"]
    assert "w4_0" not in user and "w3_0" not in user
    assert user.index("w1_0") < user.index("w2_0")
    assert user.endswith("Question: What is due?\nAnswer:")
    assert [m["role"] for m in messages] == ["system", "user"]


@pytest.mark.parametrize("context_tokens", [150, 200, 333, 512, 1000])
@pytest.mark.parametrize("max_answer_tokens", [16, 64])
def test_prompt_stays_within_the_context(context_tokens, max_answer_tokens):
    generator = FakeGenerator(context_tokens=context_tokens)
    hits = [hit(n, words=15 + 7 * n) for n in range(1, 12)]
    messages, packed = pack_prompt("How long?", hits, generator, max_answer_tokens)
    assert packed == hits[: len(packed)]
    used = prompt_tokens(generator, messages)
    assert used <= context_tokens - max_answer_tokens
    # The chat template's margin is kept too (+1: the "Sources:" header word is not budgeted).
    assert used + TEMPLATE_OVERHEAD_TOKENS <= context_tokens - max_answer_tokens + 1


@pytest.mark.parametrize("context_tokens", [150, 200, 333, 512])
@pytest.mark.parametrize("max_answer_tokens", [16, 64])
def test_the_first_hit_left_out_really_did_not_fit(context_tokens, max_answer_tokens):
    generator = FakeGenerator(context_tokens=context_tokens)
    hits = [hit(n, words=15 + 7 * n) for n in range(1, 12)]  # 627 words: never all of them
    _, packed = pack_prompt("How long?", hits, generator, max_answer_tokens)
    assert len(packed) < len(hits)
    more, _ = pack_prompt("How long?", hits[: len(packed) + 1], FakeGenerator(10**6), 0)
    assert prompt_tokens(generator, more) + TEMPLATE_OVERHEAD_TOKENS > (
        context_tokens - max_answer_tokens
    )


def test_source_blocks_are_numbered_with_title_and_pages():
    hits = [hit(1, page_start=3), hit(2, page_start=3, page_end=4), hit(3, page_start=7)]
    messages, packed = pack_prompt("Q?", hits, FakeGenerator(), max_answer_tokens=50)
    assert packed == hits
    user = messages[1]["content"]
    assert "[1] Doc 1 (page 3)\nw1_0 " in user
    assert "[2] Doc 2 (pages 3-4)\nw2_0 " in user
    assert "[3] Doc 3 (page 7)\nw3_0 " in user
    assert user.index("[1] Doc 1") < user.index("[2] Doc 2") < user.index("[3] Doc 3")
    assert source_block(5, hits[1]) == f"[5] Doc 2 (pages 3-4)\n{hits[1].text}"


def test_nothing_fits_gives_an_empty_pack():
    messages, packed = pack_prompt("Q?", [hit(1, 5000)], FakeGenerator(512), 64)
    assert packed == []
    assert "w1_0" not in messages[1]["content"]


def test_citations_are_numbered_in_hit_order():
    hits = [hit(1, page_start=2, page_end=3), hit(2, page_start=9)]
    citations = citations_for(hits)
    assert [c.n for c in citations] == [1, 2]
    assert [c.document_id for c in citations] == [1, 2]
    assert [c.page for c in citations] == [2, 9]
    assert citations[0].title == "Doc 1" and citations[0].path == "folder/doc1.pdf"
    assert citations[0].file_name == "doc1.pdf"  # beside the title, from the reader-safe path
    assert citations[0].score == round(hits[0].score, 4) == 0.9001
    assert citations_for([]) == []


def with_text(text: str) -> Hit:
    return Hit(1, 0.5, text, 1, 1, 1, "T", "t.txt")


def test_snippet_collapses_whitespace():
    (citation,) = citations_for([with_text("  Line one\n\n\tline   two  ")])
    assert citation.snippet == "Line one line two"


def test_long_snippet_is_cut_at_a_word_with_an_ellipsis():
    text = " ".join(f"word{i}" for i in range(200))
    (citation,) = citations_for([with_text(text)])
    assert citation.snippet.endswith(" …")
    body = citation.snippet.removesuffix(" …")
    assert len(body) <= SNIPPET_CHARS and len(body) > SNIPPET_CHARS - 10
    assert text.startswith(body + " ")  # whole words only


def test_snippet_edges():
    exact = "x" * SNIPPET_CHARS
    assert citations_for([with_text(exact)])[0].snippet == exact
    one_word = "y" * (SNIPPET_CHARS + 50)
    assert citations_for([with_text(one_word)])[0].snippet == "y" * SNIPPET_CHARS + " …"


@pytest.mark.parametrize("hits", [[], [hit(1, 5000)]], ids=["no-hits", "none-fit"])
def test_start_answer_without_sources_never_calls_the_llm(hits):
    generator = FakeGenerator(context_tokens=512)
    started = start_answer("Where is it?", hits, generator, max_answer_tokens=64)
    assert started.found is False
    assert started.citations == []
    assert "".join(started.tokens) == NOT_FOUND
    assert generator.calls == []


def test_start_answer_streams_with_the_packed_citations():
    generator = FakeGenerator(context_tokens=300, words=("It", " is", " due [1]."))
    hits = [hit(1, 60), hit(2, 60), hit(3, 400)]
    started = start_answer("When?", hits, generator, max_answer_tokens=50)
    assert started.found is True
    assert [c.document_id for c in started.citations] == [1, 2]
    assert "".join(started.tokens) == "It is due [1]."
    assert len(generator.calls) == 1
    messages, max_tokens = generator.calls[0]
    assert max_tokens == 50
    assert "[2] Doc 2" in messages[1]["content"] and "Doc 3" not in messages[1]["content"]


@pytest.mark.parametrize(("requested", "used"), [(None, 50), (10, 10), (500, 50)])
def test_a_request_may_lower_the_answer_length_never_raise_it(requested, used):
    generator = FakeGenerator(context_tokens=300)
    limits = GenerationLimits(max_tokens=requested)
    started = start_answer("When?", [hit(1, 60)], generator, max_answer_tokens=50, limits=limits)
    assert started.found
    assert generator.calls[0][1] == used
    # The sources are packed for the configured maximum whatever the request asks.
    unlimited = FakeGenerator(context_tokens=300)
    start_answer("When?", [hit(1, 60)], unlimited, max_answer_tokens=50)
    assert generator.calls[0][0] == unlimited.calls[0][0]


class ReportingSource:
    """A backend stream that reports how it ended once read to the end."""

    def __init__(self, pieces):
        self._pieces = iter(pieces)
        self.usage = None
        self.finish_reason = None

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._pieces)
        except StopIteration:
            self.usage, self.finish_reason = (7, 3), "length"
            raise


def test_a_restored_answer_reports_its_generations_usage_once_read():
    source = ReportingSource(["Ask ", "<PERSON_", "1234abcd>", "."])
    answer = Answer([], True, restore_pieces(source, ORIGINALS), generation=source)
    assert answer.usage() == Usage(prompt_tokens=0, completion_tokens=0)
    assert not answer.cut_at_max_tokens()
    assert answer.read() == "Ask Alice Martin."
    assert answer.usage() == (7, 3)
    assert answer.cut_at_max_tokens()


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["The boss is <PER", "SON_1234abcd>", "."], "The boss is Alice Martin."),
        (["<", "PERSON_", "1234ab", "cd", ">!"], "Alice Martin!"),
        (
            [f"Mail {EMAIL[:3]}", f"{EMAIL[3:]} or {PERSON[:9]}", PERSON[9:]],
            "Mail alice@example.com or Alice Martin",
        ),
        (["a < b", " and c > d"], "a < b and c > d"),
        (["x <", " " + "y" * 60, " z"], "x < " + "y" * 60 + " z"),
        (["Unknown <PERSON_", "ffffffff> here"], "Unknown <PERSON_ffffffff> here"),
        (["Trailing <PERS"], "Trailing <PERS"),
        ([f"{PERSON}{PERSON}", ""], "Alice MartinAlice Martin"),
    ],
)
def test_restore_pieces(pieces, expected):
    assert "".join(restore_pieces(iter(pieces), ORIGINALS)) == expected
    # Restoring the stream equals restoring the whole text at once.
    assert restore_pseudonyms("".join(pieces), ORIGINALS) == expected


def test_restore_stream_yields_text_before_a_token_without_waiting():
    consumed: list[str] = []

    def pieces():
        for piece in ["The boss is <PER", "SON_1234abcd>", "."]:
            consumed.append(piece)
            yield piece

    stream = restore_pieces(pieces(), ORIGINALS)
    assert next(stream) == "The boss is "
    assert consumed == ["The boss is <PER"]
    assert list(stream) == ["Alice Martin", "."]


def test_restore_stream_does_not_hold_a_stray_angle_bracket_for_long():
    consumed: list[str] = []

    def pieces():
        for piece in ["if a <", " b then", " " + "c" * 45, " and more", " and the end"]:
            consumed.append(piece)
            yield piece

    for out in restore_pieces(pieces(), ORIGINALS):
        if "<" in out:
            assert len(consumed) < 5, "the '<' was held back until the stream ended"
            break
    else:
        pytest.fail("the '<' never came out")


def test_restore_stream_without_originals_passes_pieces_through():
    pieces = ["a <PER", "SON_1234abcd>", " b"]
    assert list(restore_pieces(iter(pieces), {})) == pieces


def test_source_tokens_caps_the_sources_even_with_room_left():
    generator = FakeGenerator(context_tokens=10**6)
    hits = [hit(1, 60), hit(2, 60), hit(3, 60)]
    # Each block costs 60 words + "[n] Doc n (page 1)" (5 words) = 65 "tokens".
    _, packed = pack_prompt("Q?", hits, generator, 50, source_tokens=140)
    assert packed == hits[:2]
    _, all_of_them = pack_prompt("Q?", hits, generator, 50)
    assert all_of_them == hits


def test_the_best_source_goes_in_past_the_cap():
    generator = FakeGenerator(context_tokens=10**6)
    hits = [hit(1, 60), hit(2, 10)]
    # A cap below the first block still gives the model its best source, and only it.
    _, packed = pack_prompt("Q?", hits, generator, 50, source_tokens=20)
    assert packed == hits[:1]
    started = start_answer("Q?", hits, generator, 50, source_tokens=20)
    assert started.found and len(started.citations) == 1


def _quote(n: int, text: str):
    from rag.quotes import Quote

    return Quote(n, text, 0, len(text), 0.5)


def test_quotes_open_the_prompt_when_asked():
    generator = FakeGenerator(context_tokens=2000)
    hits = [hit(1, 60), hit(2, 60)]
    seen = []

    def find_quotes(passages):
        seen.append(passages)
        return [_quote(2, "w2_3 w2_4"), _quote(1, "w1_7")]

    started = start_answer(
        "When?", hits, generator, 50, find_quotes=find_quotes, quotes_in_prompt=True
    )
    assert seen == [[h.text for h in hits]]  # quotes come from the packed passages
    assert [q.citation for q in started.quotes] == [2, 1]
    user = generator.calls[0][0][-1]["content"]
    assert user.startswith("Most relevant:\n[2] w2_3 w2_4\n[1] w1_7\n\nSources:\n\n[1] Doc 1")
    # Without quotes_in_prompt the answer still carries them, the prompt does not.
    plain = FakeGenerator(context_tokens=2000)
    started = start_answer("When?", hits, plain, 50, find_quotes=find_quotes)
    assert [q.citation for q in started.quotes] == [2, 1]
    assert plain.calls[0][0][-1]["content"].startswith("Sources:\n\n[1] Doc 1")


def test_quotes_in_the_prompt_stay_within_the_context():
    from rag.answer import QUOTE_RESERVE_TOKENS

    context = 600
    generator = FakeGenerator(context_tokens=context)
    hits = [hit(n, 40) for n in range(1, 12)]
    long_quote = " ".join(["w"] * (QUOTE_RESERVE_TOKENS - 10))
    started = start_answer(
        "When?",
        hits,
        generator,
        50,
        find_quotes=lambda passages: [_quote(1, long_quote), _quote(2, long_quote)],
        quotes_in_prompt=True,
    )
    messages = generator.calls[0][0]
    assert prompt_tokens(generator, messages) + TEMPLATE_OVERHEAD_TOKENS <= context - 50 + 1
    assert messages[-1]["content"].count(long_quote) == 1  # the second did not fit
    assert len(started.quotes) == 2


def test_the_quotes_alone_make_the_prompt_without_sources_in_it():
    generator = FakeGenerator(context_tokens=2000)
    hits = [hit(1, 60), hit(2, 60)]
    started = start_answer(
        "When?",
        hits,
        generator,
        50,
        find_quotes=lambda passages: [_quote(2, "w2_3 w2_4")],
        quotes_in_prompt=True,
        sources_in_prompt=False,
    )
    user = generator.calls[0][0][-1]["content"]
    assert user == "Most relevant:\n[2] w2_3 w2_4\n\nQuestion: When?\nAnswer:"
    # The sources still give the citations and the passages the grounding check reads.
    assert [c.n for c in started.citations] == [1, 2]
    assert started.passages == [h.text for h in hits]


def test_a_table_row_in_the_prompt_holds_the_cells_the_question_asks_for():
    # A small model copies the figure of another period as often as the one asked for: the
    # prompt's row keeps its label and the asked-for cell; the quotes shown stay whole.
    from rag.quotes import Quote

    row = Quote(
        1,
        "Net income; Three Months Ended June 25, 2022: $19,442; "
        "Three Months Ended June 26, 2021: $21,744; Nine Months Ended June 25, 2022: $79,082",
        0,
        126,
        0.9,
        table_row=True,
    )
    prose = Quote(2, "Net income; the year before: $21,744 was a record.", 0, 49, 0.7)
    generator = FactConstrainedGenerator(context_tokens=2000)
    started = start_answer(
        "What was net income in the three months ended June 25, 2022?",
        [hit(1, 60), hit(2, 60)],
        generator,
        50,
        find_quotes=lambda passages: [row, prose],
        quotes_in_prompt=True,
        sources_in_prompt=False,
        facts_from_prompt=True,
    )
    user = generator.calls[0][0][-1]["content"]
    assert user.startswith(
        "Most relevant:\n[1] Net income; Three Months Ended June 25, 2022: $19,442\n"
        f"[2] {prose.text}\n\nQuestion:"
    )
    assert "19,442" in generator.facts
    assert "79,082" not in generator.facts  # the other cells' figures cannot be stated
    assert started.quotes == [row, prose]


def test_without_quotes_the_sources_stay_in_the_prompt_all_the_same():
    generator = FakeGenerator(context_tokens=2000)
    start_answer(
        "When?",
        [hit(1, 60)],
        generator,
        50,
        find_quotes=lambda passages: [],
        quotes_in_prompt=True,
        sources_in_prompt=False,
    )
    assert generator.calls[0][0][-1]["content"].startswith("Sources:\n\n[1] Doc 1")


def test_without_sources_in_the_prompt_their_cap_does_not_apply():
    # The cap is there to keep the prompt short: sources outside the prompt all give quotes.
    generator = FakeGenerator(context_tokens=2000)
    seen = []

    def find_quotes(passages):
        seen.append(passages)
        return [_quote(1, "w1_3")]

    hits = [hit(n, 60) for n in (1, 2, 3)]
    started = start_answer(
        "When?",
        hits,
        generator,
        50,
        source_tokens=70,
        find_quotes=find_quotes,
        quotes_in_prompt=True,
        sources_in_prompt=False,
    )
    assert seen == [[h.text for h in hits]]
    assert [c.n for c in started.citations] == [1, 2, 3]


class FactConstrainedGenerator(FakeGenerator):
    """A backend that can keep its answer to given names and numbers: records them."""

    constrains_facts = True

    def stream(self, messages, max_tokens: int, stop=None, facts=None) -> Iterator[str]:
        self.facts = facts
        return super().stream(messages, max_tokens, stop)


def _facts_hit() -> Hit:
    return Hit(1, 0.9, "Staff get 27 days of leave. Ask Ana Silva.", 3, 3, 1, "Leave 2024", "p.pdf")


def test_the_answer_may_state_the_names_and_numbers_of_its_question_and_sources():
    generator = FactConstrainedGenerator()
    start_answer(
        "How many days in Lyon?",
        [_facts_hit()],
        generator,
        50,
        history=[{"role": "user", "content": "Is it for Paris staff?"}],
        facts_from_prompt=True,
    )
    assert set(generator.facts) == {"How", "Lyon", "Is", "Paris", "Leave", "2024", "Staff"} | {
        "27",
        "Ask",
        "Ana",
        "Silva",
    }
    # The page ("(page 3)") and the source's number ("[1]") are layout, not figures to state.
    assert "3" not in generator.facts and "1" not in generator.facts


def test_with_the_quotes_alone_their_facts_are_what_the_answer_may_state():
    generator = FactConstrainedGenerator()
    start_answer(
        "How many days?",
        [_facts_hit()],
        generator,
        50,
        find_quotes=lambda passages: [_quote(1, "Staff get 27 days of leave.")],
        quotes_in_prompt=True,
        sources_in_prompt=False,
        facts_from_prompt=True,
    )
    assert set(generator.facts) == {"How", "Staff", "27"}  # not the unquoted name


def test_facts_go_only_to_a_backend_that_constrains_them_and_only_when_asked():
    off = FactConstrainedGenerator()
    start_answer("How many days?", [_facts_hit()], off, 50)
    assert off.facts is None
    plain = FakeGenerator()  # its stream() takes no facts: passing them would raise
    start_answer("How many days?", [_facts_hit()], plain, 50, facts_from_prompt=True)
    assert plain.calls
