"""Vectors in FAISS, embedded in the index folder: exact flat search for small corpora, IVF past a threshold.

Up to `ann_threshold` vectors the store is `IndexIDMap2(IndexFlatIP)`: exact, and a flat scan of 100k
384-d vectors still takes only milliseconds. Past it the store rebuilds itself as `IndexIVFFlat`
(inner product, ``nlist = 2·sqrt(n)`` lists, `nprobe` lists searched), which keeps search time nearly
flat as the corpus grows; its recall against flat is measured by `rag bench`. Both support adding and
deleting by id, so updates stay incremental; IVF re-trains its lists when the corpus has grown 4x past
what they were trained on, and shrinks back to flat below half the threshold.

>>> import numpy as np
>>> store = FaissStore(dim=3)
>>> store.add(np.array([10, 11, 12]), np.eye(3, dtype="float32"))
>>> scores, ids = store.search(np.array([0, 1, 0], dtype="float32"), k=2)
>>> int(ids[0]), len(store)
(11, 3)
>>> store.delete(np.array([11])), len(store)
(1, 2)
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

TRAIN_POINTS_PER_LIST = 40  # k-means sample: enough for stable centroids, cheap to train


def _normalized(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype="float32").reshape(-1, dim)


def _ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype="int64").reshape(-1))


class FaissStore:
    """A `vectorstore.base.VectorStore` in one FAISS index (flat, or IVF past `ann_threshold`)."""

    shared_across_generations = False

    def __init__(self, dim: int, index: faiss.Index | None = None, ann_threshold: int = 100_000,
                 nprobe: int = 32):
        if dim <= 0:
            raise ValueError(f"dim must be > 0, got {dim}")
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if self.kind == "ivf":
            self._prepare_ivf(self.index)

    # ---- what it is ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return "ivf" if isinstance(faiss.downcast_index(self.index), faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return self.index.ntotal

    def describe(self) -> dict:
        info = {"backend": "faiss", "index": self.kind, "vectors": len(self), "dim": self.dim}
        if self.kind == "ivf":
            ivf = faiss.downcast_index(self.index)
            info.update(nlist=ivf.nlist, nprobe=self.nprobe)
        info["bytes"] = len(self) * self.dim * 4
        return info

    # ---- writing -------------------------------------------------------------------------------
    def add(self, ids, vectors: np.ndarray) -> None:
        ids, vectors = _ids(ids), _normalized(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if not len(ids):
            return
        self.delete(ids)  # replace semantics, like an upsert
        self.index.add_with_ids(vectors, ids)
        self._adapt()

    def delete(self, ids) -> int:
        ids = _ids(ids)
        if not len(ids) or not len(self):
            return 0
        selector = faiss.IDSelectorArray(ids) if self.kind == "ivf" else faiss.IDSelectorBatch(ids)
        removed = int(self.index.remove_ids(selector))
        if removed:
            self._adapt()
        return removed

    # ---- reading -------------------------------------------------------------------------------
    def get(self, ids) -> np.ndarray:
        ids = _ids(ids)
        out = np.empty((len(ids), self.dim), dtype="float32")
        for i, vid in enumerate(ids):
            try:
                out[i] = self.index.reconstruct(int(vid))
            except RuntimeError:
                raise KeyError(int(vid)) from None
        return out

    def search(self, query: np.ndarray, k: int, ids=None) -> tuple[np.ndarray, np.ndarray]:
        n = len(self) if ids is None else len(ids)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype="float32"), np.zeros(0, dtype="int64")
        q = _normalized(query, self.dim)[:1]
        selector = None if ids is None else faiss.IDSelectorBatch(_ids(ids))
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
        else:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # one query: OpenMP threads only spin (10x slower on a busy machine)
        try:
            scores, found = self.index.search(q, k, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        keep = found[0] >= 0
        return scores[0][keep], found[0][keep]

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Every `(ids, vectors)` stored (used to rebuild as another index type)."""
        if self.kind == "flat":
            ids = faiss.vector_to_array(self.index.id_map).astype("int64")
            inner = faiss.downcast_index(self.index.index)
            vectors = inner.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), "float32")
            return ids, vectors
        ivf = faiss.downcast_index(self.index)
        lists = ivf.invlists
        all_ids, all_vectors = [], []
        for list_no in range(ivf.nlist):
            size = lists.list_size(list_no)
            if size:
                all_ids.append(faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy())
                codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * ivf.code_size).copy()
                all_vectors.append(codes.view("float32").reshape(size, self.dim))
        if not all_ids:
            return np.zeros(0, dtype="int64"), np.zeros((0, self.dim), dtype="float32")
        return np.concatenate(all_ids).astype("int64"), np.concatenate(all_vectors)

    # ---- persistence ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, ann_threshold: int = 100_000, nprobe: int = 32) -> FaissStore:
        index = faiss.read_index(str(path))
        return cls(index.d, index, ann_threshold, nprobe)

    # ---- flat <-> IVF --------------------------------------------------------------------------
    @staticmethod
    def _prepare_ivf(ivf_index) -> None:
        ivf = faiss.downcast_index(ivf_index)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct/remove by id

    def _adapt(self) -> None:
        """Switch index type when the size crossed the threshold (or IVF outgrew its training)."""
        n = len(self)
        if self.kind == "flat" and n > self.ann_threshold:
            self._rebuild_ivf()
        elif self.kind == "ivf":
            nlist = faiss.downcast_index(self.index).nlist
            if n < self.ann_threshold // 2:
                ids, vectors = self.items()
                self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
                if len(ids):
                    self.index.add_with_ids(vectors, ids)
            elif self._nlist_for(n) > 2 * nlist:
                self._rebuild_ivf()

    @staticmethod
    def _nlist_for(n: int) -> int:
        # k-means wants >= 39 points per list
        return max(1, min(65536, int(2 * math.sqrt(n)), n // 39))

    def _rebuild_ivf(self) -> None:
        ids, vectors = self.items()
        nlist = self._nlist_for(len(ids))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = min(len(vectors), nlist * TRAIN_POINTS_PER_LIST)
        rng = np.random.default_rng(0)
        train = vectors[rng.choice(len(vectors), sample, replace=False)] if sample < len(vectors) else vectors
        ivf.train(np.ascontiguousarray(train))
        ivf.own_fields = True
        quantizer.this.disown()
        self._prepare_ivf(ivf)
        ivf.add_with_ids(np.ascontiguousarray(vectors), ids)
        self.index = ivf
