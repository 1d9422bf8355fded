"""The vector store interface, one suite run against every backend: FAISS flat, FAISS IVF, milvus-lite.

Plus what only one backend has: FAISS switching flat <-> IVF at the threshold (and IVF's recall against
flat), Milvus' journal that cleans up after a commit crashed between inserting and switching.
"""

import json

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.schema import Chunk
from vectorstore.base import StoreSpec, VectorStore, ids_for, owner_of, text_key, vector_id
from vectorstore.faiss_store import FaissStore
from vectorstore.index import ArticleIndex, DocumentRecord
from vectorstore.milvus_store import MilvusStore

DIM = 16


def _unit(rng, n, dim=DIM):
    x = rng.normal(size=(n, dim)).astype("float32")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["faiss-flat", "faiss-ivf", "milvus-lite"])
def store(request, tmp_path) -> VectorStore:
    if request.param == "faiss-flat":
        return FaissStore(DIM)
    if request.param == "faiss-ivf":
        return FaissStore(DIM, ann_threshold=0, nprobe=64)  # IVF from the first vector; nprobe >= nlist: exact
    return MilvusStore(str(tmp_path / "v.db"), "chunks", DIM)


def test_add_search_get_delete(store):
    rng = np.random.default_rng(0)
    x = _unit(rng, 500)
    ids = np.arange(500, dtype="int64") * 64 + (1 << 40)
    store.add(ids, x)
    assert isinstance(store, VectorStore) and len(store) == 500
    scores, found = store.search(x[17], k=5)
    assert found[0] == ids[17] and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)
    np.testing.assert_allclose(store.get(ids[[3, 400]]), x[[3, 400]], atol=1e-6)
    assert store.delete(ids[:100]) == 100 and len(store) == 400
    assert store.delete(ids[:100]) == 0  # already gone
    assert ids[17] not in store.search(x[17], k=5)[1]
    with pytest.raises(KeyError):
        store.get(ids[:1])


def test_add_replaces_an_existing_id(store):
    rng = np.random.default_rng(1)
    x = _unit(rng, 3)
    store.add([5, 6], x[:2])
    store.add([5], x[2:])
    assert len(store) == 2
    np.testing.assert_allclose(store.get([5]), x[2:], atol=1e-6)


def test_search_within_ids(store):
    rng = np.random.default_rng(2)
    x = _unit(rng, 300)
    ids = np.arange(300, dtype="int64")
    store.add(ids, x)
    allowed = np.array([10, 20, 30])
    scores, found = store.search(x[0], k=10, ids=allowed)
    assert sorted(found.tolist()) == [10, 20, 30]
    assert store.search(x[0], k=10, ids=np.array([], dtype="int64"))[1].size == 0


def test_empty_store_searches_to_nothing(store):
    scores, found = store.search(np.ones(DIM, dtype="float32") / 4, k=5)
    assert len(store) == 0 and found.size == 0 and scores.size == 0


def test_ids_and_owners():
    owner = text_key("布林肯和拉夫罗夫在日内瓦会谈。")
    assert owner < 2**56 and text_key("布林肯和拉夫罗夫在日内瓦会谈。") == owner != text_key("另一句。")
    ids = ids_for(np.array([owner]), np.array([3]))
    assert ids.tolist() == [vector_id(owner, v) for v in range(3)]
    assert set(owner_of(ids).tolist()) == {owner}
    with pytest.raises(ValueError):
        vector_id(owner, 64)


# ---- FAISS: flat <-> IVF ---------------------------------------------------------------------


def test_faiss_switches_to_ivf_past_the_threshold_and_back():
    rng = np.random.default_rng(3)
    x = _unit(rng, 3000)
    store = FaissStore(DIM, ann_threshold=1000, nprobe=8)
    store.add(np.arange(900), x[:900])
    assert store.kind == "flat"
    store.add(np.arange(900, 3000), x[900:])
    assert store.kind == "ivf" and len(store) == 3000
    np.testing.assert_allclose(store.get([2999]), x[2999:], atol=1e-6)
    store.delete(np.arange(2600))  # 400 left < threshold / 2
    assert store.kind == "flat" and len(store) == 400
    assert store.search(x[2900], k=1)[1].tolist() == [2900]


def test_faiss_ivf_recall_against_flat_on_clustered_vectors(tmp_path):
    """Recall@10 of IVF vs exact search, on vectors with cluster structure like real embeddings."""
    rng = np.random.default_rng(4)
    centers = _unit(rng, 200, 64)
    x = centers[rng.integers(0, 200, 20000)] + rng.normal(scale=0.08, size=(20000, 64)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    flat, ivf = FaissStore(64), FaissStore(64, ann_threshold=5000, nprobe=16)
    for s in (flat, ivf):
        s.add(np.arange(20000), x)
    assert ivf.kind == "ivf"
    ivf.save(tmp_path / "ivf.faiss")
    ivf = FaissStore.load(tmp_path / "ivf.faiss", ann_threshold=5000, nprobe=16)
    queries = x[rng.choice(20000, 100, replace=False)] + rng.normal(scale=0.05, size=(100, 64)).astype("float32")
    recall = np.mean([len(set(flat.search(q, 10)[1]) & set(ivf.search(q, 10)[1])) / 10 for q in queries])
    assert recall >= 0.95


# ---- through the index: the same behaviour on each backend ------------------------------------


def _embed(texts):
    out = []
    for t in texts:
        rng = np.random.default_rng(text_key(t) % (2**32))
        out.append(_unit(rng, 1, 8)[0])
    return np.stack(out)


def _chunks(doc_id, *texts):
    return [Chunk(f"{doc_id}#{i}", doc_id, "T", "2022-01-24", "新华社", t, i) for i, t in enumerate(texts)]


A1 = "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。双方讨论了乌克兰局势。"
A2 = "双方在会谈结束后各自举行记者会,会谈持续了约90分钟。"
A2_NEW = "双方在会谈结束后各自举行记者会,会谈持续了约两个小时。"
B1 = "北约外长会于3日在布鲁塞尔召开,美国国务卿罕见缺席。"


@pytest.fixture(params=["faiss", "milvus"])
def spec(request):
    return StoreSpec(request.param)


def test_update_embeds_only_the_changed_chunk_and_deletes_the_old_vectors(tmp_path, spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1, A2))
    w.put_document(DocumentRecord("b", "h2"), _chunks("b", B1))
    w.commit(_embed)
    assert len(index.vectors) == index.stats()["vectors"] == 3 + 1 + 1  # A1 has two sentences: 3 views
    calls = []
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1b"), _chunks("a", A1, A2_NEW))
    w.commit(lambda texts: calls.append(list(texts)) or _embed(texts))
    assert calls == [[A2_NEW]]
    assert len(index.vectors) == 5
    old_ids = ids_for(np.array([text_key(A2)]), np.array([1]))
    with pytest.raises(KeyError):
        index.vectors.get(old_ids)
    scores, rows = index.dense_search(_embed([A2_NEW])[0], depth=3)
    assert index.row_chunks[rows[0]].text == A2_NEW and scores[0] == pytest.approx(1.0, abs=1e-5)
    w = index.writer()
    w.remove_document("a")
    w.commit(_embed)
    assert len(index.vectors) == 1 and [c.text for c in index.row_chunks] == [B1]


def test_filtered_dense_search_stays_within_rows(tmp_path, spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1, A2))
    w.put_document(DocumentRecord("b", "h2"), _chunks("b", B1))
    w.commit(_embed)
    b_rows = np.array([r for r, c in enumerate(index.row_chunks) if c.doc_id == "b"])
    _, rows = index.dense_search(_embed([A2])[0], depth=5, rows=b_rows)
    assert rows.tolist() == b_rows.tolist()


def test_backend_of_an_existing_index_is_kept(tmp_path, spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1))
    w.commit(_embed)
    other = StoreSpec("milvus" if spec.backend == "faiss" else "faiss")
    with pytest.raises(ConfigError, match="keeps its vectors in"):
        ArticleIndex.open(tmp_path, embedder="e", spec=other)
    assert ArticleIndex.open(tmp_path, embedder="e").stats()["vector_backend"] == spec.backend


def test_milvus_journal_cleans_up_after_a_crash_between_insert_and_switch(tmp_path):
    spec = StoreSpec("milvus")
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A2))
    w.commit(_embed)
    # A crashed writer inserted B1's vector and wrote its journal, but never switched CURRENT.
    stray = ids_for(np.array([text_key(B1)]), np.array([1]))
    index.vectors.add(stray, _embed([B1]))
    (tmp_path / "vectors.journal").write_text(json.dumps({"generation": "gen-000002", "add": stray.tolist(),
                                                          "delete": []}))
    assert len(index.vectors) == 2
    _, rows = index.dense_search(_embed([B1])[0], depth=5)  # readers never see the stray vector
    assert [index.row_chunks[r].text for r in rows] == [A2]
    w = index.writer()
    w.put_document(DocumentRecord("c", "h3"), _chunks("c", A1))
    w.commit(_embed)
    assert not (tmp_path / "vectors.journal").exists()
    with pytest.raises(KeyError):
        index.vectors.get(stray)
    assert len(index.vectors) == index.stats()["vectors"] == 1 + 3
