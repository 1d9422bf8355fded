"""The one small interface every vector store backend implements, and how vectors are keyed.

A chunk's vectors (its whole text and each sentence, see `vectorstore.index.passage_views`) are keyed by
the chunk TEXT, not by its position: ``owner = text_key(text)`` and the i-th view gets
``vector_id(owner, i)``. Identical text therefore never needs embedding twice, a changed document only
adds its changed chunks, and any backend can map a hit back to its chunk by ``owner_of(vector_id)``.

>>> owner = text_key("会谈持续了约90分钟。")
>>> owner_of(vector_id(owner, 3)) == owner
True
>>> vector_id(owner, 0) != vector_id(owner, 1)
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

VIEW_BITS = 6  # up to 64 vectors per chunk
MAX_VIEWS = 1 << VIEW_BITS
KEY_BITS = 56  # owner keys are 56-bit: ids stay below 2**62, positive in every int64 store


def text_key(text: str) -> int:
    """A stable 56-bit key of a chunk's text (blake2b), the owner of that chunk's vectors."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BITS // 8).digest(), "big")


def vector_id(owner: int, view: int) -> int:
    """The id of the `view`-th vector of `owner` (0 = the whole chunk)."""
    if not 0 <= view < MAX_VIEWS:
        raise ValueError(f"view must be in [0, {MAX_VIEWS}), got {view}")
    return (int(owner) << VIEW_BITS) | view


def owner_of(ids: np.ndarray | int) -> np.ndarray | int:
    """The owner key(s) of vector id(s)."""
    if isinstance(ids, np.ndarray):
        return ids >> VIEW_BITS
    return int(ids) >> VIEW_BITS


def ids_for(owners: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """All vector ids of `owners`, given how many views each has.

    >>> ids_for(np.array([1, 2]), np.array([2, 1])).tolist()
    [64, 65, 128]
    """
    owners = np.asarray(owners, dtype="int64")
    counts = np.asarray(counts, dtype="int64")
    if len(owners) == 0:
        return np.zeros(0, dtype="int64")
    starts = np.repeat(owners << VIEW_BITS, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts + offsets


@dataclass(frozen=True)
class StoreSpec:
    """Which backend holds an index's vectors and how (from `rag.config.Config`)."""

    backend: str = "faiss"  # "faiss" | "milvus"
    milvus_uri: str = ""  # "" = <index folder>/milvus.db (milvus-lite); or http://host:19530
    ann_threshold: int = 100_000  # FAISS: flat up to this many vectors, IVF past it
    ann_nprobe: int = 32

    @classmethod
    def from_config(cls, config) -> StoreSpec:
        return cls(config.vector_backend, config.milvus_uri, config.ann_threshold, config.ann_nprobe)


@runtime_checkable
class VectorStore(Protocol):
    """Normalized float32 vectors with int64 ids; inner-product (= cosine) search.

    `shared_across_generations` tells the index writer how to stay crash-safe: a FAISS store is a file
    inside each generation (edit a copy, write it with the generation); a Milvus collection lives outside
    the generations (insert before switching, delete after, with a journal).
    """

    dim: int
    shared_across_generations: bool

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert (or replace) vectors under `ids`."""

    def delete(self, ids: np.ndarray) -> int:
        """Remove the vectors with these ids (unknown ids are ignored); returns how many were removed."""

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of `ids`, in that order; raises KeyError for a missing id."""

    def search(self, query: np.ndarray, k: int, ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` `(scores, ids)` by inner product, best first, optionally only among `ids`."""

    def describe(self) -> dict:
        """Backend, index type and size, for `rag inspect` and the benchmark."""
