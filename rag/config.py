"""The one configuration object: defaults < config file < environment < arguments.

The config file is TOML at ``$RAG_CONFIG`` or ``$RAG_HOME/config.toml``; environment variables are
``RAG_<FIELD>`` in upper case (e.g. ``RAG_EMBEDDER``, ``RAG_TOP_K``).

>>> cfg = Config.load(top_k=3)
>>> cfg.top_k
3
>>> cfg.with_overrides(rrf_k=10).rrf_k
10
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from rag.errors import ConfigError

DEFAULT_EMBEDDER = "multilingual-e5-small"


def default_home() -> Path:
    """`$RAG_HOME`, else the user's data directory (XDG)."""
    if os.environ.get("RAG_HOME"):
        return Path(os.environ["RAG_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag-articles"


@dataclass(frozen=True)
class Config:
    """Every knob of the project, with defaults that work on the bundled sample articles."""

    home: Path = dataclasses.field(default_factory=default_home)
    # Where provisioned models live (default: $RAG_HOME/models); shared by several homes in tests.
    models_path: Path | None = None
    # Embedding model: the packaged multilingual-e5-small, or any sentence-transformers name/path.
    embedder: str = DEFAULT_EMBEDDER
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    embed_batch_size: int = 32
    # ... and at most this many characters per batch once padded to its longest text (long chunks go a few
    # at a time: faster on CPU, see rag.embedder.length_batches)
    embed_batch_chars: int = 1600
    # How the index is embedded (ingest, and the questions searched). "int8" quantizes the model's linear
    # layers (dynamic; ranking agreement with fp32 checked in tests/test_embedder.py); "fp32" is the reference.
    # sentence_vectors: each chunk is stored with a vector per sentence too (a chunk scores its best vector).
    # "one_pass" reads them from the chunk's own forward pass (mean of each sentence's token outputs);
    # "separate" embeds each sentence on its own, ~2x the model work. int8 + one_pass ingest is ~2.5x faster
    # than fp32 + separate and retrieves nearly the same (CMRC 2018 evidence R@5 0.991 vs 0.992). Answering
    # always compares fp32 vectors of separately embedded sentences: an int8/one-pass index computes them on
    # first use (see rag.index.Index.sentence_vectors and the issue 6 note / eval/results/bench-ingest).
    embed_precision: str = "int8"
    sentence_vectors: str = "one_pass"
    # Chunking: paragraphs, long ones split at sentence ends, tiny fragments merged.
    chunk_max_chars: int = 400
    chunk_min_chars: int = 40
    # Near-duplicate chunks (character-shingle Jaccard at or above this) are stored once.
    near_duplicate_jaccard: float = 0.9
    # Vector store: "faiss" (embedded, in the index folder) or "milvus" (pymilvus; milvus_uri is a local
    # milvus-lite file, default <index>/milvus.db, or http://host:19530 for a Milvus server/cluster).
    vector_backend: str = "faiss"
    milvus_uri: str = ""
    # FAISS: exact flat search up to this many vectors, an approximate IVF index past it.
    ann_threshold: int = 100_000
    ann_nprobe: int = 32
    # Search
    top_k: int = 5
    candidates: int = 50  # per retriever, before fusion
    rrf_k: int = 60
    # Ingest
    max_file_bytes: int = 5_000_000
    commit_every_chunks: int = 512  # a crash loses at most this much embedding work
    # Answering: which backend ("local" | "api" | "extractive"), and each backend's settings.
    llm: str = "local"
    # GGUF file for the local backend; "qwen2.5-coder-1.5b-instruct" = the one assembled from PyPI parts.
    llm_model: str = "qwen2.5-coder-1.5b-instruct"
    llm_threads: int = 2
    llm_context: int = 2048
    llm_max_tokens: int = 160
    llm_temperature: float = 0.0
    # Any OpenAI-compatible endpoint (RAG_API_BASE_URL, RAG_API_MODEL, RAG_API_KEY or OPENAI_API_KEY).
    api_base_url: str = "http://127.0.0.1:8080/v1"
    api_model: str = "local"
    api_key: str = ""
    api_timeout: float = 60.0
    # Prompt budget: characters of passage text given to the LLM (prompt tokens dominate latency).
    prompt_chars: int = 300
    prompt_passages: int = 4  # of the top_k hits, how many the LLM sees (all are in Answer.contexts)
    # Rank the sentences the model reads for an English question with its Chinese translation too when the best
    # are close (one more model call, ~2 s; rag.answering.chinese_question): more English answers right.
    rank_in_chinese: bool = False
    # Abstain without generating when no passage sentence is at least this similar to the question
    # (for English questions over Chinese text, 0.11 lower: cross-lingual cosines are lower).
    min_relevance: float = 0.86
    # Progress bars: None = auto (only on a TTY)
    progress: bool | None = None

    @property
    def models_dir(self) -> Path:
        return self.models_path or self.home / "models"

    @property
    def default_index_dir(self) -> Path:
        suffix = "" if self.vector_backend == "faiss" else f"-{self.vector_backend}"
        return self.home / "indexes" / f"samples{suffix}"

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides) -> Config:
        """Build the config from defaults, then the TOML file, then `RAG_*` env vars, then `overrides`."""
        values: dict = {}
        home = default_home()
        path = Path(config_file or os.environ.get("RAG_CONFIG") or home / "config.toml")
        if path.is_file():
            try:
                values.update(tomllib.loads(path.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        for f in fields(cls):
            env = os.environ.get(f"RAG_{f.name.upper()}")
            if env is not None and f.name != "home":
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls._from_values(values)

    def with_overrides(self, **overrides) -> Config:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return self._from_values(values)

    @classmethod
    def _from_values(cls, values: dict) -> Config:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; valid: {sorted(known)}")
        coerced = {}
        for name, value in values.items():
            coerced[name] = _coerce(name, known[name].type, value)
        cfg = cls(**coerced)
        cfg._validate()
        return cfg

    def _validate(self) -> None:
        for name in ("top_k", "candidates", "rrf_k", "embed_batch_size", "embed_batch_chars", "chunk_max_chars",
                     "max_file_bytes", "commit_every_chunks"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.near_duplicate_jaccard <= 1:
            raise ConfigError(f"near_duplicate_jaccard must be in (0, 1], got {self.near_duplicate_jaccard}")
        if self.vector_backend not in ("faiss", "milvus"):
            raise ConfigError(f"vector_backend must be 'faiss' or 'milvus', got {self.vector_backend!r}")
        if self.embed_precision not in ("fp32", "int8"):
            raise ConfigError(f"embed_precision must be 'fp32' or 'int8', got {self.embed_precision!r}")
        if self.sentence_vectors not in ("one_pass", "separate"):
            raise ConfigError(f"sentence_vectors must be 'one_pass' or 'separate', got {self.sentence_vectors!r}")
        if self.chunk_min_chars >= self.chunk_max_chars:
            raise ConfigError("chunk_min_chars must be smaller than chunk_max_chars")


def _coerce(name: str, type_name: str, value):
    """Turn strings from env/TOML into the field's type, with a readable error."""
    try:
        if type_name in ("Path", "Path | None"):
            return None if value is None else Path(value).expanduser()
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
        if type_name in ("bool", "bool | None"):
            if value is None or isinstance(value, bool):
                return value
            return str(value).lower() in ("1", "true", "yes", "on")
        return value if not isinstance(value, str) else value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config field {name!r}: cannot read {value!r} as {type_name}") from exc
