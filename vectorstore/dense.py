"""Dense vectors in FAISS: normalized embeddings, inner product (= cosine).

>>> import numpy as np
>>> d = DenseIndex(dim=3)
>>> d.add(np.eye(3, dtype="float32"))
>>> scores, rows = d.search(np.array([0, 1, 0], dtype="float32"), k=2)
>>> int(rows[0])
1
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    """Exact inner-product search over L2-normalized vectors (`faiss.IndexFlatIP`).

    Row `i` of the index is row `i` of the chunk table that owns it.
    """

    def __init__(self, dim: int, index: faiss.Index | None = None):
        if dim <= 0:
            raise ValueError(f"dim must be > 0, got {dim}")
        self.dim = dim
        self._index = index if index is not None else faiss.IndexFlatIP(dim)

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype="float32").reshape(-1, self.dim)
        if len(vectors):
            self._index.add(vectors)

    def vectors(self) -> np.ndarray:
        """All stored vectors, row order (used to carry unchanged chunks into a new generation)."""
        if len(self) == 0:
            return np.zeros((0, self.dim), dtype="float32")
        return self._index.reconstruct_n(0, len(self))

    def reconstruct(self, rows) -> np.ndarray:
        """The stored vectors of `rows`, shape (len(rows), dim)."""
        rows = list(rows)
        if not rows:
            return np.zeros((0, self.dim), dtype="float32")
        return np.stack([self._index.reconstruct(int(r)) for r in rows])

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None):
        """Top-`k` rows by inner product, optionally restricted to `allowed_rows`.

        Returns `(scores, rows)`, best first; fewer than `k` when the index (or the filter) is smaller.
        """
        n = len(self) if allowed_rows is None else len(allowed_rows)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype="float32"), np.zeros(0, dtype="int64")
        q = np.ascontiguousarray(query, dtype="float32").reshape(1, self.dim)
        params = None
        if allowed_rows is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_rows, dtype="int64")))
        scores, rows = self._index.search(q, k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        index = faiss.read_index(str(path))
        return cls(index.d, index)
