"""Vectors in Milvus through pymilvus: milvus-lite (a local file) or a Milvus server/cluster.

`uri` is a local path ending in ``.db`` for milvus-lite (embedded; one process at a time may open
the file) or ``http://host:19530`` for Milvus standalone/distributed, which is where an archive goes
once one machine's RAM no longer holds its vectors. The collection has an INT64 primary key (the
vector id of `vectorstore.base`) and a FLOAT_VECTOR field searched by inner product.

>>> import numpy as np, tempfile, os
>>> store = MilvusStore(os.path.join(tempfile.mkdtemp(), "v.db"), "chunks", dim=3)  # doctest: +SKIP
>>> store.add(np.array([10, 11]), np.eye(3, dtype="float32")[:2])  # doctest: +SKIP
>>> store.search(np.array([0, 1, 0], dtype="float32"), k=1)[1].tolist()  # doctest: +SKIP
[11]
"""

from __future__ import annotations

import numpy as np

from rag.errors import RagError

BATCH = 5_000  # rows per insert/delete/get request (keeps each gRPC message small)
MAX_TOPK = 16_384  # Milvus' limit on a search's `limit`

_CLIENTS: dict[str, object] = {}  # uri -> MilvusClient: milvus-lite allows one client per file per process


def _client(uri: str):
    client = _CLIENTS.get(uri)
    if client is None:
        try:
            from pymilvus import MilvusClient

            client = MilvusClient(uri)
        except Exception as exc:  # MilvusException, ConnectionError, lite startup errors
            raise RagError(f"cannot open Milvus at {uri!r}: {type(exc).__name__}: {exc}") from exc
        _CLIENTS[uri] = client
    return client


def close_clients() -> None:
    """Close every open Milvus connection (stops milvus-lite servers started by this process)."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


class MilvusStore:
    """A `vectorstore.base.VectorStore` in one Milvus collection."""

    shared_across_generations = True

    def __init__(self, uri: str, collection: str, dim: int, index_type: str = "AUTOINDEX"):
        if dim <= 0:
            raise ValueError(f"dim must be > 0, got {dim}")
        self.uri, self.collection, self.dim = uri, collection, dim
        self.client = _client(uri)
        if not self.client.has_collection(collection):
            self._create(index_type)
        else:
            existing = self._vector_dim()
            if existing != dim:
                raise RagError(f"Milvus collection {collection!r} at {uri} holds {existing}-d vectors, not {dim}-d")
        self.client.load_collection(collection)

    def _create(self, index_type: str) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type=index_type, metric_type="IP")
        self.client.create_collection(self.collection, schema=schema, index_params=params)

    def _vector_dim(self) -> int:
        info = self.client.describe_collection(self.collection)
        for f in info["fields"]:
            if f["name"] == "vector":
                return int(f["params"]["dim"])
        raise RagError(f"Milvus collection {self.collection!r} has no 'vector' field")

    def __len__(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def describe(self) -> dict:
        return {"backend": "milvus", "uri": self.uri, "collection": self.collection, "vectors": len(self),
                "dim": self.dim}

    def add(self, ids, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype="int64").reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype="float32").reshape(-1, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        for start in range(0, len(ids), BATCH):
            rows = [{"id": int(i), "vector": v} for i, v in zip(ids[start:start + BATCH],
                                                                  vectors[start:start + BATCH], strict=True)]
            self.client.upsert(self.collection, rows)
        if len(ids):
            self.client.flush(self.collection)  # sealed, indexed segments: growing ones search ~10x slower

    def delete(self, ids) -> int:
        ids = [int(i) for i in np.asarray(ids, dtype="int64").reshape(-1)]
        removed = 0
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            present = self.client.query(self.collection, filter=f"id in {batch}", output_fields=["id"])
            if present:
                self.client.delete(self.collection, ids=[r["id"] for r in present])
                removed += len(present)
        return removed

    def get(self, ids) -> np.ndarray:
        ids = [int(i) for i in np.asarray(ids, dtype="int64").reshape(-1)]
        found: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), BATCH):
            for row in self.client.get(self.collection, ids=ids[start:start + BATCH], output_fields=["vector"]):
                found[int(row["id"])] = np.asarray(row["vector"], dtype="float32")
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(missing[0])
        return np.stack([found[i] for i in ids]) if ids else np.zeros((0, self.dim), dtype="float32")

    def search(self, query: np.ndarray, k: int, ids=None) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, MAX_TOPK)
        if ids is not None:
            ids = [int(i) for i in np.asarray(ids, dtype="int64").reshape(-1)]
            k = min(k, len(ids))
        if k <= 0:
            return np.zeros(0, dtype="float32"), np.zeros(0, dtype="int64")
        q = np.ascontiguousarray(query, dtype="float32").reshape(-1)
        kwargs = {"filter": f"id in {ids}"} if ids is not None else {}
        result = self.client.search(self.collection, data=[q.tolist()], limit=k,
                                    search_params={"metric_type": "IP"}, **kwargs)[0]
        scores = np.array([hit["distance"] for hit in result], dtype="float32")
        found = np.array([hit["id"] for hit in result], dtype="int64")
        return scores, found

    def drop(self) -> None:
        """Delete the whole collection (an index folder being removed)."""
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
