"""`rag bench` parts at small sizes: the measurements are real (subprocess per store, real index code)."""

import json

import numpy as np

from rag.benchmark.report import write_report
from rag.benchmark.search import build_index, synthetic_paragraphs
from rag.benchmark.vectors import exact_top_k, measure_backends, synthetic_vectors
from vectorstore.base import StoreSpec


def test_synthetic_vectors_are_unit_and_deterministic():
    a, b = synthetic_vectors(300), synthetic_vectors(300)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, synthetic_vectors(300, seed=1))


def test_exact_top_k_matches_a_full_sort():
    x, q = synthetic_vectors(2000), synthetic_vectors(5, seed=7)
    truth = exact_top_k(x, q, k=10, block=300)
    np.testing.assert_array_equal(truth, np.argsort(-(q @ x.T), axis=1)[:, :10])


def test_measure_backends_and_report(tmp_path):
    rows = measure_backends([2000], ["faiss-flat", "faiss-ivf", "milvus-lite"], queries=20, progress=lambda m: None)
    assert [r.get("error") for r in rows] == [None, None, None]
    by = {r["backend"]: r for r in rows}
    assert by["faiss-flat"]["recall_at_10"] == 1.0 and by["faiss-flat"]["index"] == "flat"
    assert by["faiss-ivf"]["index"] == "ivf" and 0 < by["faiss-ivf"]["recall_at_10"] <= 1
    assert by["milvus-lite"]["recall_at_10"] >= 0.99
    assert all(r["search_p50_ms"] > 0 and r["memory_mb"] > 0 for r in rows)
    result = {"meta": {"date": "d", "command": "rag bench", "cores": 2, "load_start": [0], "load_end": [0],
                       "seconds": 1.0}, "vectors": rows}
    paths = write_report(result, tmp_path)
    assert json.loads((tmp_path / "bench.json").read_text())["vectors"] == rows
    md = (tmp_path / "bench.md").read_text()
    assert "| faiss-ivf | 2,000 | ivf" in md and (tmp_path / "bench_vectors.png") in paths


def test_synthetic_search_index_goes_through_the_writer(tmp_path):
    sentences = [f"第{i}句话讲的是日内瓦会谈的第{i}个细节。" for i in range(50)]
    paragraphs = synthetic_paragraphs(sentences, 200)
    assert len({t for t, _ in paragraphs}) == 200
    index, _ = build_index(tmp_path / "i", sentences, paragraphs, StoreSpec("faiss", ann_threshold=500))
    stats = index.stats()
    assert stats["chunks"] == 200 and stats["vectors"] > 500 and stats["vector_index"] == "ivf"
    scores = index.keyword.scores(["日内瓦"])
    assert (scores > 0).sum() == 200


def test_bars_judge_the_default_ingest_pipeline_and_name_the_opt_in_one():
    from rag.benchmark.report import bars

    result = {"ingest": {"default": "ours_default",
                         "ratios": {"ours_before/langchain": 0.6, "ours_default/langchain": 1.2,
                                    "ours_one_pass_int8/langchain": 1.7}},
              "search": [{"backend": "faiss", "paragraphs": 100_000, "search_p50_ms": 33.0}]}
    lines = bars(result)
    default = ("- ingest >= 1.5x the plain LangChain pipeline, clean CMRC paragraphs, ours_default/langchain "
               "(default settings): 1.20x (NOT met)")
    assert default in lines
    assert any("ours_one_pass_int8/langchain (opt-in): 1.70x (met)" in line for line in lines)
    assert not any("ours_before" in line for line in lines)
    assert any("33.0 ms (met)" in line for line in lines)


def test_bars_and_report_show_the_scraped_page_scenarios(tmp_path):
    from rag.benchmark.report import bars

    def side(seconds):
        return {"seconds": seconds, "seconds_each": [seconds], "chunks": 10, "texts_embedded": 40,
                "chars_embedded": 12_345}

    files = {"files": ["a.txt", "b.txt"], "repeats": 1,
             "fresh": {"ours": side(2.0), "langchain": side(3.2), "ratio": 1.6},
             "one_new_file": {"ours": side(0.5), "langchain": side(3.0), "ratio": 1.4}}
    lines = bars({"file_ingest": files})
    assert any("scraped pages from scratch (default settings): 1.60x (met)" in line for line in lines)
    assert any("one new page added to the folder (default settings): 1.40x (NOT met)" in line for line in lines)
    result = {"meta": {"date": "d", "command": "rag bench", "cores": 2, "load_start": [0], "load_end": [0],
                       "seconds": 1.0}, "file_ingest": files}
    write_report(result, tmp_path)
    md = (tmp_path / "bench.md").read_text()
    assert "| all pages, empty index | ours | 2.00 | 10 | 40 | 12,345 | **1.60x** |" in md
