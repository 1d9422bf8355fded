"""The on-disk index of one corpus: FAISS vectors, a BM25 keyword index, chunk metadata and a manifest.

Layout of an index folder::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    milvus.db          Milvus backend with milvus-lite: the collection (shared by all generations)
    vectors.journal    Milvus backend: ids inserted/deleted by an unfinished commit (cleaned up next time)
    gen-000007/        one committed generation:
        manifest.json    documents (content hash, source path, ingested folder, chunk ids), embedder name, dim
        chunks.jsonl     every chunk, in row order for the canonical ones; duplicates carry `dup_of`
        tokens.jsonl     jieba tokens of the canonical chunks (to rebuild BM25 without re-segmenting)
        dense.faiss      FAISS backend only: the vectors (flat, or IVF past `ann_threshold`), ids from
                         `vectorstore.base`: per canonical chunk one vector of its whole text and one per
                         sentence (multi-vector; a chunk scores its best vector), keyed by the chunk text
        vector_rows.npz  per canonical row: its text key (owner of its vectors) and how many vectors it has
        keyword/         bm25s index; row i = i-th canonical chunk
    .lock              held by the one writer

Writers build a complete new generation in a temporary folder, rename it into place and only then
switch CURRENT, so a reader (or a crash at any instant) sees either the old or the new generation,
never a mix. Unchanged chunks keep their vectors: nothing is re-embedded that did not change. A Milvus
collection lives outside the generations: new vectors go in before the switch (harmless extras for the
old generation, whose hits map only to its own chunks), removed ones come out after it; a journal lets
the next writer finish what a crash interrupted.

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
from vectorstore.base import MAX_VIEWS, StoreSpec, VectorStore, ids_for, owner_of, text_key, vector_id
from vectorstore.faiss_store import FaissStore
from vectorstore.keyword import KeywordIndex, tokenize

FORMAT_VERSION = 4
MIN_SENTENCE_CHARS = 8

EmbedTexts = Callable[[list[str]], np.ndarray]  # texts -> (len(texts), dim)
EmbedViews = Callable[[list[str], list[list[tuple[int, int]]]], list[np.ndarray]]  # texts, spans -> per text


def passage_views(text: str) -> list[str]:
    """The texts embedded for one chunk: the whole chunk, plus each of its sentences when it has several.

    A question usually asks about one fact; a long paragraph's single vector blurs that fact among the
    others (an English "how long did the talks last?" ranked the Chinese sentence with 持续了约90分钟 6th by
    paragraph vector, 1st by sentence vector). The chunk's dense score is the max over its views.

    >>> passage_views("第一句话很长很长。第二句话也很长很长。")
    ['第一句话很长很长。第二句话也很长很长。', '第一句话很长很长。', '第二句话也很长很长。']
    """
    return [text] + [text[lo:hi] for lo, hi in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where the sentence views of `passage_views` sit in `text` (none when it has fewer than two sentences).

    >>> sentence_spans("第一句话很长很长。第二句话也很长很长。")
    [(0, 9), (9, 19)]
    """
    spans, cursor = [], 0
    for piece in split_sentences(text):
        sentence = piece.strip()
        start = text.find(sentence, cursor)
        cursor = start + len(sentence)
        if len(sentence) >= MIN_SENTENCE_CHARS:
            spans.append((start, cursor))
    return spans[: MAX_VIEWS - 1] if len(spans) > 1 else []


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

    def __init__(self, path: Path, embedder: str, spec: StoreSpec | None = None):
        self.path = path
        self.embedder = embedder
        self.spec = spec or StoreSpec()
        self._empty()

    def _empty(self) -> None:
        """The state of an index with no generation yet."""
        embedder = self.embedder
        self.generation: str | None = None
        self.manifest: dict = {"format": FORMAT_VERSION, "embedder": embedder, "dim": None, "documents": {},
                               "vectors": self._vectors_entry(self.spec)}
        self.chunks: list[StoredChunk] = []
        self.row_chunks: list[Chunk] = []  # canonical chunks, row order
        self.vectors: VectorStore | None = None
        self.row_keys = np.zeros(0, dtype="int64")  # canonical row -> text key (owner of its vectors)
        self.row_views = np.zeros(0, dtype="int64")  # canonical row -> how many vectors it has
        self.keyword = KeywordIndex(None, 0)
        self._key_order = np.zeros(0, dtype="int64")
        self._all_vector_ids = None

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, embedder: str, create: bool = False, spec: StoreSpec | None = None
             ) -> ArticleIndex:
        """Open the live generation of the index at `path` (an empty index when `create` and none exists).

        Raises `ConfigError` when the folder is not an index, or was built with another embedder or
        vector backend.
        """
        path = Path(path).expanduser().resolve()
        if not (path / "CURRENT").is_file():
            if not create:
                raise ConfigError(f"{path} is not an index (no CURRENT file); build it with `rag ingest`")
            if path.exists() and not path.is_dir():
                raise ConfigError(f"index path {path} exists and is not a folder")
            path.mkdir(parents=True, exist_ok=True)
        index = cls(path, embedder, spec)
        index.reload()
        built_with = index.manifest.get("embedder")
        if index.generation and built_with != embedder:
            raise ConfigError(
                f"index {path} was built with embedder {built_with!r}, the config asks for {embedder!r}; "
                "use that embedder or ingest into a new index folder"
            )
        backend = index.manifest.get("vectors", {}).get("backend")
        if index.generation and spec is not None and backend != spec.backend:
            raise ConfigError(
                f"index {path} keeps its vectors in {backend!r}, the config asks for {spec.backend!r}; "
                "use that vector_backend or ingest into a new index folder"
            )
        return index

    @staticmethod
    def _vectors_entry(spec: StoreSpec) -> dict:
        if spec.backend == "milvus":
            return {"backend": "milvus", "uri": spec.milvus_uri, "collection": None}
        return {"backend": "faiss"}

    def milvus_location(self, entry: dict | None = None) -> tuple[str, str]:
        """(uri, collection) of this index's Milvus collection: milvus-lite file in the folder by default."""
        entry = entry or self.manifest["vectors"]
        uri = entry.get("uri") or str(self.path / "milvus.db")
        collection = entry.get("collection")
        if not collection:
            import hashlib

            # a server is shared by many indexes: one collection per index folder
            local = uri.endswith(".db") and not uri.startswith(("http://", "https://", "tcp://"))
            collection = "chunks" if local else "rag_" + hashlib.sha1(str(self.path).encode()).hexdigest()[:16]
        return uri, collection

    def _open_vectors(self, folder: Path | None, dim: int | None) -> VectorStore | None:
        """The vector store as of generation `folder` (FAISS: its file; Milvus: the shared collection)."""
        if dim is None:
            return None
        if self.manifest["vectors"]["backend"] == "milvus":
            from vectorstore.milvus_store import MilvusStore

            return MilvusStore(*self.milvus_location(), dim=dim)
        if folder is not None and (folder / "dense.faiss").exists():
            return FaissStore.load(folder / "dense.faiss", self.spec.ann_threshold, self.spec.ann_nprobe)
        return FaissStore(dim, ann_threshold=self.spec.ann_threshold, nprobe=self.spec.ann_nprobe)

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
            if self.generation is not None:  # the folder was deleted (and maybe re-created) under us
                self._empty()
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
            with np.load(folder / "vector_rows.npz") as rows:
                row_keys, row_views = rows["keys"], rows["views"]
            keyword = KeywordIndex.load(folder / "keyword")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RagError(f"index {self.path} generation {generation} is unreadable: {exc}") from exc
        self.manifest, self.chunks, self.keyword = manifest, chunks, keyword
        self.vectors = self._open_vectors(folder, manifest.get("dim"))
        self.row_keys, self.row_views = row_keys.astype("int64"), row_views.astype("int64")
        self.row_chunks = [sc.chunk for sc in chunks if sc.dup_of is None]
        self.generation = generation
        self._key_order = np.argsort(self.row_keys)
        self._all_vector_ids = None
        if not (len(self.row_chunks) == len(self.row_keys) == len(keyword)):
            raise RagError(
                f"index {self.path} generation {generation} is inconsistent: {len(self.row_chunks)} chunks, "
                f"{len(self.row_keys)} chunks with vectors, {len(keyword)} keyword rows"
            )

    # ---- reading -------------------------------------------------------------------------------
    def row_of(self, chunk_id: str) -> int | None:
        """Row of a canonical chunk (None for unknown ids and stored duplicates)."""
        if getattr(self, "_rows", None) is None or self._rows_generation != self.generation:
            self._rows = {c.chunk_id: row for row, c in enumerate(self.row_chunks)}
            self._rows_generation = self.generation
        return self._rows.get(chunk_id)

    def rows_of_owners(self, owners: np.ndarray) -> np.ndarray:
        """Canonical rows of vector owners (text keys); -1 where the key is not in this generation."""
        owners = np.asarray(owners, dtype="int64")
        if not len(self.row_keys) or not len(owners):
            return np.full(len(owners), -1, dtype="int64")
        sorted_keys = self.row_keys[self._key_order]
        pos = np.minimum(np.searchsorted(sorted_keys, owners), len(sorted_keys) - 1)
        return np.where(sorted_keys[pos] == owners, self._key_order[pos], -1)

    def vector_ids(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Ids of the vectors of canonical `rows` (all rows when None)."""
        if rows is None:
            if self._all_vector_ids is None:
                self._all_vector_ids = ids_for(self.row_keys, self.row_views)
            return self._all_vector_ids
        rows = np.asarray(rows, dtype="int64")
        return ids_for(self.row_keys[rows], self.row_views[rows])

    @property
    def n_vectors(self) -> int:
        return int(self.row_views.sum())

    def dense_search(self, query: np.ndarray, depth: int, rows: np.ndarray | None = None):
        """Top `depth` chunk rows by their best vector: `(scores, rows)`, best first.

        Each chunk has a few vectors (see `passage_views`); enough are fetched to usually cover `depth`
        distinct chunks. Hits of vectors this generation does not know (a Milvus collection being
        updated by a writer) are skipped.
        """
        if self.vectors is None or not len(self.row_keys):
            return np.zeros(0, dtype="float32"), np.zeros(0, dtype="int64")
        allowed = None if rows is None else self.vector_ids(rows)
        k = depth * 8 if allowed is None else min(len(allowed), depth * 8)  # stores cap k at their size
        scores, ids = self.vectors.search(query, k, allowed)
        hit_rows = self.rows_of_owners(owner_of(ids))
        best: dict[int, float] = {}
        for score, row in zip(scores, hit_rows, strict=True):
            if row >= 0 and int(row) not in best:
                best[int(row)] = float(score)
                if len(best) == depth:
                    break
        out_rows = np.fromiter(best.keys(), dtype="int64", count=len(best))
        return np.fromiter(best.values(), dtype="float32", count=len(best)), out_rows

    def chunk_views(self, row: int) -> tuple[list[str], np.ndarray]:
        """The texts embedded for a chunk row (whole text, then sentences) and their stored vectors."""
        return passage_views(self.row_chunks[row].text), self.vectors.get(self.vector_ids(np.array([row])))

    @property
    def documents(self) -> dict[str, DocumentRecord]:
        return {doc_id: DocumentRecord(**rec) for doc_id, rec in self.manifest["documents"].items()}

    def stats(self) -> dict:
        vectors = self.manifest.get("vectors", {})
        return {
            "path": str(self.path),
            "generation": self.generation,
            "documents": len(self.manifest["documents"]),
            "chunks": len(self.row_chunks),
            "vectors": self.n_vectors,
            "duplicates": len(self.chunks) - len(self.row_chunks),
            "embedder": self.manifest.get("embedder"),
            "dim": self.manifest.get("dim"),
            "vector_backend": vectors.get("backend"),
            "vector_index": vectors.get("index", vectors.get("backend")),
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
        self.path.mkdir(parents=True, exist_ok=True)  # gone if the folder was deleted since it was opened
        return IndexWriter(self, near_duplicate_jaccard)


class IndexWriter:
    """Accumulates document changes in memory; `commit()` writes them as one new generation.

    Vectors and tokens are kept by chunk text key: a chunk whose text is already indexed (unchanged, moved,
    or re-added after removal) is never embedded again; only vectors of new texts are held in memory.
    """

    def __init__(self, index: ArticleIndex, near_duplicate_jaccard: float = 0.9):
        self.index = index
        self.documents: dict[str, DocumentRecord] = index.documents
        self.chunks: dict[str, StoredChunk] = {sc.chunk.chunk_id: sc for sc in index.chunks}
        self.base_views: dict[int, int] = dict(zip(index.row_keys.tolist(), index.row_views.tolist(),
                                                   strict=True))
        self.new_vectors: dict[int, np.ndarray] = {}  # text key -> (views, dim), not yet in the store
        # how the stored vectors were made (indexes written before this was recorded: "unknown")
        self.vector_kinds: set[str] = set(index.manifest.get("vector_kinds", ["unknown"] if index.generation else []))
        self.tokens: dict[int, list[str]] = {}
        if index.generation:
            with open(index.path / index.generation / "tokens.jsonl", encoding="utf-8") as fh:
                for key, line in zip(index.row_keys.tolist(), fh, strict=True):
                    self.tokens[key] = json.loads(line)
        self.duplicates = DuplicateFinder(near_duplicate_jaccard)
        for sc in self.chunks.values():
            if sc.dup_of is None:
                self.duplicates.add(sc.chunk.chunk_id, sc.chunk.text)
        self.changed = False

    @property
    def pending_embeddings(self) -> int:
        return len(self._unembedded())

    def _has_vectors(self, key: int) -> bool:
        return key in self.base_views or key in self.new_vectors

    def _unembedded(self) -> list[Chunk]:
        """Canonical chunks whose text has no vectors yet (distinct texts)."""
        todo, seen = [], set()
        for sc in self.chunks.values():
            if sc.dup_of is not None:
                continue
            key = text_key(sc.chunk.text)
            if not self._has_vectors(key) and key not in seen:
                seen.add(key)
                todo.append(sc.chunk)
        return todo

    def remove_document(self, doc_id: str) -> bool:
        """Drop a document and its chunks; a duplicate elsewhere of a removed chunk takes its place."""
        record = self.documents.pop(doc_id, None)
        if record is None:
            return False
        removed = set(record.chunk_ids)
        for chunk_id in removed:
            self.chunks.pop(chunk_id, None)
            self.duplicates.remove(chunk_id)
        orphans = [sc for sc in self.chunks.values() if sc.dup_of in removed]
        for sc in orphans:
            sc.dup_of = self.duplicates.find(sc.chunk.text)
            if sc.dup_of is None:  # promoted: it becomes the stored copy (embedded at commit if new)
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

    def embed_pending(self, embed: EmbedTexts | None = None, embed_views: EmbedViews | None = None) -> int:
        """Embed (and tokenize) the canonical chunks that have no vector yet; returns how many.

        `embed` gets every view text (`passage_views`) and embeds each on its own; `embed_views` gets the
        chunk texts with their `sentence_spans` and returns one ``(views, dim)`` array per chunk (one model
        pass per chunk, see `Embedder.embed_passage_views`). Pass one of them.
        """
        if (embed is None) == (embed_views is None):
            raise ValueError("pass exactly one of embed / embed_views")
        todo = self._unembedded()
        if todo:
            texts = [c.text for c in todo]
            spans = [sentence_spans(text) for text in texts]
            if embed_views is not None:
                per_chunk = [np.asarray(v, dtype="float32") for v in embed_views(texts, spans)]
            else:
                flat = [view for text in texts for view in passage_views(text)]
                vectors = np.asarray(embed(flat), dtype="float32")
                if vectors.shape[0] != len(flat):
                    raise RagError(f"embedder returned {vectors.shape[0]} vectors for {len(flat)} texts")
                bounds = np.cumsum([0] + [1 + len(s) for s in spans])
                per_chunk = [vectors[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
            for chunk, chunk_spans, vectors in zip(todo, spans, per_chunk, strict=True):
                if vectors.shape[0] != 1 + len(chunk_spans):
                    raise RagError(f"embedder returned {vectors.shape[0]} vectors for a chunk with "
                                   f"{1 + len(chunk_spans)} views")
                self.new_vectors[text_key(chunk.text)] = vectors
        for sc in self.chunks.values():
            key = text_key(sc.chunk.text)
            if sc.dup_of is None and key not in self.tokens:
                self.tokens[key] = tokenize(f"{sc.chunk.title or ''} {sc.chunk.text}")
        return len(todo)

    def commit(self, embed: EmbedTexts | None = None, embed_views: EmbedViews | None = None,
               vector_kind: str = "unknown") -> str:
        """Write everything as a new generation and switch to it atomically; returns its name.

        Chunks still without vectors are embedded first with `embed` or `embed_views` (see `embed_pending`).
        `vector_kind` names how new vectors were made (e.g. "int8/one_pass"); the manifest's "vector_kinds"
        lists every kind the stored vectors were made with.
        """
        if embed is not None or embed_views is not None:
            self.embed_pending(embed, embed_views)
        if self.new_vectors:
            self.vector_kinds.add(vector_kind)
        elif self.pending_embeddings:
            raise RagError(f"{self.pending_embeddings} chunks have no vector; pass an embed function")
        index = self.index
        with index.locked():
            ordered = self._ordered_chunks()
            rows = [sc.chunk for sc in ordered if sc.dup_of is None]
            keys = np.array([text_key(c.text) for c in rows], dtype="int64")
            if len(np.unique(keys)) != len(keys):
                raise RagError("two stored chunks have the same text; the duplicate finder should have merged them")
            views = np.array([self.new_vectors[k].shape[0] if k in self.new_vectors else self.base_views[k]
                              for k in keys.tolist()], dtype="int64")
            dim = (next(iter(self.new_vectors.values())).shape[1] if self.new_vectors
                   else index.manifest.get("dim"))
            kept = set(keys.tolist())
            added = [k for k in keys.tolist() if k not in self.base_views]
            gone = [k for k in self.base_views if k not in kept]
            add_ids, add_vectors = self._vectors_of(added)
            gone_ids = ids_for(np.array(gone, dtype="int64"), np.array([self.base_views[k] for k in gone]))
            previous = index.current_generation()
            number = int(previous.split("-")[1]) + 1 if previous else 1
            name = f"gen-{number:06d}"
            for stale in index.path.glob(".tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = index.path / f".tmp-{name}-{os.getpid()}"
            tmp.mkdir()
            vectors_entry = dict(index.manifest.get("vectors") or ArticleIndex._vectors_entry(index.spec))
            store = None
            if dim is not None:
                store = index._open_vectors(index.path / previous if previous else None, dim)
            shared = store is not None and store.shared_across_generations
            if shared:
                vectors_entry["collection"] = index.milvus_location(vectors_entry)[1]
                self._finish_journal(store)
                _write_file(index.path / "vectors.journal", json.dumps(
                    {"generation": name, "add": add_ids.tolist(), "delete": gone_ids.tolist()}))
                store.add(add_ids, add_vectors)
            elif store is not None:
                store.delete(gone_ids)
                store.add(add_ids, add_vectors)
                store.save(tmp / "dense.faiss")
                vectors_entry.update(index=store.kind)
            manifest = {
                "format": FORMAT_VERSION,
                "embedder": index.embedder,
                "dim": dim,
                "created": time.time(),
                "vectors": vectors_entry,
                "vector_kinds": sorted(self.vector_kinds) if len(rows) else [],
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
                "".join(json.dumps(self.tokens[k], ensure_ascii=False) + "\n" for k in keys.tolist()),
            )
            with open(tmp / "vector_rows.npz", "wb") as fh:
                np.savez(fh, keys=keys, views=views)
            KeywordIndex.build([self.tokens[k] for k in keys.tolist()]).save(tmp / "keyword")
            for f in tmp.rglob("*"):
                if f.is_file():
                    with open(f, "rb") as fh:
                        os.fsync(fh.fileno())
            _fsync_dir(tmp)
            os.rename(tmp, index.path / name)
            _write_file(index.path / "CURRENT.tmp", name + "\n")
            os.replace(index.path / "CURRENT.tmp", index.path / "CURRENT")
            _fsync_dir(index.path)
            if shared:  # removed vectors go only once no generation in use needs them
                store.delete(gone_ids)
                (index.path / "vectors.journal").unlink()
            # Keep the previous generation for readers that are still loading it; drop older ones.
            for old in index.path.glob("gen-*"):
                if old.name not in (name, previous):
                    shutil.rmtree(old, ignore_errors=True)
        index.reload()
        self.base_views = dict(zip(index.row_keys.tolist(), index.row_views.tolist(), strict=True))
        self.new_vectors.clear()
        self.changed = False
        return name

    def _vectors_of(self, keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and vectors of the newly embedded texts `keys`, in order."""
        dim = next(iter(self.new_vectors.values())).shape[1] if self.new_vectors else 1
        if not keys:
            return np.zeros(0, dtype="int64"), np.zeros((0, dim), dtype="float32")
        ids = [vector_id(k, v) for k in keys for v in range(len(self.new_vectors[k]))]
        return np.array(ids, dtype="int64"), np.concatenate([self.new_vectors[k] for k in keys])

    def _finish_journal(self, store: VectorStore) -> None:
        """Undo what a crashed commit left in a shared store: its ids the live generation does not use."""
        journal = self.index.path / "vectors.journal"
        if not journal.exists():
            return
        try:
            pending = json.loads(journal.read_text())
        except (OSError, ValueError):
            journal.unlink(missing_ok=True)
            return
        live = set(self.index.vector_ids().tolist())
        stray = [i for i in pending.get("add", []) + pending.get("delete", []) if i not in live]
        store.delete(np.array(stray, dtype="int64"))
        journal.unlink()

    def _ordered_chunks(self) -> list[StoredChunk]:
        """Chunks grouped by document (sorted doc_id) in reading order: stable row numbers across commits."""
        ordered = []
        for doc_id in sorted(self.documents):
            for chunk_id in self.documents[doc_id].chunk_ids:
                sc = self.chunks.get(chunk_id)
                if sc is not None:
                    ordered.append(sc)
        return ordered
