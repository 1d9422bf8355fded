"""Ingest benchmark with the real models: ours (fp32, int8) and the plain LangChain pipeline index every paragraph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import Config

CMRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
PARAGRAPHS = [
    "俄罗斯外长拉夫罗夫与美国国务卿布林肯21日在瑞士日内瓦举行会谈。会谈持续了约90分钟。双方同意继续对话。",
    "今天北京天气晴朗，最高气温十度。明天起将有一次降温过程，请注意添衣保暖。",
    "The central bank kept interest rates unchanged on Tuesday. Analysts had expected the decision.",
]


def _cmrc_paragraphs(n: int) -> list[str]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    return [p["context"] for doc in data for p in doc["paragraphs"]][:n]


def test_measure_ingest_refuses_bad_arguments(tmp_path):
    from rag.benchmark.ingest import measure_ingest

    with pytest.raises(ValueError, match="repeats"):
        measure_ingest(PARAGRAPHS, Config.load(), tmp_path, repeats=0)
    with pytest.raises(ValueError, match="langchain"):
        measure_ingest(PARAGRAPHS, Config.load(), tmp_path, pipelines=("haystack",))


@pytest.mark.slow
def test_langchain_baseline_indexes_and_finds_paragraphs(tmp_path):
    from rag.benchmark.langchain_baseline import build_langchain_index, langchain_embeddings, langchain_search
    from rag.models import resolve_embedder

    cfg = Config.load()
    model_path = resolve_embedder(cfg.embedder, cfg.models_dir)
    embeddings = langchain_embeddings(model_path)
    long_paragraph = "第一句话说了很多很多事情。" * 60  # 780 characters: split into overlapping chunks
    stats = build_langchain_index(PARAGRAPHS + [long_paragraph], model_path, tmp_path / "lc", embeddings=embeddings)
    assert stats["paragraphs"] == stats["paragraphs_indexed"] == 4
    assert stats["chunks"] == stats["texts_embedded"] >= 6 and stats["seconds"] > 0
    hits = langchain_search(tmp_path / "lc", "会谈在哪里举行？", k=2, embeddings=embeddings)
    assert hits[0].metadata["paragraph"] == 0
    assert langchain_search(tmp_path / "lc", "interest rates", k=1, embeddings=embeddings)[0].metadata["paragraph"] == 2


@pytest.mark.slow
@pytest.mark.skipif(not CMRC.is_file(), reason="shared/benchmarks/cmrc2018 not present")
def test_measure_ingest_compares_the_pipelines_on_cmrc(tmp_path):
    from rag.benchmark.ingest import measure_ingest

    paragraphs = _cmrc_paragraphs(20)
    result = measure_ingest(paragraphs, Config.load(), tmp_path)
    assert result["paragraphs"] == 20
    assert set(result["pipelines"]) == {"ours_before", "ours_separate_fp32", "ours_one_pass_fp32",
                                        "ours_one_pass_int8", "langchain"}
    assert result["default"] == "ours_one_pass_int8"
    for name, run in result["pipelines"].items():
        assert run["paragraphs_indexed"] == 20, name
        assert run["seconds"] > 0 and run["paragraphs_per_s"] == pytest.approx(20 / run["seconds"], rel=1e-2)
        assert run["vectors"] >= run["texts_embedded"] >= run["chunks"] >= 20, name
    before, separate, one_pass, langchain = (result["pipelines"][n] for n in (
        "ours_before", "ours_separate_fp32", "ours_one_pass_fp32", "langchain"))
    # chunk + every sentence embedded on its own vs one pass per chunk storing the same views
    assert before["texts_embedded"] == separate["texts_embedded"] == separate["vectors"] > one_pass["texts_embedded"]
    assert one_pass["texts_embedded"] == one_pass["chunks"]
    assert one_pass["vectors"] == separate["vectors"] > langchain["vectors"]
    assert result["pipelines"]["ours_one_pass_int8"]["vectors"] == one_pass["vectors"]
    for ratio in result["ratios"].values():
        assert 0 < ratio < 100


@pytest.mark.slow
def test_file_ingest_compares_fresh_and_one_new_file_on_scraped_pages(tmp_path, samples_dir):
    from rag.benchmark.ingest import measure_file_ingest

    files = sorted(samples_dir.glob("*.txt"))[:3]
    result = measure_file_ingest(files, Config.load(), tmp_path, repeats=1)
    fresh, update = result["fresh"], result["one_new_file"]
    assert result["files"] == [f.name for f in files]
    # LangChain embeds the pages as they are; ours cleaned away navigation, link lists and the repeated body,
    # so even with every sentence embedded a second time it reads fewer characters
    assert fresh["ours"]["chars_embedded"] < fresh["langchain"]["chars_embedded"]
    assert fresh["ours"]["chunks"] > 5 and fresh["langchain"]["chunks"] > 5
    # one page added: ours embeds only that page, the plain LangChain pipeline everything again
    assert 0 < update["ours"]["chunks"] < fresh["ours"]["chunks"]
    assert update["langchain"]["chunks"] == fresh["langchain"]["chunks"]
    assert update["ratio"] > fresh["ratio"] > 0
    with pytest.raises(ValueError, match="at least 2 files"):
        measure_file_ingest(files[:1], Config.load(), tmp_path)
