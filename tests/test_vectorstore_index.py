"""The index folder, on each vector backend: generations, atomic switch, duplicates stored once, promotion.

These tests exercise the storage layer with small deterministic vectors; the real embedder is used in
test_ingest.py and test_retrieval.py.
"""

import json

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.schema import Chunk
from vectorstore.base import StoreSpec
from vectorstore.index import ArticleIndex, DocumentRecord


@pytest.fixture(params=["faiss", "faiss-ivf", "milvus"])
def store_spec(request):
    """Every test here runs against each vector backend: FAISS flat, FAISS IVF (threshold 0), milvus-lite."""
    if request.param == "faiss-ivf":
        return StoreSpec("faiss", ann_threshold=0, ann_nprobe=4)
    return StoreSpec(request.param)


def _embed(texts):
    """Deterministic unit vectors derived from the text (storage tests only)."""
    out = []
    for t in texts:
        rng = np.random.default_rng(abs(hash(t)) % (2**32))
        v = rng.normal(size=8).astype("float32")
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def _chunks(doc_id, *texts):
    return [Chunk(f"{doc_id}#{i}", doc_id, "T", "2022-01-24", "新华社", t, i) for i, t in enumerate(texts)]


A1 = "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。"
A2 = "双方在会谈结束后各自举行记者会,会谈持续了约90分钟。"
B1 = "北约外长会于3日在布鲁塞尔召开,美国国务卿罕见缺席。"


def test_empty_folder_is_not_an_index_unless_created(tmp_path, store_spec):
    with pytest.raises(ConfigError, match="not an index"):
        ArticleIndex.open(tmp_path / "nothing", embedder="e", spec=store_spec)
    index = ArticleIndex.open(tmp_path / "new", embedder="e", create=True, spec=store_spec)
    assert index.generation is None and index.stats()["chunks"] == 0


def test_commit_writes_generation_and_switches(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    assert w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1, A2)) == (2, 0)
    assert w.commit(_embed) == "gen-000001"
    assert (tmp_path / "CURRENT").read_text().strip() == "gen-000001"
    reopened = ArticleIndex.open(tmp_path, embedder="e", spec=store_spec)
    assert [c.text for c in reopened.row_chunks] == [A1, A2]
    assert len(reopened.vectors) == len(reopened.keyword) == 2
    assert reopened.documents["a"].chunk_ids == ["a#0", "a#1"]


def test_unchanged_vectors_are_carried_not_recomputed(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1, A2))
    w.commit(_embed)
    before = index.vectors.get(index.vector_ids()).copy()
    calls = []

    def counting_embed(texts):
        calls.append(list(texts))
        return _embed(texts)

    w = index.writer()
    w.put_document(DocumentRecord("b", "h2"), _chunks("b", B1))
    w.commit(counting_embed)
    assert calls == [[B1]]  # only the new chunk was embedded
    np.testing.assert_allclose(index.vectors.get(index.vector_ids(np.array([0, 1]))), before)


def test_duplicates_are_stored_once_and_promoted_when_the_original_goes(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1, A2))
    assert w.put_document(DocumentRecord("b", "h2"), _chunks("b", A1 + " ", B1)) == (1, 1)
    w.commit(_embed)
    assert index.stats()["chunks"] == 3 and index.stats()["duplicates"] == 1
    w = index.writer()
    w.remove_document("a")
    w.commit(_embed)
    texts = sorted(c.text.strip() for c in index.row_chunks)
    assert texts == sorted([A1, B1])  # b's copy of A1 took over
    assert index.stats()["duplicates"] == 0


def test_old_generations_are_pruned_and_tmp_leftovers_ignored(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    (tmp_path / ".tmp-gen-000009-1").mkdir()  # a crashed writer's leftover
    for n in range(3):
        w = index.writer()
        w.put_document(DocumentRecord(f"d{n}", "h"), _chunks(f"d{n}", f"{A1}{n}"))
        w.commit(_embed)
    gens = sorted(p.name for p in tmp_path.glob("gen-*"))
    assert gens == ["gen-000002", "gen-000003"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_half_written_generation_is_invisible(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1))
    w.commit(_embed)
    # simulate a crash after the new generation folder was renamed but before CURRENT switched
    (tmp_path / "gen-000002").mkdir()
    (tmp_path / "gen-000002" / "chunks.jsonl").write_text("{broken")
    reopened = ArticleIndex.open(tmp_path, embedder="e", spec=store_spec)
    assert reopened.generation == "gen-000001" and [c.text for c in reopened.row_chunks] == [A1]


def test_other_embedder_is_refused(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1))
    w.commit(_embed)
    with pytest.raises(ConfigError, match="built with embedder 'e'"):
        ArticleIndex.open(tmp_path, embedder="other", spec=store_spec)


def test_stale_view_notices_a_newer_generation(tmp_path, store_spec):
    reader = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    writer_view = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = writer_view.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1))
    w.commit(_embed)
    assert reader.is_stale()
    reader.reload()
    assert reader.stats()["chunks"] == 1


def test_manifest_records_hashes_and_embedder(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "abc", path="/x/a", folder="/x"), _chunks("a", A1))
    w.commit(_embed)
    manifest = json.loads((tmp_path / "gen-000001" / "manifest.json").read_text())
    assert manifest["embedder"] == "e" and manifest["dim"] == 8
    assert manifest["documents"]["a"]["sha256"] == "abc" and manifest["documents"]["a"]["folder"] == "/x"


def test_one_pass_embedding_gets_chunks_with_their_sentence_spans(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1 + A2, B1))
    calls = []

    def embed_views(texts, spans):
        calls.append((list(texts), [list(s) for s in spans]))
        return [_embed([t] + [t[lo:hi] for lo, hi in s]) for t, s in zip(texts, spans, strict=True)]

    w.commit(embed_views=embed_views)
    assert calls == [([A1 + A2, B1], [[(0, len(A1)), (len(A1), len(A1 + A2))], []])]
    assert index.stats()["vectors"] == 4  # A1+A2 and its two sentences, B1 alone
    views, vectors = index.chunk_views(0)
    assert views == [A1 + A2, A1, A2]
    np.testing.assert_allclose(vectors, _embed(views), atol=1e-6)


def test_embed_functions_are_checked(tmp_path, store_spec):
    from rag.errors import RagError

    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1 + A2))
    with pytest.raises(ValueError, match="exactly one"):
        w.embed_pending(_embed, lambda texts, spans: [])
    with pytest.raises(RagError, match="3 views"):
        w.commit(embed_views=lambda texts, spans: [_embed(texts)])
    with pytest.raises(RagError, match="no vector"):
        w.commit()
    assert index.generation is None  # nothing was written


def test_manifest_records_how_vectors_were_made(tmp_path, store_spec):
    index = ArticleIndex.open(tmp_path, embedder="e", create=True, spec=store_spec)
    w = index.writer()
    w.put_document(DocumentRecord("a", "h1"), _chunks("a", A1))
    w.commit(_embed, vector_kind="fp32/separate")
    assert ArticleIndex.open(tmp_path, embedder="e", spec=store_spec).manifest["vector_kinds"] == ["fp32/separate"]
    w = index.writer()
    w.remove_document("a")
    w.commit()  # nothing embedded, nothing stored: no kinds
    assert ArticleIndex.open(tmp_path, embedder="e", spec=store_spec).manifest["vector_kinds"] == []
    # an index written before kinds were recorded: its vectors are of an unknown kind
    manifest_path = tmp_path / (tmp_path / "CURRENT").read_text().strip() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["vector_kinds"]
    manifest_path.write_text(json.dumps(manifest))
    w = ArticleIndex.open(tmp_path, embedder="e", spec=store_spec).writer()
    w.put_document(DocumentRecord("b", "h2"), _chunks("b", A2))
    w.commit(_embed, vector_kind="int8/one_pass")
    assert ArticleIndex.open(tmp_path, embedder="e", spec=store_spec).manifest["vector_kinds"] == [
        "int8/one_pass", "unknown"]
