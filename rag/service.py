"""Wires the parts together once per process.

Each model loads on first use, so `rag ingest` never loads the LLM; `load_all` loads
everything up front so the server fails at startup, not at the first question, when a model
is missing. Heavy imports (torch, presidio, llama.cpp) happen inside the parts' constructors.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from ingest.pipeline import IngestPipeline
from ingest.protect_paths import protect_stored_paths
from ingest.reembed import check_vectors, embedding_fingerprint, stored_fingerprint
from ingest.reprocess import stored_pseudonym_chars
from ingest.worker import Worker
from rag.access import Caller, document_visible
from rag.answer import Answer, GenerationLimits, start_answer
from rag.config import EmbeddingSettings, Settings
from rag.conversations import ConversationStore, OriginalsCipher
from rag.db.migrate import current_revision, head_revision, upgrade_embedded
from rag.db.session import make_engine, make_session_factory, transaction
from rag.devices import resolve_index_device
from rag.embed import Embedder, load_embedder
from rag.embed.backend_choice import resolve_backend
from rag.follow_up import earlier_question
from rag.index import VectorIndex
from rag.index.gpu_mirror import GpuMirror, gpu_flat_factory
from rag.llm import Generator, build_generator
from rag.llm.base import ChatMessage
from rag.privacy.anonymizer import AnonymizedText, Anonymizer
from rag.privacy.path_vault import PathVault
from rag.privacy.pseudonyms import asker_values, restore_pieces, restore_pseudonyms
from rag.privacy.secret import load_or_create_secret
from rag.private_files import make_private
from rag.quotes import QuoteFinder, SentenceQuotes, restore_quotes
from rag.retrieve import Hit, Retriever
from rag.stored_values import (
    TypedQuestion,
    add_stored_parts,
    hide_stored_values,
    tokens_in_store,
    typed_question,
)
from rag.use_cases.documents import Documents
from rag.use_cases.jobs import Jobs
from rag.use_cases.keys import Keys
from rag.use_cases.sources import Sources

log = logging.getLogger(__name__)

# Conversation turns an answer may see (3 exchanges of question and answer).
MAX_HISTORY_TURNS = 6
HEAD_REVISION = head_revision()
# Once the embedding model changed, how soon queries notice that the re-embed has finished.
VECTOR_CHECK_S = 30.0


class SchemaOutOfDate(RuntimeError):
    pass


class RagService:
    """Parts may be passed in (tests share loaded models between services); the others are
    built from the settings on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        anonymizer: Anonymizer | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings
        make_private(self.settings.data_dir)
        self.engine = make_engine(settings.resolved_database_url)
        self.session_factory = make_session_factory(self.engine)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._anonymizer = anonymizer
        self._generator = generator
        self._quotes: QuoteFinder | None = None
        self._index: VectorIndex | None = None
        self._path_vault: PathVault | None = None
        self._vectors_current = True
        self._vectors_checked_at: float | None = None
        self._pseudonym_chars: int | None = None
        self._pseudonyms_checked_at: float | None = None
        self._conversations: ConversationStore | None = None

    def check_schema(self) -> None:
        """SQLite migrates itself here; PostgreSQL at an older revision is refused."""
        if upgrade_embedded(self.settings.resolved_database_url):
            make_private(self.settings.data_dir)  # the database file it may just have made
        revision = current_revision(self.settings.resolved_database_url)
        if revision != HEAD_REVISION:
            raise SchemaOutOfDate(
                f"database schema is at {revision or 'nothing'}, expected {HEAD_REVISION}: "
                "run `rag db upgrade`"
            )

    @property
    def embedder(self) -> Embedder:
        """The configured embedder; `auto` as this store chose it: the runtime that made its
        vectors, or for a store without any this machine's faster one (backend_choice.py)."""
        if self._embedder is None:
            with self._embedder_lock:  # one load, however many requests ask at once
                if self._embedder is None:
                    self._embedder = load_embedder(self._resolved_embedding())
        return self._embedder

    def _resolved_embedding(self) -> EmbeddingSettings:
        embedding = self.settings.embedding
        if embedding.backend != "auto":
            return embedding
        with transaction(self.session_factory) as session:
            return resolve_backend(embedding, stored_fingerprint(session))

    def secret(self) -> bytes:
        """The key pseudonyms, path hashes and the other keyed values derive from."""
        return load_or_create_secret(self.settings.anonymize.secret_key, self.settings.data_dir)

    @property
    def anonymizer(self) -> Anonymizer:
        if self._anonymizer is None:
            self._anonymizer = Anonymizer(self.settings.anonymize, self.secret())
        return self._anonymizer

    @property
    def path_vault(self) -> PathVault:
        """Documents' raw paths: encrypted, and looked up by a keyed hash."""
        if self._path_vault is None:
            self._path_vault = PathVault(self.secret())
        return self._path_vault

    @property
    def question_anonymizer(self) -> Anonymizer:
        """The anonymizer for questions: pseudonyms in the length the stored documents use
        (a store of 32-bit pseudonyms keeps answering until the reprocess job has made it
        again). Looked up at most every VECTOR_CHECK_S seconds."""
        now = time.monotonic()
        checked = self._pseudonyms_checked_at
        if checked is None or now - checked > VECTOR_CHECK_S:
            with self.session_factory() as session:
                self._pseudonym_chars = stored_pseudonym_chars(session)
            self._pseudonyms_checked_at = now
        chars = self._pseudonym_chars or self.anonymizer.pseudonym_chars
        return self.anonymizer.with_pseudonym_chars(chars)

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = build_generator(self.settings.llm)
        return self._generator

    @property
    def quotes(self) -> QuoteFinder:
        """Picks an answer's quotes from its passages (with the embedding model)."""
        if self._quotes is None:
            self._quotes = SentenceQuotes(self.embedder)
        return self._quotes

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            index = VectorIndex(
                self.settings.index_dir,
                self.embedder.dimension,
                self.embedder.model_name,
                gpu_mirror=self._gpu_mirror(),
            )
            with self.session_factory() as session:
                index.load(session)
            self._index = index
        return self._index

    def _gpu_mirror(self) -> GpuMirror | None:
        retrieval = self.settings.retrieval
        if resolve_index_device(retrieval.index_device) != "cuda":
            return None
        log.info("dense search on the GPU (refresh at most every %ss)", retrieval.gpu_refresh_s)
        return GpuMirror(gpu_flat_factory(), retrieval.gpu_refresh_s)

    @property
    def retriever(self) -> Retriever:
        dense_enabled = self.vectors_current()  # first: it may switch the embedder
        return Retriever(
            self.session_factory,
            self.index,
            self.embedder,
            self.settings.retrieval,
            dense_enabled=dense_enabled,
        )

    def vectors_current(self) -> bool:
        """Whether the stored vectors were made by the configured embedding model. If not, a
        re-embed job is queued and retrieval is full-text only until it has finished, rather
        than comparing vectors of two models. Checked at most every VECTOR_CHECK_S seconds."""
        now = time.monotonic()
        if self._vectors_checked_at is None or now - self._vectors_checked_at > VECTOR_CHECK_S:
            self._follow_the_stores_runtime()
            fingerprint = embedding_fingerprint(self.embedder.settings, self.embedder)
            self._vectors_current = check_vectors(self.session_factory, fingerprint)
            self._vectors_checked_at = now
        return self._vectors_current

    def _follow_the_stores_runtime(self) -> None:
        """With `auto`, a process on a CPU that chose the other runtime may have filled the
        store after this one chose for it empty: the store's runtime is taken then, rather
        than writing or re-embedding vectors that the other process would undo."""
        if self.settings.embedding.backend != "auto" or self._embedder is None:
            return
        wanted = self._resolved_embedding()
        if wanted.backend == self._embedder.settings.backend:
            return
        with self._embedder_lock:
            if self._embedder.settings.backend == wanted.backend:
                return  # another request switched it meanwhile
            log.info("the store's vectors were made with %s: embedding with it", wanted.backend)
            embedder = load_embedder(wanted)
            self._embedder, self._quotes = embedder, None

    @property
    def pipeline(self) -> IngestPipeline:
        self._follow_the_stores_runtime()  # a worker's next job embeds as the store does
        return IngestPipeline(
            self.settings, self.session_factory, self.embedder, self.anonymizer, self.path_vault
        )

    # -- use cases for the adapters (rag/use_cases/) ---------------------------------------

    @property
    def sources(self) -> Sources:
        return Sources(self.session_factory, self.settings.ingest.allowed_roots)

    @property
    def jobs(self) -> Jobs:
        return Jobs(self.session_factory, self.path_vault)

    @property
    def documents(self) -> Documents:
        # The parts load only when a use case needs them (a listing needs none).
        return Documents(
            self.session_factory,
            self.settings,
            vault=lambda: self.path_vault,
            anonymizer=lambda: self.anonymizer,
            pipeline=lambda: self.pipeline,
        )

    @property
    def keys(self) -> Keys:
        return Keys(self.session_factory, self.secret)

    @property
    def conversations(self) -> ConversationStore:
        """The chat page's conversations, one store per service."""
        if self._conversations is None:
            self._conversations = ConversationStore(
                self.session_factory,
                OriginalsCipher(self.secret()),
                max_restored=self.settings.anonymize.max_restored_values,
            )
        return self._conversations

    def catch_up_index(self) -> None:
        """Replay the index log up to now (a readiness check shows the index current)."""
        with self.session_factory() as session:
            self.index.catch_up(session)

    def worker(self) -> Worker:
        """A worker for this service's database; models load when a job needs them."""
        return Worker(
            self.settings.worker,
            self.session_factory,
            lambda: self.pipeline,
            scan_interval_s=self.settings.ingest.scan_interval_s,
        )

    def load_all(self) -> None:
        self.check_schema()
        for part in ("embedder", "anonymizer", "index", "generator"):
            getattr(self, part)
        # Rows stored before migration 0006 get their paths encrypted and anonymized.
        protect_stored_paths(self.session_factory, self.path_vault, self.anonymizer)
        self.vectors_current()  # a changed embedding model queues its re-embed at startup
        self.pipeline.check_version()  # a changed pipeline queues the reprocess job

    # -- asking ----------------------------------------------------------------------------

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        caller: Caller | None = None,
        history: list[ChatMessage] | None = None,
        limits: GenerationLimits | None = None,
        earlier_values: list[dict[str, str]] | None = None,
    ) -> Answer:
        """Answer for `caller`, streamed: the question is pseudonymized once, searched,
        answered, and the asker's own values are put back in the citations and the text.

        `caller` limits retrieval to the documents it may see (None: all of them);
        `history` holds earlier turns of a conversation, oldest first; `limits` may shorten
        the answer or add stop strings (rag.answer.GenerationLimits); `earlier_values`: the
        asker's values of earlier turns whose stored text is pseudonymized already (the chat
        page's), newest turn first. The answer's `question` is the pseudonymized question."""
        anonymizer = self.question_anonymizer
        pseudonymized = self.pseudonymize_question(question, caller)
        # The model sees one pseudonym per value across the turns; the chat page's stored
        # history is pseudonymized already (idempotent), an OpenAI client's is raw. Only the
        # newest turns: older ones rarely fit the prompt, and each costs a detection pass.
        typed: list[dict[str, str]] = []  # the asker's values, per user turn, oldest first
        turns: list[ChatMessage] = []
        for turn in (history or [])[-MAX_HISTORY_TURNS:]:
            anonymized = anonymizer.anonymize(turn["content"])
            if turn["role"] == "user":  # an assistant turn's values are no one's to restore
                typed.append(anonymized.originals)
            turns.append({"role": turn["role"], "content": anonymized.text})
        # Only values the asker typed, this question's first, then the newest turns', capped.
        originals = asker_values(
            [pseudonymized.originals, *reversed(typed), *(earlier_values or [])],
            self.settings.anonymize.max_restored_values,
        )
        # A follow-up is searched, and its quotes chosen, with the question it follows.
        searched = self.searched_text(pseudonymized.text, turns)
        typed = self.typed_question(pseudonymized, caller)
        if typed is not None:
            typed = replace(typed, embedded=self.searched_text(typed.embedded, turns))
        hits = self.retriever.search(searched, top_k, caller=caller, typed=typed)
        answer = start_answer(
            pseudonymized.text,
            hits,
            self.generator,
            self.settings.llm.max_tokens,
            history=turns,
            limits=limits,
            source_tokens=self.settings.answer.source_tokens,
            find_quotes=lambda passages: self.quotes.find(searched, passages),
            quotes_in_prompt=self.settings.answer.quotes_in_prompt,
            sources_in_prompt=self.settings.answer.sources_in_prompt,
            facts_from_prompt=self.settings.answer.facts_from_sources,
        )
        quotes = answer.quotes
        return replace(
            answer,
            citations=[
                replace(c, snippet=restore_pseudonyms(c.snippet, originals))
                for c in answer.citations
            ],
            tokens=restore_pieces(answer.tokens, originals),
            question=pseudonymized,
            passages=[restore_pseudonyms(p, originals) for p in answer.passages],
            quotes=restore_quotes(quotes, answer.passages, originals),
            replace_unsupported=self.settings.answer.unsupported == "quotes",
            asked=restore_pseudonyms(pseudonymized.text, originals),
        )

    def ask(self, question: str, top_k: int | None = None, caller: Caller | None = None) -> Answer:
        """Answer for `caller`, read to the end (`text`)."""
        answer = self.ask_stream(question, top_k, caller=caller)
        answer.read()
        return answer

    def search_for(self, question: str, top_k: int | None, caller: Caller | None) -> list[Hit]:
        """The passages a raw question retrieves for `caller`, with only the asker's own values
        shown as themselves (as in answers, and only a few)."""
        pseudonymized = self.pseudonymize_question(question, caller)
        typed = self.typed_question(pseudonymized, caller)
        hits = self.retriever.search(pseudonymized.text, top_k, caller=caller, typed=typed)
        originals = asker_values(
            [pseudonymized.originals], self.settings.anonymize.max_restored_values
        )
        return [replace(hit, text=restore_pseudonyms(hit.text, originals)) for hit in hits]

    def pseudonymize_question(self, question: str, caller: Caller | None = None) -> AnonymizedText:
        """The question as it is searched and shown to the model: the personal data the
        anonymizer finds, and the words the caller's documents hold only as pseudonyms
        (rag/stored_values.py), replaced by their tokens."""
        anonymizer = self.question_anonymizer
        pseudonymized = anonymizer.anonymize(question)
        if not (
            self.settings.anonymize.enabled and self.settings.anonymize.stored_values_in_questions
        ):
            return pseudonymized
        stored = tokens_in_store(self.session_factory, document_visible(caller))
        types, pseudonymize = anonymizer.word_types, anonymizer.pseudonymize
        with_parts = add_stored_parts(pseudonymized, types, pseudonymize, stored)
        return hide_stored_values(with_parts, types, pseudonymize, stored)

    def typed_question(
        self, pseudonymized: AnonymizedText, caller: Caller | None = None
    ) -> TypedQuestion | None:
        """The question's hidden words as the asker typed them, for ranking (None: nothing to
        add). The dense leg embeds them instead of their tokens: those the caller's documents
        hold kept as tokens ("unheld"), written and kept ("typed_and_held") or not kept ("all";
        `anonymize.typed_words_embedded`); the words are also matched on the candidates' text
        (`retrieval.unheld_words_weight`, `held_words_weight`). In-process only: never sent to
        SQL, logged or shown (rag/stored_values.py: typed_question)."""
        mode = self.settings.anonymize.typed_words_embedded
        if not (self.settings.anonymize.enabled and mode != "off" and pseudonymized.originals):
            return None
        stored = tokens_in_store(self.session_factory, document_visible(caller))
        held = stored(sorted(pseudonymized.originals))
        return typed_question(pseudonymized, self.question_anonymizer.word_types, held, mode)

    def search(
        self,
        pseudonymized_question: str,
        top_k: int | None = None,
        caller: Caller | None = None,
        history: list[ChatMessage] | None = None,
    ) -> list[Hit]:
        """The passages to answer from. A follow-up ("and for managers?") is searched with the
        asker's previous question (rag/follow_up.py); `history` is pseudonymized, as
        everything searched is."""
        text = self.searched_text(pseudonymized_question, history)
        return self.retriever.search(text, top_k, caller=caller)

    @staticmethod
    def searched_text(pseudonymized_question: str, history: list[ChatMessage] | None) -> str:
        """What a question is searched with: a follow-up with the question it follows."""
        earlier = earlier_question(pseudonymized_question, history)
        if earlier is None:
            return pseudonymized_question
        return f"{earlier}\n{pseudonymized_question}"

    def close(self) -> None:
        if self._index is not None:
            self._index.save()
        self.engine.dispose()
