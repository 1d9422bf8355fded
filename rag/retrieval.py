"""Hybrid retrieval: dense (FAISS) + keyword (BM25) rankings fused by reciprocal rank fusion.

>>> import rag
>>> hits = rag.search("How long did the Geneva talks last?", k=3)     # doctest: +SKIP
>>> hits[0].doc_id                                                     # doctest: +SKIP
'000_830f0738273cd064.txt'
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import numpy as np

from rag.crosslingual import chinese_keywords
from rag.language import detect_language
from rag.schema import Hit
from vectorstore.index import ArticleIndex
from vectorstore.keyword import tokenize

_DATE_OPS: dict[str, Callable[[str, str], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}


class SearchMode(Enum):
    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"

    @classmethod
    def from_str(cls, name: str | SearchMode) -> SearchMode:
        if isinstance(name, cls):
            return name
        try:
            return cls(str(name).lower())
        except ValueError:
            raise ValueError(f"unknown search mode {name!r}; valid: {[m.value for m in cls]}") from None


def reciprocal_rank_fusion(rankings: list[np.ndarray], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked lists of row ids: score(d) = sum over lists r of 1 / (k + rank_r(d)), rank from 1.

    A row missing from a list contributes nothing for it. `k` (60 in Cormack et al., 2009) damps the
    head of each list so that one retriever's top hit cannot outvote agreement further down.

    >>> reciprocal_rank_fusion([np.array([3, 1]), np.array([1, 2])], k=60)[0][0]
    1
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def keyword_query(query: str) -> list[str]:
    """The BM25 tokens of `query`; an English query also gets its Chinese keywords (`rag.crosslingual`).

    >>> keyword_query("日内瓦会谈")
    ['日内瓦', '会谈']
    >>> "日内瓦" in keyword_query("talks in Geneva")
    True
    """
    tokens = tokenize(query)
    if detect_language(query) == "en":
        tokens += tokenize(" ".join(chinese_keywords(query)))
    return tokens


def parse_filters(filters: dict | None) -> dict:
    """Validate a filter dict: {"source": str | [str], "doc_id": str | [str], "date": [(op, "YYYY-MM-DD"), ...]}.

    >>> parse_filters({"date": [(">=", "2022-01-01")], "source": "新华社"})["source"]
    {'新华社'}
    """
    if not filters:
        return {}
    parsed: dict = {}
    for key, value in filters.items():
        if key in ("source", "doc_id"):
            parsed[key] = {value} if isinstance(value, str) else set(value)
        elif key == "date":
            conditions = [value] if isinstance(value, tuple) else list(value)
            for cond in conditions:
                if len(cond) != 2 or cond[0] not in _DATE_OPS:
                    raise ValueError(f"date filter {cond!r}: expected (op, 'YYYY-MM-DD') with op in {list(_DATE_OPS)}")
            parsed["date"] = [(op, str(bound)) for op, bound in conditions]
        else:
            raise ValueError(f"unknown filter {key!r}; valid: source, doc_id, date")
    return parsed


class HybridRetriever:
    """Searches one opened `ArticleIndex`; `embed_query` turns a question into a normalized vector.

    Example::

        retriever = HybridRetriever(store, embedder.embed_query, candidates=50, rrf_k=60)
        hits = retriever.search("拉夫罗夫 日内瓦", k=5, filters={"source": "新华社"})
    """

    def __init__(self, store: ArticleIndex, embed_query: Callable[[str], np.ndarray],
                 candidates: int = 50, rrf_k: int = 60):
        if candidates <= 0 or rrf_k <= 0:
            raise ValueError(f"candidates and rrf_k must be > 0, got {candidates}, {rrf_k}")
        self.store = store
        self.embed_query = embed_query
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(self, query: str, k: int = 5, mode: str | SearchMode = "hybrid",
               filters: dict | None = None) -> list[Hit]:
        """The `k` best chunks for `query`, best first."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        mode = SearchMode.from_str(mode)
        conditions = parse_filters(filters)
        rows_total = len(self.store.row_chunks)
        if rows_total == 0 or not query.strip():
            return []
        allowed = self._allowed_rows(conditions) if conditions else None
        if allowed is not None and len(allowed) == 0:
            return []
        depth = max(k, self.candidates)
        if mode is SearchMode.DENSE:
            return self._hits(*self._dense(query, depth, allowed), k)
        if mode is SearchMode.BM25:
            return self._hits(*self._keyword(query, depth, allowed), k)
        dense_rows = self._dense(query, depth, allowed)[1]
        keyword_rows = self._keyword(query, depth, allowed)[1]
        fused = reciprocal_rank_fusion([dense_rows, keyword_rows], self.rrf_k)
        rows = np.array([row for row, _ in fused], dtype="int64")
        scores = np.array([score for _, score in fused], dtype="float32")
        return self._hits(scores, rows, k)

    def _dense(self, query: str, depth: int, allowed: np.ndarray | None):
        """Top chunks by their best vector (whole text or one sentence, see `passage_views`)."""
        return self.store.dense_search(self.embed_query(query), depth, allowed)

    def _keyword(self, query: str, depth: int, allowed: np.ndarray | None):
        scores = self.store.keyword.scores(keyword_query(query))
        if allowed is not None:
            masked = np.full_like(scores, -np.inf)
            masked[allowed] = scores[allowed]
            scores = masked
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]  # rows sharing no query word are not keyword matches
        return scores[top], top

    def _allowed_rows(self, conditions: dict) -> np.ndarray:
        keep = []
        for row, chunk in enumerate(self.store.row_chunks):
            if "source" in conditions and chunk.source not in conditions["source"]:
                continue
            if "doc_id" in conditions and chunk.doc_id not in conditions["doc_id"]:
                continue
            if "date" in conditions and (
                chunk.date is None or not all(_DATE_OPS[op](chunk.date, b) for op, b in conditions["date"])
            ):
                continue
            keep.append(row)
        return np.array(keep, dtype="int64")

    def _hits(self, scores: np.ndarray, rows: np.ndarray, k: int) -> list[Hit]:
        hits = []
        for score, row in zip(scores[:k], rows[:k], strict=True):
            c = self.store.row_chunks[int(row)]
            hits.append(Hit(c.chunk_id, c.doc_id, c.title, c.date, c.source, c.text, float(score), c.position))
        return hits
