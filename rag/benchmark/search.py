"""End-to-end hybrid search latency on a corpus of N paragraphs (10k, 100k ...), through the real code.

The corpus is built from CMRC 2018 sentences recombined into N distinct paragraphs and written through
`IndexWriter` (dedup, jieba tokens, BM25, the configured vector store: flat or IVF past the threshold).
Only the passage vectors are synthetic (embedding 100k paragraphs here would take hours); the question
is embedded by the real model, and BM25 runs over real segmented Chinese text, so the measured time is
what `rag search` costs at that size: query embedding + vector search + BM25 + fusion.

>>> row = measure_search(10_000, questions, config)  # doctest: +SKIP
>>> row["search_p50_ms"] < 50  # doctest: +SKIP
True
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from rag.chunking import split_sentences
from rag.config import Config
from rag.schema import Chunk
from vectorstore.base import StoreSpec
from vectorstore.index import ArticleIndex, DocumentRecord

PARAGRAPHS_PER_DOC = 20


def synthetic_paragraphs(sentences: list[str], n: int, seed: int = 0) -> list[tuple[str, list[int]]]:
    """`n` distinct paragraphs of 3-6 sentences drawn from `sentences`: (text, the sentences it is made of)."""
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        picks = rng.integers(0, len(sentences), rng.integers(3, 7)).tolist()
        text = "".join(sentences[i] for i in picks)
        if text not in seen:
            seen.add(text)
            out.append((text, picks))
    return out


def corpus_sentences(articles) -> list[str]:
    return [s for a in articles for p in a.paragraphs for s in split_sentences(p) if len(s) >= 8]


def build_index(folder: Path, sentences: list[str], paragraphs: list[tuple[str, list[int]]], spec: StoreSpec,
                dim: int = 384) -> tuple[ArticleIndex, float]:
    """Index `paragraphs` (one chunk each) with synthetic unit vectors; returns the index and build seconds.

    jieba cuts text into blocks at punctuation, so a paragraph's tokens are its sentences' tokens in order:
    each distinct sentence is segmented once (the same tokens ingest would compute, 20x less work).
    """
    from rag.benchmark.vectors import synthetic_vectors
    from vectorstore.base import text_key
    from vectorstore.keyword import tokenize

    t0 = time.perf_counter()
    index = ArticleIndex.open(folder, embedder="bench", create=True, spec=spec)
    writer = index.writer(near_duplicate_jaccard=1.0)  # exact duplicates only: the texts are distinct anyway
    sentence_tokens: dict[int, list[str]] = {}
    for text, picks in paragraphs:
        tokens = []
        for i in picks:
            if i not in sentence_tokens:
                sentence_tokens[i] = tokenize(sentences[i])
            tokens.extend(sentence_tokens[i])
        writer.tokens[text_key(text)] = tokens
    paragraphs = [text for text, _ in paragraphs]
    for start in range(0, len(paragraphs), PARAGRAPHS_PER_DOC):
        doc_id = f"bench-{start // PARAGRAPHS_PER_DOC:07d}"
        chunks = [Chunk(f"{doc_id}#{i}", doc_id, None, "2018-01-01", "cmrc", text, i)
                  for i, text in enumerate(paragraphs[start:start + PARAGRAPHS_PER_DOC])]
        writer.put_document(DocumentRecord(doc_id, doc_id), chunks)
    produced = [0]

    def embed(texts):
        vectors = synthetic_vectors(produced[0] + len(texts), dim=dim)[produced[0]:]
        produced[0] += len(texts)
        return vectors

    writer.commit(embed)
    return index, time.perf_counter() - t0


def measure_search(n_paragraphs: int, questions: list[str], articles, config: Config, queries: int = 100,
                   progress=print) -> dict:
    """Build an `n_paragraphs` index in a temp folder and time hybrid searches of real questions."""
    from rag.index import Index

    sentences = corpus_sentences(articles)
    paragraphs = synthetic_paragraphs(sentences, n_paragraphs)
    spec = StoreSpec.from_config(config)
    with tempfile.TemporaryDirectory(prefix="rag-bench-search-") as tmp:
        progress(f"search: building a {n_paragraphs:,}-paragraph index ({spec.backend})")
        store, build_s = build_index(Path(tmp) / "index", sentences, paragraphs, spec)
        index = Index(store, config)
        index.embed_query("warm up the model")
        timings = {"embed": [], "total": []}
        for question in questions[:queries]:
            t0 = time.perf_counter()
            vector = index.embedder.embed_query(question)
            t1 = time.perf_counter()
            index._query_cache[question] = vector
            index.search(question, k=config.top_k)
            t2 = time.perf_counter()
            timings["embed"].append(t1 - t0)
            timings["total"].append(t2 - t0)
        stats = store.stats()
        from vectorstore.milvus_store import close_clients

        close_clients()
    total_ms, embed_ms = np.array(timings["total"]) * 1000, np.array(timings["embed"]) * 1000
    return {
        "paragraphs": n_paragraphs, "vectors": stats["vectors"], "backend": spec.backend,
        "vector_index": stats["vector_index"], "build_s": round(build_s, 1),
        "search_p50_ms": round(float(np.percentile(total_ms, 50)), 1),
        "search_p95_ms": round(float(np.percentile(total_ms, 95)), 1),
        "query_embed_p50_ms": round(float(np.percentile(embed_ms, 50)), 1),
        "retrieval_p50_ms": round(float(np.percentile(total_ms - embed_ms, 50)), 1),
        "queries": len(timings["total"]),
    }


def measure_langchain_search(n_paragraphs: int, questions: list[str], articles, config: Config,
                             queries: int = 100, progress=print) -> dict:
    """The plain LangChain baseline at the same size: `FAISS.similarity_search` (flat index) with the same
    e5 model embedding the question, over the same synthetic paragraphs and vectors."""
    from langchain_community.vectorstores import FAISS

    from rag.benchmark.langchain_baseline import langchain_embeddings
    from rag.benchmark.vectors import synthetic_vectors
    from rag.models import resolve_embedder

    paragraphs = [text for text, _ in synthetic_paragraphs(corpus_sentences(articles), n_paragraphs)]
    embeddings = langchain_embeddings(resolve_embedder(config.embedder, config.models_dir))
    progress(f"search: building the LangChain FAISS store of {n_paragraphs:,} paragraphs")
    t0 = time.perf_counter()
    store = FAISS.from_embeddings(list(zip(paragraphs, synthetic_vectors(n_paragraphs).tolist(), strict=True)),
                                  embeddings)
    build_s = time.perf_counter() - t0
    store.similarity_search("warm up the model", k=config.top_k)
    latencies = []
    for question in questions[:queries]:
        t = time.perf_counter()
        store.similarity_search(question, k=config.top_k)
        latencies.append(time.perf_counter() - t)
    ms = np.array(latencies) * 1000
    return {"paragraphs": n_paragraphs, "vectors": n_paragraphs, "backend": "langchain-faiss",
            "build_s": round(build_s, 1),
            "search_p50_ms": round(float(np.percentile(ms, 50)), 1),
            "search_p95_ms": round(float(np.percentile(ms, 95)), 1), "queries": len(ms)}
