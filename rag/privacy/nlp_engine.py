"""spaCy for Presidio, paying for part-of-speech and lemmas only where a text needs them.

spaCy's small English pipeline runs tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner.
The attribute ruler (part-of-speech from the tags) and the lemmatizer are a sixth of its time
(bench/RESULTS.md, issue 19), and their output is read for few texts: lemmas by Presidio's
context enhancer only when a recognizer with context words found something, and part of
speech by `person_spans.expand` only for a one-word PERSON span. So they run after the rest,
on the first read (`complete`). Nothing before the named-entity recognizer reads what they
write, so every annotation is the one the full pipeline gives (tests/rag/privacy/
test_nlp_engine.py compares them). The parser stays in the pipeline: its sentence boundaries
bound the named entities ("10. Rights as" is no entity across two sentences).

Texts go through `nlp.pipe` in batches (`process_many`): the short headings and titles of a
document cost a fraction of one call each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc

# Run on first read, in this order (the pipeline's).
DEFERRED = ("attribute_ruler", "lemmatizer")
_PENDING = "rag.pending_components"
BATCH_SIZE = 16


def complete(doc: Doc) -> Doc:
    """`doc` with the deferred components run (at most once): part of speech and lemmas."""
    pending = doc.user_data.pop(_PENDING, None)
    for component in pending or ():
        doc = component(doc)
    return doc


class DeferringSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with the components of DEFERRED run on demand."""

    def load(self) -> None:
        super().load()
        self._deferred: dict[str, list] = {}
        for language, nlp in self.nlp.items():
            names = [name for name in nlp.pipe_names if name in DEFERRED]
            self._deferred[language] = [nlp.get_pipe(name) for name in names]
            for name in names:
                nlp.disable_pipe(name)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self._doc_to_nlp_artifact(self.nlp[language](text), language)

    def process_many(
        self, texts: Iterable[str], language: str, batch_size: int = BATCH_SIZE
    ) -> Iterator[NlpArtifacts]:
        """Artifacts of each text in order, computed `batch_size` texts at a time."""
        for doc in self.nlp[language].pipe(texts, batch_size=batch_size):
            yield self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        if self._deferred.get(language):
            doc.user_data[_PENDING] = list(self._deferred[language])
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return DeferredNlpArtifacts(doc, entities, scores, self, language)


class DeferredNlpArtifacts(NlpArtifacts):
    """NlpArtifacts whose lemmas (and the keywords made of them) are made on first read."""

    def __init__(self, doc: Doc, entities, scores, engine, language: str) -> None:
        # Not NlpArtifacts.__init__: it reads every lemma at once.
        self.entities = entities
        self.tokens = doc
        self.tokens_indices = [token.idx for token in doc]
        self.nlp_engine = engine
        self.scores = scores if scores else [0.85] * len(entities)
        self._language = language
        self._lemmas: list[str] | None = None
        self._keywords: list[str] | None = None

    @property
    def lemmas(self) -> list[str]:
        if self._lemmas is None:
            self._lemmas = [token.lemma_ for token in complete(self.tokens)]
        return self._lemmas

    @property
    def keywords(self) -> list[str]:
        if self._keywords is None:
            self._keywords = self.set_keywords(self.nlp_engine, self.lemmas, self._language)
        return self._keywords
