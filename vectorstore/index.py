"""The on-disk index of one corpus: FAISS vectors, a BM25 keyword index, chunk metadata and a manifest.

Layout of an index folder::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    gen-000007/        one committed generation:
        manifest.json    documents (content hash, source path, ingested folder, chunk ids), embedder name, dim
        chunks.jsonl     every chunk, in row order for the canonical ones; duplicates carry `dup_of`
        tokens.jsonl     jieba tokens of the canonical chunks (to rebuild BM25 without re-segmenting)
        dense.faiss      normalized vectors, inner product: per canonical chunk, one vector of its whole
                         text and one per sentence (multi-vector; a chunk scores its best vector)
        dense_owner.npy  for each vector row, the canonical chunk row it belongs to
        keyword/         bm25s index; row i = i-th canonical chunk
    .lock              held by the one writer

Writers build a complete new generation in a temporary folder, rename it into place and only then
switch CURRENT, so a reader (or a crash at any instant) sees either the old or the new generation,
never a mix. Unchanged chunks keep their vectors: nothing is re-embedded that did not change.

>>> import tempfile, numpy as np
>>> from rag.schema import Chunk
>>> folder = tempfile.mkdtemp()
>>> index = ArticleIndex.open(folder, embedder="toy", create=True)
>>> w = index.writer()
>>> w.put_document(DocumentRecord("a.txt", "h1"), [Chunk("a.txt#0", "a.txt", "T", None, None, "日内瓦会谈", 0)])
(1, 0)
>>> w.commit(lambda texts: np.ones((len(texts), 4), dtype="float32") / 2)
'gen-000001'
>>> ArticleIndex.open(folder, embedder="toy").stats()["chunks"]
1
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.chunking import split_sentences
from rag.dedup import DuplicateFinder
from rag.errors import ConfigError, RagError
from rag.schema import Chunk
from vectorstore.dense import DenseIndex
from vectorstore.keyword import KeywordIndex, tokenize

FORMAT_VERSION = 3
MIN_SENTENCE_CHARS = 8


def passage_views(text: str) -> list[str]:
    """The texts embedded for one chunk: the whole chunk, plus each of its sentences when it has several.

    A question usually asks about one fact; a long paragraph's single vector blurs that fact among the
    others (an English "how long did the talks last?" ranked the Chinese sentence with 持续了约90分钟 6th by
    paragraph vector, 1st by sentence vector). The chunk's dense score is the max over its views.

    >>> passage_views("第一句话很长很长。第二句话也很长很长。")
    ['第一句话很长很长。第二句话也很长很长。', '第一句话很长很长。', '第二句话也很长很长。']
    """
    sentences = [s.strip() for s in split_sentences(text) if len(s.strip()) >= MIN_SENTENCE_CHARS]
    return [text] + sentences if len(sentences) > 1 else [text]


@dataclass
class DocumentRecord:
    """One ingested file as the manifest remembers it."""

    doc_id: str
    sha256: str
    path: str | None = None  # where the file was read from
    folder: str | None = None  # the ingested folder it belongs to (for deletion detection)
    title: str | None = None
    date: str | None = None
    source: str | None = None
    chunk_ids: list[str] = field(default_factory=list)
    ingested_at: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StoredChunk:
    chunk: Chunk
    dup_of: str | None = None  # chunk_id of the canonical copy when this one is a duplicate


class IndexFormatError(ConfigError):
    """The index was written by another version of the project."""


class IndexLockedError(RagError):
    """Another process is writing this index."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class ArticleIndex:
    """A read view of one committed generation; `writer()` makes the next one."""

    def __init__(self, path: Path, embedder: str):
        self.path = path
        self.embedder = embedder
        self.generation: str | None = None
        self.manifest: dict = {"format": FORMAT_VERSION, "embedder": embedder, "dim": None, "documents": {}}
        self.chunks: list[StoredChunk] = []
        self.row_chunks: list[Chunk] = []  # canonical chunks, row order
        self.dense: DenseIndex | None = None
        self.vector_owner = np.zeros(0, dtype="int64")  # vector row -> canonical chunk row
        self.keyword = KeywordIndex(None, 0)

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, embedder: str, create: bool = False) -> ArticleIndex:
        """Open the live generation of the index at `path` (an empty index when `create` and none exists).

        Raises `ConfigError` when the folder is not an index, or was built with another embedder.
        """
        path = Path(path).expanduser().resolve()
        if not (path / "CURRENT").is_file():
            if not create:
                raise ConfigError(f"{path} is not an index (no CURRENT file); build it with `rag ingest`")
            if path.exists() and not path.is_dir():
                raise ConfigError(f"index path {path} exists and is not a folder")
            path.mkdir(parents=True, exist_ok=True)
        index = cls(path, embedder)
        index.reload()
        built_with = index.manifest.get("embedder")
        if index.generation and built_with != embedder:
            raise ConfigError(
                f"index {path} was built with embedder {built_with!r}, the config asks for {embedder!r}; "
                "use that embedder or ingest into a new index folder"
            )
        return index

    def current_generation(self) -> str | None:
        try:
            return (self.path / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def is_stale(self) -> bool:
        """True when another writer committed a newer generation since this view was loaded."""
        return self.current_generation() != self.generation

    def reload(self) -> None:
        generation = self.current_generation()
        if generation is None:
            return
        folder = self.path / generation
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexFormatError(
                    f"index {self.path} has format {manifest.get('format')}, this version reads {FORMAT_VERSION}; "
                    "ingest the articles into a new index folder"
                )
            chunks = []
            with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    dup_of = row.pop("dup_of", None)
                    chunks.append(StoredChunk(Chunk(**row), dup_of))
            dense = DenseIndex.load(folder / "dense.faiss") if (folder / "dense.faiss").exists() else None
            owner = np.load(folder / "dense_owner.npy") if dense is not None else np.zeros(0, dtype="int64")
            keyword = KeywordIndex.load(folder / "keyword")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RagError(f"index {self.path} generation {generation} is unreadable: {exc}") from exc
        self.manifest, self.chunks, self.dense, self.keyword = manifest, chunks, dense, keyword
        self.vector_owner = owner
        self.row_chunks = [sc.chunk for sc in chunks if sc.dup_of is None]
        self.generation = generation
        n_dense = len(dense) if dense is not None else 0
        owners = len(np.unique(owner))
        if not (len(self.row_chunks) == owners == len(keyword)) or n_dense != len(owner):
            raise RagError(
                f"index {self.path} generation {generation} is inconsistent: {len(self.row_chunks)} chunks, "
                f"{owners} chunks with vectors, {len(keyword)} keyword rows"
            )

    # ---- reading -------------------------------------------------------------------------------
    def row_of(self, chunk_id: str) -> int | None:
        """Row of a canonical chunk (None for unknown ids and stored duplicates)."""
        if getattr(self, "_rows", None) is None or self._rows_generation != self.generation:
            self._rows = {c.chunk_id: row for row, c in enumerate(self.row_chunks)}
            self._rows_generation = self.generation
        return self._rows.get(chunk_id)

    def chunk_views(self, row: int) -> tuple[list[str], np.ndarray]:
        """The texts embedded for a chunk row (whole text, then sentences) and their stored vectors."""
        start, end = np.searchsorted(self.vector_owner, [row, row + 1])
        return passage_views(self.row_chunks[row].text), self.dense.reconstruct(range(start, end))

    @property
    def documents(self) -> dict[str, DocumentRecord]:
        return {doc_id: DocumentRecord(**rec) for doc_id, rec in self.manifest["documents"].items()}

    def stats(self) -> dict:
        return {
            "path": str(self.path),
            "generation": self.generation,
            "documents": len(self.manifest["documents"]),
            "chunks": len(self.row_chunks),
            "vectors": len(self.vector_owner),
            "duplicates": len(self.chunks) - len(self.row_chunks),
            "embedder": self.manifest.get("embedder"),
            "dim": self.manifest.get("dim"),
        }

    # ---- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, wait_seconds: float = 30.0) -> Iterator[None]:
        """Hold the writer lock; raise `IndexLockedError` if another process keeps it past `wait_seconds`."""
        fh = open(self.path / ".lock", "a+")
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexLockedError(
                            f"index {self.path} is being written by another process; try again when it is done"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            fh.close()

    def writer(self, near_duplicate_jaccard: float = 0.9) -> IndexWriter:
        """Start the next generation from the live one (reloaded first if another writer moved it)."""
        if self.is_stale():
            self.reload()
        return IndexWriter(self, near_duplicate_jaccard)


class IndexWriter:
    """Accumulates document changes in memory; `commit()` writes them as one new generation."""

    def __init__(self, index: ArticleIndex, near_duplicate_jaccard: float = 0.9):
        self.index = index
        self.documents: dict[str, DocumentRecord] = index.documents
        self.chunks: dict[str, StoredChunk] = {sc.chunk.chunk_id: sc for sc in index.chunks}
        self.vectors: dict[str, np.ndarray] = {}  # chunk_id -> (views, dim)
        self.tokens: dict[str, list[str]] = {}
        if index.dense is not None and len(index.dense):
            all_vectors = index.dense.vectors()
            for row, chunk in enumerate(index.row_chunks):
                self.vectors[chunk.chunk_id] = all_vectors[index.vector_owner == row]
        if index.generation:
            with open(index.path / index.generation / "tokens.jsonl", encoding="utf-8") as fh:
                for chunk, line in zip(index.row_chunks, fh, strict=True):
                    self.tokens[chunk.chunk_id] = json.loads(line)
        # Vectors of removed chunks by text: a changed file re-embeds only its changed chunks.
        self._recycled: dict[str, tuple[np.ndarray, list[str]]] = {}
        self.duplicates = DuplicateFinder(near_duplicate_jaccard)
        for sc in self.chunks.values():
            if sc.dup_of is None:
                self.duplicates.add(sc.chunk.chunk_id, sc.chunk.text)
        self.changed = False

    @property
    def pending_embeddings(self) -> int:
        return len(self._unembedded())

    def _unembedded(self) -> list[Chunk]:
        """Canonical chunks without vectors, after taking back vectors of identical removed chunks."""
        todo = []
        for sc in self.chunks.values():
            chunk_id = sc.chunk.chunk_id
            if sc.dup_of is not None or chunk_id in self.vectors:
                continue
            if sc.chunk.text in self._recycled:
                self.vectors[chunk_id], self.tokens[chunk_id] = self._recycled[sc.chunk.text]
            else:
                todo.append(sc.chunk)
        return todo

    def remove_document(self, doc_id: str) -> bool:
        """Drop a document and its chunks; a duplicate elsewhere of a removed chunk takes its place."""
        record = self.documents.pop(doc_id, None)
        if record is None:
            return False
        removed = set(record.chunk_ids)
        for chunk_id in removed:
            sc = self.chunks.pop(chunk_id, None)
            vectors, tokens = self.vectors.pop(chunk_id, None), self.tokens.pop(chunk_id, None)
            if sc is not None and vectors is not None and tokens is not None:
                self._recycled[sc.chunk.text] = (vectors, tokens)
            self.duplicates.remove(chunk_id)
        orphans = [sc for sc in self.chunks.values() if sc.dup_of in removed]
        for sc in orphans:
            sc.dup_of = self.duplicates.find(sc.chunk.text)
            if sc.dup_of is None:  # promoted: it becomes the stored copy (embedded at commit)
                self.duplicates.add(sc.chunk.chunk_id, sc.chunk.text)
        self.changed = True
        return True

    def put_document(self, record: DocumentRecord, chunks: list[Chunk]) -> tuple[int, int]:
        """Add or replace a document. Returns (chunks to embed, duplicate chunks stored as references)."""
        self.remove_document(record.doc_id)
        new, dups = 0, 0
        for chunk in chunks:
            dup_of = self.duplicates.find(chunk.text)
            self.chunks[chunk.chunk_id] = StoredChunk(chunk, dup_of)
            if dup_of is None:
                self.duplicates.add(chunk.chunk_id, chunk.text)
                new += 1
            else:
                dups += 1
        record.chunk_ids = [c.chunk_id for c in chunks]
        record.ingested_at = record.ingested_at or time.time()
        self.documents[record.doc_id] = record
        self.changed = True
        return new, dups

    def embed_pending(self, embed: Callable[[list[str]], np.ndarray]) -> int:
        """Embed (and tokenize) the canonical chunks that have no vector yet; returns how many."""
        todo = self._unembedded()
        if todo:
            views = [passage_views(c.text) for c in todo]
            texts = [text for chunk_views in views for text in chunk_views]
            vectors = np.asarray(embed(texts), dtype="float32")
            if vectors.shape[0] != len(texts):
                raise RagError(f"embedder returned {vectors.shape[0]} vectors for {len(texts)} texts")
            start = 0
            for chunk, chunk_views in zip(todo, views, strict=True):
                self.vectors[chunk.chunk_id] = vectors[start : start + len(chunk_views)]
                start += len(chunk_views)
        for sc in self.chunks.values():
            if sc.dup_of is None and sc.chunk.chunk_id not in self.tokens:
                self.tokens[sc.chunk.chunk_id] = tokenize(f"{sc.chunk.title or ''} {sc.chunk.text}")
        return len(todo)

    def commit(self, embed: Callable[[list[str]], np.ndarray] | None = None) -> str:
        """Write everything as a new generation and switch to it atomically; returns its name."""
        if embed is not None:
            self.embed_pending(embed)
        elif self.pending_embeddings:
            raise RagError(f"{self.pending_embeddings} chunks have no vector; pass an embed function")
        index = self.index
        with index.locked():
            ordered = self._ordered_chunks()
            rows = [sc.chunk for sc in ordered if sc.dup_of is None]
            dim = next(iter(self.vectors.values())).shape[1] if self.vectors else index.manifest.get("dim")
            previous = index.current_generation()
            number = int(previous.split("-")[1]) + 1 if previous else 1
            name = f"gen-{number:06d}"
            for stale in index.path.glob(".tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = index.path / f".tmp-{name}-{os.getpid()}"
            tmp.mkdir()
            manifest = {
                "format": FORMAT_VERSION,
                "embedder": index.embedder,
                "dim": dim,
                "created": time.time(),
                "documents": {d: self.documents[d].to_dict() for d in sorted(self.documents)},
            }
            _write_file(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
            _write_file(
                tmp / "chunks.jsonl",
                "".join(json.dumps({**sc.chunk.to_dict(), "dup_of": sc.dup_of}, ensure_ascii=False) + "\n"
                        for sc in ordered),
            )
            _write_file(
                tmp / "tokens.jsonl",
                "".join(json.dumps(self.tokens[c.chunk_id], ensure_ascii=False) + "\n" for c in rows),
            )
            if dim is not None:
                dense = DenseIndex(dim)
                owner = np.zeros(0, dtype="int64")
                if rows:
                    per_chunk = [self.vectors[c.chunk_id] for c in rows]
                    dense.add(np.concatenate(per_chunk))
                    owner = np.repeat(np.arange(len(rows), dtype="int64"), [len(v) for v in per_chunk])
                dense.save(tmp / "dense.faiss")
                np.save(tmp / "dense_owner.npy", owner)
            KeywordIndex.build([self.tokens[c.chunk_id] for c in rows]).save(tmp / "keyword")
            for f in tmp.rglob("*"):
                if f.is_file():
                    with open(f, "rb") as fh:
                        os.fsync(fh.fileno())
            _fsync_dir(tmp)
            os.rename(tmp, index.path / name)
            _write_file(index.path / "CURRENT.tmp", name + "\n")
            os.replace(index.path / "CURRENT.tmp", index.path / "CURRENT")
            _fsync_dir(index.path)
            # Keep the previous generation for readers that are still loading it; drop older ones.
            for old in index.path.glob("gen-*"):
                if old.name not in (name, previous):
                    shutil.rmtree(old, ignore_errors=True)
        index.reload()
        self.changed = False
        return name

    def _ordered_chunks(self) -> list[StoredChunk]:
        """Chunks grouped by document (sorted doc_id) in reading order: stable row numbers across commits."""
        ordered = []
        for doc_id in sorted(self.documents):
            for chunk_id in self.documents[doc_id].chunk_ids:
                sc = self.chunks.get(chunk_id)
                if sc is not None:
                    ordered.append(sc)
        return ordered
