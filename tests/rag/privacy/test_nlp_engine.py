"""spaCy with the entity recognizer on every text and the rest made on first read
(rag/privacy/nlp_engine.py): the same annotations as the full pipeline, made only where read;
texts in batches."""

from __future__ import annotations

import pytest
import spacy

from rag.config import Settings
from rag.privacy.anonymizer import Anonymizer, _nlp_engine
from rag.privacy.nlp_engine import DeferringSpacyNlpEngine, complete
from rag.privacy.recognizers.person_spans import expand

TEXTS = [
    "Ana Souza called Mr. Pearson at 212-555-0199 about the Q3 invoice.",
    "Net sales 21,213 19,604\nServices 19,604 17,486\nThe Company's results were unaudited.",
    "Contact Ana Souza\n$ 21,213 $ 19,604\n(1,234) —\n+44 20 7946 0958\nor Mr. Pearson.",
    "My name is Willemine ten Pas and I live on 12 Baker Street, London.",
    "Souza",  # one word: a heading
    # The parser's sentence boundaries bound the entities: without it "10. Rights" is one.
    "See Note 10. Rights as shareholders are limited.",
    "",
]


@pytest.fixture(scope="module")
def engine():
    return _nlp_engine(Settings().anonymize.spacy_model)


@pytest.fixture(scope="module")
def full_pipeline():
    return spacy.load(Settings().anonymize.spacy_model)


def _annotations(doc) -> list[tuple]:
    return [(t.text, t.tag_, t.dep_, t.head.i, t.pos_, t.lemma_, t.ent_type_) for t in doc]


def test_every_annotation_is_the_full_pipelines(engine, full_pipeline):
    artifacts = list(engine.process_many(TEXTS, "en"))
    assert len(artifacts) == len(TEXTS)
    for text, found in zip(TEXTS, artifacts, strict=True):
        expected = full_pipeline(text)
        assert [(e.start_char, e.end_char, e.label_) for e in found.tokens.ents] == [
            (e.start_char, e.end_char, e.label_) for e in expected.ents
        ]
        assert found.lemmas == [t.lemma_ for t in expected]
        assert _annotations(found.tokens) == _annotations(expected)


def test_tags_parse_part_of_speech_and_lemmas_are_made_only_when_read(engine):
    (artifacts,) = engine.process_many(["Ana Souza called at noon."], "en")
    doc = artifacts.tokens
    assert doc.ents
    for made_on_demand in ("TAG", "DEP", "POS", "LEMMA"):
        assert not doc.has_annotation(made_on_demand)
    assert artifacts.lemmas[2] == "call"
    assert all(doc.has_annotation(a) for a in ("TAG", "DEP", "POS", "LEMMA"))
    assert complete(doc) is doc  # run once: nothing pending any more


def test_the_old_engine_runs_the_parser_for_the_entities(full_pipeline):
    """on_demand of the attribute ruler and lemmatizer only: the engine of before
    (bench/anonymizer_ab.py's "before")."""
    old = DeferringSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": Settings().anonymize.spacy_model}],
        on_demand=("attribute_ruler", "lemmatizer"),
    )
    old.load()
    (artifacts,) = old.process_many([TEXTS[0]], "en")
    assert artifacts.tokens.has_annotation("DEP") and not artifacts.tokens.has_annotation("POS")
    assert _annotations(complete(artifacts.tokens)) == _annotations(full_pipeline(TEXTS[0]))


def test_expand_reads_part_of_speech_only_beside_a_name_like_word(engine):
    (plain,) = engine.process_many(["the invoice was sent by Souza yesterday"], "en")
    souza = plain.tokens.text.index("Souza")
    assert expand(souza, souza + 5, plain.tokens, {"the"}) == (souza, souza + 5)
    assert not plain.tokens.has_annotation("POS")  # no capitalized word beside it

    (named,) = engine.process_many(["Please ask Ana Souza today."], "en")
    souza = named.tokens.text.index("Souza")
    assert expand(souza, souza + 5, named.tokens, set()) == (souza - 4, souza + 5)
    assert named.tokens.has_annotation("POS")


def test_many_texts_find_what_each_finds_alone(anonymizer):
    texts = [*TEXTS, "x " * 50 + "Contact Priya Raman at priya.raman@example.com. " * 3]
    small = Anonymizer(Settings().anonymize, secret=b"k", window_chars=120, window_overlap=40)
    together = small.find_many(texts)
    assert together == [small.find(text) for text in texts]
    assert together[-1] and together[0]  # the long text went through several windows
    assert [r.text for r in anonymizer.anonymize_many(texts)] == [
        anonymizer.anonymize(text).text for text in texts
    ]


def test_the_models_multiply_through_numpys_blas_not_thinc_s_blis(engine):
    # BLIS's kernels ran at a third of OpenBLAS's speed on the AVX-512 machines here.
    nodes = [
        node
        for _, component in engine.nlp["en"].components
        if getattr(component, "model", None) is not None
        for node in component.model.walk()
    ]
    assert nodes
    assert all(getattr(node.ops, "use_blis", False) is False for node in nodes)
