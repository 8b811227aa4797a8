"""spaCy for Presidio: the named-entity recognizer on every text, the rest only where read.

spaCy's small English pipeline runs tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner.
Of those, only the entity recognizer (with its own tok2vec) is read for every text: Presidio's
PERSON, and the places the name recognizers check. The rest is read for few texts: lemmas by
Presidio's context enhancer when a recognizer with context words found something, part of
speech by `person_spans.expand` beside a one-word PERSON, the parse by
`person_mentions._names_a_thing` for a repeated part of a name (bench/RESULTS.md, issue 19). So
they run on first read (`complete`), on the document as the tokenizer made it: every token
annotation is the one the full pipeline gives (tests/rag/privacy/test_nlp_engine.py).

The entity recognizer needs sentence boundaries ("10. Rights as" is no entity across two
sentences). The parser gave them; here the model's own sentence segmenter (`senter`, a tagger
with a tok2vec of width 16, a few per cent of the parser's cost) does. Its boundaries are
forgotten before an on-demand parse, which then is the full pipeline's.

Texts go through `nlp.pipe` in batches (`process_many`): the short headings and titles of a
document cost a fraction of one call each.

The models' matrix products go through numpy's BLAS (OpenBLAS) instead of thinc's bundled BLIS:
on the AVX-512 machines of bench/RESULTS.md BLIS's kernels ran at a third of OpenBLAS's speed
on one core, and the entity recognizer took 24 % less time with the same entities.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc
from thinc.api import NumpyOps

# Run on first read, in this order (the pipeline's): what the entity recognizer does not need.
ON_DEMAND = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
SENTENCES = "senter"  # shipped disabled in the small English models
_PENDING = "rag.pending_components"
BATCH_SIZE = 16


def complete(doc: Doc) -> Doc:
    """`doc` with the on-demand components run (at most once): tags, parse, part of speech and
    lemmas."""
    pending = doc.user_data.pop(_PENDING, None)
    for component in pending or ():
        doc = component(doc)
    return doc


class DeferringSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with the components of `on_demand` run on first read.

    When the parser is among them, the sentence segmenter gives the entity recognizer its
    boundaries (a model without a segmenter keeps its parser for that). `on_demand` of only
    the attribute ruler and lemmatizer is the engine of before issue 19's last step
    (bench/anonymizer_ab.py compares them).
    """

    def __init__(self, *args, on_demand: tuple[str, ...] = ON_DEMAND, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_demand_names = on_demand

    def load(self) -> None:
        super().load()
        for nlp in self.nlp.values():
            _multiply_with_numpy(nlp)
        self._on_demand: dict[str, list] = {}
        for language, nlp in self.nlp.items():
            names = [name for name in nlp.pipe_names if name in self._on_demand_names]
            sentences = "parser" in names and SENTENCES in nlp.component_names
            if "parser" in names and not sentences:
                names = [n for n in names if n not in ("tok2vec", "tagger", "parser")]
            on_demand = [nlp.get_pipe(name) for name in names]
            for name in names:
                nlp.disable_pipe(name)
            if sentences:
                nlp.enable_pipe(SENTENCES)
                on_demand.insert(0, _forget_sentences)
            self._on_demand[language] = on_demand

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self._doc_to_nlp_artifact(self.nlp[language](text), language)

    def process_many(
        self, texts: Iterable[str], language: str, batch_size: int = BATCH_SIZE
    ) -> Iterator[NlpArtifacts]:
        """Artifacts of each text in order, computed `batch_size` texts at a time."""
        for doc in self.nlp[language].pipe(texts, batch_size=batch_size):
            yield self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        if self._on_demand.get(language):
            doc.user_data[_PENDING] = list(self._on_demand[language])
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return DeferredNlpArtifacts(doc, entities, scores, self, language)


def _multiply_with_numpy(nlp) -> None:
    """Every layer of every component on numpy's BLAS (`use_ops` around the load misses the
    parsers' outer layers, which are made apart)."""
    numpy_blas = NumpyOps(use_blis=False)
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        for node in model.walk() if model is not None else ():
            node.ops = numpy_blas


def _forget_sentences(doc: Doc) -> Doc:
    """The segmenter's boundaries unset: the parser then parses as in the full pipeline
    (where nothing sets them before it) instead of keeping to them."""
    for token in doc[1:]:
        token.is_sent_start = None
    return doc


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
