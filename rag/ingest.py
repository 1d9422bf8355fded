"""Files and folders -> cleaned articles -> chunks -> the index, incrementally and crash-safely.

- A file whose bytes are unchanged since the last ingest (same sha256) is not read, cleaned or embedded.
- A changed file replaces its chunks; only chunks without a stored vector are embedded.
- A file deleted from a folder that was ingested before is removed when that folder is ingested again.
- Work is committed every `commit_every_chunks` new chunks as a new index generation, so a crash loses at
  most the batch in progress; a broken file is reported with its reason and the rest goes on.

>>> import rag, tempfile
>>> report = rag.ingest([rag.sample_articles_dir()], index=tempfile.mkdtemp())    # doctest: +SKIP
>>> len(report.added), report.failed                                                 # doctest: +SKIP
(5, [])
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from pathlib import Path

from tqdm.auto import tqdm

from rag.chunking import split_article
from rag.cleaning import clean_article
from rag.config import Config
from rag.errors import BadFileError, RagError
from rag.index import Index, _progress_enabled, open_index
from rag.loading import read_document
from rag.schema import Article, FileFailure, IngestReport
from vectorstore.index import DocumentRecord, IndexWriter


def ingest(paths: Iterable[str | Path], index: str | Path | Index | None = None,
           config: Config | None = None, progress: bool | None = None) -> IngestReport:
    """Ingest files and/or folders into `index` (created if missing; `None` = the samples' index)."""
    opened = open_index(index, config, create=True)
    return ingest_into(opened, paths, progress=progress)


def ingest_articles(articles: Iterable[Article], index: str | Path | Index | None = None,
                    config: Config | None = None, progress: bool | None = None) -> IngestReport:
    """Index already-cleaned articles (e.g. benchmark paragraphs); unchanged ones are skipped."""
    opened = open_index(index, config, create=True)
    started = time.perf_counter()
    report = IngestReport()
    writer = opened.store.writer(opened.config.near_duplicate_jaccard)
    articles = list(articles)
    show = _progress_enabled(progress if progress is not None else opened.config.progress)
    for article in tqdm(articles, desc="Indexing articles", unit="doc", disable=not show):
        digest = hashlib.sha256(json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        _put(opened, writer, article, DocumentRecord(article.doc_id, digest), report)
        if writer.pending_embeddings >= opened.config.commit_every_chunks:
            _commit(opened, writer, report, show)
    if writer.changed:
        _commit(opened, writer, report, show)
    report.seconds = time.perf_counter() - started
    return report


def remove_documents(doc_ids: Iterable[str], index: str | Path | Index | None = None,
                     config: Config | None = None) -> list[str]:
    """Remove documents by doc_id; returns the ones that were in the index."""
    opened = open_index(index, config)
    writer = opened.store.writer(opened.config.near_duplicate_jaccard)
    removed = [doc_id for doc_id in doc_ids if writer.remove_document(doc_id)]
    if writer.changed:
        _commit(opened, writer, IngestReport(), show=False)
    return removed


def ingest_into(opened: Index, paths: Iterable[str | Path], progress: bool | None = None) -> IngestReport:
    """Ingest `paths` into an opened index; see the module docstring for what is (not) redone."""
    started = time.perf_counter()
    config = opened.config
    show = _progress_enabled(progress if progress is not None else config.progress)
    report = IngestReport()
    files, folders = _collect_files(paths, report)
    writer = opened.store.writer(config.near_duplicate_jaccard)
    known = writer.documents
    for path, doc_id, folder in tqdm(files, desc="Ingesting", unit="file", disable=not show):
        try:
            digest = _file_digest(path, config.max_file_bytes)
            previous = known.get(doc_id)
            if previous is not None and previous.sha256 == digest:
                report.unchanged.append(doc_id)
                continue
            text, kind = read_document(path, config.max_file_bytes)
            article = clean_article(text, doc_id, kind)
        except BadFileError as exc:
            report.failed.append(FileFailure(str(path), exc.reason))
            continue
        except Exception as exc:  # a bug on one odd page must not lose the rest of the batch
            report.failed.append(FileFailure(str(path), f"could not be cleaned ({type(exc).__name__}: {exc})"))
            continue
        record = DocumentRecord(doc_id, digest, path=str(path), folder=folder)
        _put(opened, writer, article, record, report, previous is not None)
        if writer.pending_embeddings >= opened.config.commit_every_chunks:
            _commit(opened, writer, report, show)
    seen = {doc_id for _, doc_id, _ in files}
    for doc_id, record in list(writer.documents.items()):
        if record.folder in folders and doc_id not in seen:
            writer.remove_document(doc_id)
            report.removed.append(doc_id)
    if writer.changed:
        _commit(opened, writer, report, show)
    report.seconds = time.perf_counter() - started
    return report


def _put(opened: Index, writer: IndexWriter, article: Article, record: DocumentRecord,
         report: IngestReport, replacing: bool | None = None) -> None:
    if replacing is None:
        previous = writer.documents.get(article.doc_id)
        if previous is not None and previous.sha256 == record.sha256:
            report.unchanged.append(article.doc_id)
            return
        replacing = previous is not None
    if not article.paragraphs:
        report.failed.append(FileFailure(record.path or article.doc_id, "no article text found after cleaning"))
        return
    record.title, record.date, record.source = article.title, article.date, article.source
    chunks = split_article(article, opened.config.chunk_max_chars, opened.config.chunk_min_chars)
    new, dups = writer.put_document(record, chunks)
    report.chunks_added += new
    report.duplicates_skipped += dups
    (report.updated if replacing else report.added).append(article.doc_id)


def _commit(opened: Index, writer: IndexWriter, report: IngestReport, show: bool) -> None:
    pending = writer.pending_embeddings
    kind = opened.vector_kind
    if not pending:
        writer.commit()
    elif opened.config.sentence_vectors == "one_pass":
        writer.commit(embed_views=lambda texts, spans: opened.embedder.embed_passage_views(texts, spans, show),
                      vector_kind=kind)
    else:
        writer.commit(lambda texts: opened.embed_passages(texts, progress=show), vector_kind=kind)
    report.chunks_embedded += pending


def _file_digest(path: Path, max_bytes: int) -> str:
    """sha256 of the file's bytes; oversized and unreadable files fail here, before any work."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFileError(str(path), f"file too large ({size:,} bytes; the limit is {max_bytes:,})")
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise BadFileError(str(path), "no such file") from None
    except PermissionError:
        raise BadFileError(str(path), "permission denied") from None
    except IsADirectoryError:
        raise BadFileError(str(path), "is a folder") from None


def _collect_files(paths: Iterable[str | Path], report: IngestReport):
    """(path, doc_id, folder) for every file to ingest, and the set of ingested folders.

    doc_id is the path relative to the ingested folder (or the file name for a single file);
    hidden files and folders (".git", ".DS_Store") are skipped.
    """
    files: list[tuple[Path, str, str | None]] = []
    folders: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            folder = path.resolve()
            folders.add(str(folder))
            for file in sorted(folder.rglob("*")):
                rel = file.relative_to(folder)
                if file.is_file() and not any(part.startswith(".") for part in rel.parts):
                    files.append((file, rel.as_posix(), str(folder)))
        elif path.is_file():
            files.append((path.resolve(), path.name, None))
        elif path.exists():
            report.failed.append(FileFailure(str(path), "not a regular file or folder"))
        else:
            report.failed.append(FileFailure(str(path), "no such file or folder"))
    return files, folders


__all__ = ["ingest", "ingest_articles", "ingest_into", "remove_documents", "RagError"]
