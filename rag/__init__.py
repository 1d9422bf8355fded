"""Conversational Q&A over news articles, with citations.

>>> import rag
>>> report = rag.ingest(["articles/"], index="my-index")          # doctest: +SKIP
>>> hits = rag.search("拉夫罗夫 日内瓦", index="my-index", k=5)     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from rag.answering import ask
from rag.config import Config
from rag.errors import BadFileError, ConfigError, ModelError, RagError
from rag.index import Index, open_index, sample_articles_dir
from rag.ingest import ingest, ingest_articles, remove_documents
from rag.schema import Answer, Article, Chunk, Citation, FileFailure, Hit, IngestReport

__version__ = "0.1.0"


def search(query: str, index: str | Path | Index | None = None, k: int = 5, mode: str = "hybrid",
           filters: dict | None = None, config: Config | None = None) -> list[Hit]:
    """The `k` best passages for `query`, best first (hybrid dense + BM25 by default).

    `filters`: {"source": "新华社", "date": [(">=", "2022-01-01"), ("<", "2023-01-01")], "doc_id": [...]}.
    """
    return open_index(index, config).search(query, k=k, mode=mode, filters=filters)


__all__ = [
    "Answer", "Article", "BadFileError", "Chunk", "Citation", "Config", "ConfigError", "FileFailure", "Hit",
    "Index", "IngestReport", "ModelError", "RagError", "ask", "ingest", "ingest_articles", "open_index",
    "remove_documents", "sample_articles_dir", "search",
]
