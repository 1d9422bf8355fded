"""Search latency, memory and recall of each vector backend as the corpus grows (1k ... 1M vectors).

Vectors past the real corpus are synthetic but shaped like sentence embeddings: unit vectors around
a few thousand topic centres sharing one common direction (e5 vectors are anisotropic: unrelated texts
still have cosine ~0.7), so approximate indexes see realistic cluster structure, not uniform noise on
which every ANN method looks worse than it is in use. Queries are fresh draws of the same process.

Each (backend, size) is measured in its own subprocess, so memory is what that store alone added to a
process (RSS after building it, minus RSS before its vectors existed) and one backend's allocations
cannot inflate another's. Exact top-10 from a brute-force numpy scan is the ground truth for recall.

>>> rows = measure_backends([1000], ["faiss-flat"], queries=20)  # doctest: +SKIP
>>> rows[0]["recall_at_10"]  # doctest: +SKIP
1.0
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
CENTRES = 4096
BACKENDS = ("faiss-flat", "faiss-ivf", "milvus-lite")
K = 10
NOISE = 0.9  # norm of the per-vector noise around its topic centre (top-1 cosine ~0.78, mean ~0.44)


def synthetic_vectors(n: int, seed: int = 0, dim: int = DIM, block: int = 100_000) -> np.ndarray:
    """`n` unit vectors with embedding-like structure; the same for the same (n, seed)."""
    centres_rng = np.random.default_rng(12345)
    common = centres_rng.normal(size=dim).astype("float32")
    common /= np.linalg.norm(common)
    centres = centres_rng.normal(size=(CENTRES, dim)).astype("float32")
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype="float32")
    for start in range(0, n, block):
        rng = np.random.default_rng([seed, start])
        size = min(block, n - start)
        topic = centres[rng.integers(0, CENTRES, size)]
        noise = rng.normal(scale=NOISE / np.sqrt(dim), size=(size, dim)).astype("float32")
        v = 1.2 * common + topic + noise
        out[start : start + size] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = K, block: int = 200_000) -> np.ndarray:
    """Row numbers of the exact top-`k` inner products, per query (the recall ground truth)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype="float32")
    best_rows = np.zeros((len(queries), k), dtype="int64")
    for start in range(0, len(vectors), block):
        scores = queries @ vectors[start : start + block].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        merged_rows = np.concatenate([best_rows, top + start], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, 1)
        best_rows = np.take_along_axis(merged_rows, order, 1)
    return best_rows


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _build(backend: str, n: int, vectors: np.ndarray, workdir: Path, nprobe: int):
    ids = np.arange(n, dtype="int64")
    if backend == "milvus-lite":
        from vectorstore.milvus_store import MilvusStore

        store = MilvusStore(str(workdir / "bench.db"), "bench", DIM)
    else:
        from vectorstore.faiss_store import FaissStore

        store = FaissStore(DIM, ann_threshold=n + 1, nprobe=nprobe)  # no switching while adding
        if backend == "faiss-ivf":
            store.add(ids, vectors)
            store._rebuild_ivf()  # train IVF once, on everything
            return store
    store.add(ids, vectors)
    return store


def measure_one(backend: str, n: int, queries: np.ndarray, truth: np.ndarray, nprobe: int = 32,
                k_latency: int = K) -> dict:
    """Build one store of `n` synthetic vectors and time `len(queries)` searches (run in a subprocess)."""
    rss_start = _rss_mb()
    vectors = synthetic_vectors(n)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as workdir:
        t0 = time.perf_counter()
        store = _build(backend, n, vectors, Path(workdir), nprobe)
        build_s = time.perf_counter() - t0
        del vectors
        gc.collect()
        memory_mb = _rss_mb() - rss_start
        store.search(queries[0], K)  # warm (milvus-lite loads segments on first search)
        latencies, hits = [], []
        for q in queries:
            t = time.perf_counter()
            _, found = store.search(q, k_latency)
            latencies.append(time.perf_counter() - t)
            hits.append(found[:K])
        recall = float(np.mean([len(set(h.tolist()) & set(t.tolist())) / K for h, t in zip(hits, truth, strict=True)]))
        info = store.describe()
        if backend == "milvus-lite":
            from vectorstore.milvus_store import close_clients

            close_clients()
    latencies_ms = np.array(latencies) * 1000
    return {
        "backend": backend, "vectors": n, "build_s": round(build_s, 2), "memory_mb": round(memory_mb, 1),
        "search_p50_ms": round(float(np.percentile(latencies_ms, 50)), 3),
        "search_p95_ms": round(float(np.percentile(latencies_ms, 95)), 3),
        "recall_at_10": round(recall, 4), "queries": len(queries), "k": k_latency,
        "index": info.get("index", info.get("backend")), "nlist": info.get("nlist"), "nprobe": info.get("nprobe"),
    }


def measure_backends(sizes: list[int], backends: list[str] | tuple[str, ...] = BACKENDS, queries: int = 200,
                     nprobe: int = 32, progress=print, timeout_s: float = 3600) -> list[dict]:
    """Every backend at every size, each in a fresh subprocess; a failed run is a row with its error."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-q-") as tmp:
        query_vectors = synthetic_vectors(queries, seed=999_999)
        for n in sizes:
            truth = exact_top_k(synthetic_vectors(n), query_vectors)
            np.save(Path(tmp) / "queries.npy", query_vectors)
            np.save(Path(tmp) / "truth.npy", truth)
            for backend in backends:
                progress(f"vectors: {backend} at {n:,}")
                out = Path(tmp) / "row.json"
                cmd = [sys.executable, "-m", "rag.benchmark.vectors", "--backend", backend, "--n", str(n),
                       "--dir", tmp, "--nprobe", str(nprobe), "--out", str(out)]
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
                    if proc.returncode == 0:
                        rows.append(json.loads(out.read_text()))
                    else:
                        rows.append({"backend": backend, "vectors": n, "error": proc.stderr.strip()[-500:]})
                except subprocess.TimeoutExpired:
                    rows.append({"backend": backend, "vectors": n, "error": f"timed out after {timeout_s:.0f} s"})
                if "error" in rows[-1]:
                    progress(f"  failed: {rows[-1]['error'][-200:]}")
    return rows


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="One vector-store measurement (used by `rag bench`).")
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--dir", required=True, help="folder with queries.npy and truth.npy")
    parser.add_argument("--nprobe", type=int, default=32)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    row = measure_one(args.backend, args.n, np.load(folder / "queries.npy"), np.load(folder / "truth.npy"),
                      nprobe=args.nprobe)
    Path(args.out).write_text(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
