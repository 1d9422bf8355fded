"""Opening an index: storage + its embedder + the hybrid retriever, loaded once per process.

`open_index()` with no argument opens the index of the bundled sample articles under `RAG_HOME`,
building it on first use.

>>> import rag
>>> idx = rag.open_index()                      # doctest: +SKIP
>>> idx is rag.open_index()                     # cached: models are not loaded twice   # doctest: +SKIP
True
>>> [h.doc_id for h in idx.search("拉夫罗夫 日内瓦", k=2)]   # doctest: +SKIP
['000_830f0738273cd064.txt', '001_6bf945a0421c093c.txt']
"""

from __future__ import annotations

import shutil
import sys
import threading
from importlib import resources
from pathlib import Path

import numpy as np

from rag.config import Config
from rag.retrieval import HybridRetriever
from rag.schema import Hit
from vectorstore.base import StoreSpec
from vectorstore.index import ArticleIndex, IndexFormatError, passage_views

ANSWER_VECTOR_KIND = "fp32/separate"  # the sentence vectors answering compares (see Index.answer_embedder)
QUERY_CACHE_SIZE = 64
SENTENCE_CACHE_SIZE = 20_000  # ~30 MB of fp32 vectors

_OPENED: dict[tuple[str, Config], Index] = {}
_OPEN_LOCK = threading.Lock()


def sample_articles_dir() -> Path:
    """The folder of the bundled sample articles (the default demo corpus)."""
    return Path(str(resources.files("rag") / "data" / "articles"))


class Index:
    """An opened index. The embedding model is loaded on first use and then reused."""

    def __init__(self, store: ArticleIndex, config: Config):
        self.store = store
        self.config = config
        self._embedders: dict[str, object] = {}  # precision -> Embedder
        self._embedder_lock = threading.Lock()
        self._query_cache: dict[tuple[str, str], np.ndarray] = {}
        self._sentence_cache: dict[str, np.ndarray] = {}  # sentence -> fp32 vector (see `sentence_vectors`)
        self._sentence_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._article_chunks: dict[str, list] = {}
        self._articles_generation: str | None = None
        self.retriever = HybridRetriever(store, self.embed_query, config.candidates, config.rrf_k)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def embedder(self):
        """The sentence-transformers embedder named in the config, at the index's precision (`embed_precision`):
        it embeds what is ingested and the questions searched (provisioned offline if it is the default)."""
        return self._load_embedder(self.config.embed_precision)

    @property
    def answer_embedder(self):
        """The fp32 embedder: the sentence vectors and question vector that answering compares.

        The answer checks' cosine thresholds (relevance gate, citation support) were set on fp32 vectors of
        each sentence embedded on its own; an int8 index's one-pass vectors are close enough to retrieve
        with (CMRC 2018 evidence R@5 0.991 vs 0.992) but not to keep those thresholds. The same object as
        `embedder` when the index is fp32.
        """
        return self._load_embedder("fp32")

    def _load_embedder(self, precision: str):
        with self._embedder_lock:
            loaded = self._embedders.get(precision)
            if loaded is None:
                from rag.embedder import Embedder
                from rag.models import resolve_embedder

                name_or_path = resolve_embedder(self.config.embedder, self.config.models_dir,
                                                progress=_progress_enabled(self.config.progress))
                loaded = Embedder.load(
                    name_or_path,
                    batch_size=self.config.embed_batch_size,
                    query_prompt=self.config.query_prompt,
                    passage_prompt=self.config.passage_prompt,
                    precision=precision,
                    batch_chars=self.config.embed_batch_chars,
                )
                self._embedders[precision] = loaded
            return loaded

    @property
    def vector_kind(self) -> str:
        """How this config embeds chunks, as the index manifest records it: "<precision>/<sentence_vectors>"."""
        return f"{self.config.embed_precision}/{self.config.sentence_vectors}"

    @property
    def stores_answer_vectors(self) -> bool:
        """Whether every stored sentence vector is one answering can use as it is (fp32, each sentence
        embedded on its own); otherwise `sentence_vectors` embeds them on first use."""
        return self.store.manifest.get("vector_kinds") == [ANSWER_VECTOR_KIND]

    def embed_query(self, text: str) -> np.ndarray:
        """The search vector of a question; the last few are remembered (a chat turn searches it twice)."""
        return self._cached_query(self.embedder, text)

    def embed_answer_query(self, text: str) -> np.ndarray:
        """The question (or claim) vector answering compares with `sentence_vectors` (see `answer_embedder`)."""
        return self._cached_query(self.answer_embedder, text)

    def _cached_query(self, embedder, text: str) -> np.ndarray:
        key = (embedder.precision, text)
        vector = self._query_cache.get(key)
        if vector is None:
            vector = embedder.embed_query(text)
            if len(self._query_cache) >= QUERY_CACHE_SIZE:
                self._query_cache.pop(next(iter(self._query_cache), None), None)
            self._query_cache[key] = vector
        return vector

    def sentence_vectors(self, chunk_id: str) -> tuple[list[str], np.ndarray]:
        """The sentences of a chunk (the chunk itself when it has one) and their fp32 vectors, for answering.

        An fp32 index with separate sentence vectors stores exactly these; otherwise (the default int8
        one-pass index, built ~2.5x faster) they are embedded on first use, a few dozen short sentences per
        question, and remembered.

        >>> idx = rag.open_index()                                   # doctest: +SKIP
        >>> sentences, vectors = idx.sentence_vectors(idx.search("日内瓦会谈", k=1)[0].chunk_id)  # doctest: +SKIP
        >>> vectors.shape == (len(sentences), 384)                   # doctest: +SKIP
        True
        """
        row = self.store.row_of(chunk_id)
        if row is None:
            raise KeyError(f"no chunk {chunk_id!r} in index {self.path}")
        stored = self.stores_answer_vectors
        text = self.store.row_chunks[row].text
        views, vectors = self.store.chunk_views(row) if stored else (passage_views(text), None)
        own = slice(1, None) if len(views) > 1 else slice(None)  # the sentences, or the one-sentence chunk
        sentences = views[own]
        if stored:
            return sentences, vectors[own]
        known = dict(self._sentence_cache)  # a snapshot: UI threads answer side by side
        missing = [s for s in dict.fromkeys(sentences) if s not in known]
        if missing:
            embedded = dict(zip(missing, self.answer_embedder.embed_passages(missing), strict=True))
            known.update(embedded)
            with self._sentence_lock:
                for sentence, vector in embedded.items():
                    if len(self._sentence_cache) >= SENTENCE_CACHE_SIZE:
                        self._sentence_cache.pop(next(iter(self._sentence_cache)))
                    self._sentence_cache[sentence] = vector
        return sentences, np.stack([known[s] for s in sentences])

    def embed_passages(self, texts: list[str], progress: bool | None = None) -> np.ndarray:
        return self.embedder.embed_passages(texts, progress=_progress_enabled(progress))

    def search(self, query: str, k: int | None = None, mode: str = "hybrid",
               filters: dict | None = None) -> list[Hit]:
        """Hybrid search (see `rag.retrieval.HybridRetriever`); picks up generations committed meanwhile."""
        if self.store.is_stale():
            with self._reload_lock:  # several UI threads may notice a new generation at once
                if self.store.is_stale():
                    self.store.reload()
        return self.retriever.search(query, self.config.top_k if k is None else k, mode, filters)

    def article_text(self, doc_id: str) -> str:
        """The whole text of an indexed article as its chunks hold it (duplicates included), after its title
        and source; "" for an unknown `doc_id`."""
        if self._articles_generation != self.store.generation:  # grouped once per index generation
            by_doc: dict[str, list] = {}
            for stored in self.store.chunks:
                by_doc.setdefault(stored.chunk.doc_id, []).append(stored.chunk)
            self._article_chunks, self._articles_generation = by_doc, self.store.generation
        chunks = self._article_chunks.get(doc_id)
        if not chunks:
            return ""
        head = [chunks[0].title or "", chunks[0].source or ""]
        return "\n".join(head + [c.text for c in sorted(chunks, key=lambda c: c.position)])

    def stats(self) -> dict:
        return self.store.stats()


def _progress_enabled(progress: bool | None) -> bool:
    """Explicit choice, else only when stderr is a terminal (silent in CI and pipes)."""
    return sys.stderr.isatty() if progress is None else progress


def open_index(index: str | Path | Index | None = None, config: Config | None = None,
               create: bool = False) -> Index:
    """Open (once per process) the index at `index`; `None` means the bundled samples' index.

    The samples' index is built from the bundled articles the first time it is opened.
    """
    if isinstance(index, Index):
        return index
    if config is None and index is not None:  # no config asked for: reuse however it was opened
        path = str(Path(index).expanduser().resolve())
        with _OPEN_LOCK:
            for (opened_path, _), opened in _OPENED.items():
                if opened_path == path:
                    return opened
    config = config or Config.load()
    default = index is None
    path = Path(config.default_index_dir if default else index).expanduser().resolve()
    key = (str(path), config)
    with _OPEN_LOCK:
        opened = _OPENED.get(key)
        if opened is None:
            try:
                store = ArticleIndex.open(path, config.embedder, create=create or default,
                                          spec=StoreSpec.from_config(config))
            except IndexFormatError:
                in_home = path.parent == config.home.resolve() / "indexes"
                derived = default or (in_home and path.name.startswith("eval-"))
                if not derived:
                    raise
                # The samples' index and eval caches are derived data: rebuild them for this version.
                shutil.rmtree(path)
                store = ArticleIndex.open(path, config.embedder, create=True, spec=StoreSpec.from_config(config))
            opened = Index(store, config)
            _OPENED[key] = opened
    if default and opened.store.generation is None:
        from rag.ingest import ingest_into

        if _progress_enabled(config.progress):
            print(f"Building the sample index in {path} (first use)...", file=sys.stderr)
        ingest_into(opened, [sample_articles_dir()], progress=config.progress)
    return opened


def forget_opened_indexes() -> None:
    """Drop the process-wide cache of opened indexes (tests; models stay cached in rag.embedder)."""
    with _OPEN_LOCK:
        _OPENED.clear()
