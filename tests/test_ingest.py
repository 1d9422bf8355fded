"""Ingest end to end with the real embedder: incremental updates, deletions, duplicates, bad files, crashes."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.config import Config

pytestmark = pytest.mark.slow


def _copy_samples(samples_dir: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in samples_dir.iterdir():
        shutil.copy(f, dest / f.name)
    return dest


def test_ingest_samples_then_reingest_embeds_nothing(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    first = rag.ingest([corpus], index=tmp_path / "idx", progress=False)
    assert sorted(first.added) == sorted(p.name for p in samples_dir.iterdir())
    assert first.failed == [] and first.chunks_embedded > 10
    started = time.perf_counter()
    second = rag.ingest([corpus], index=tmp_path / "idx", progress=False)
    assert time.perf_counter() - started < 3.0
    assert second.chunks_embedded == 0 and second.added == [] and second.updated == []
    assert sorted(second.unchanged) == sorted(first.added)


def test_changed_file_replaces_its_chunks_and_deleted_file_is_removed(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    index = tmp_path / "idx"
    rag.ingest([corpus], index=index, progress=False)
    target = corpus / "002_5d068dcc93838670.txt"
    target.write_text(target.read_text(encoding="utf-8").replace(
        "双方强调,中俄之间有着牢固的战略互信", "双方强调,中俄之间有着深厚的紫罗兰色战略互信"), encoding="utf-8")
    (corpus / "003_5949a7f0c870655c.txt").unlink()
    report = rag.ingest([corpus], index=index, progress=False)
    assert report.updated == ["002_5d068dcc93838670.txt"]
    assert report.removed == ["003_5949a7f0c870655c.txt"]
    assert 0 < report.chunks_embedded < 5  # only the edited paragraph's chunk
    opened = rag.open_index(index)
    assert "003_5949a7f0c870655c.txt" not in opened.store.documents
    hits = opened.search("紫罗兰色战略互信", k=1, mode="bm25")
    assert hits and hits[0].doc_id == "002_5d068dcc93838670.txt" and "紫罗兰色" in hits[0].text
    assert not opened.search("深厚的牢固的战略互信 紫罗兰", k=10, filters={"doc_id": "003_5949a7f0c870655c.txt"})


def test_index_folder_deleted_in_the_same_process_is_rebuilt(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    one = corpus / "000_830f0738273cd064.txt"
    index = tmp_path / "idx"
    rag.ingest([one], index=index, progress=False)
    shutil.rmtree(index)  # the process still holds the opened index and its old generation
    report = rag.ingest([one], index=index, progress=False)
    assert report.added == [one.name] and report.chunks_embedded > 0
    assert rag.open_index(index).search("布林肯 拉夫罗夫", k=1, mode="bm25")[0].doc_id == one.name


def test_duplicate_article_is_stored_once(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    shutil.copy(corpus / "000_830f0738273cd064.txt", corpus / "syndicated_copy.txt")
    report = rag.ingest([corpus], index=tmp_path / "idx", progress=False)
    assert report.duplicates_skipped >= 5
    hits = rag.search("拉夫罗夫在记者会上说持续了约90分钟", index=tmp_path / "idx", k=5)
    texts = [h.text for h in hits]
    assert len(texts) == len(set(texts))
    # the copy's text is still whole, read through the chunks it shares with the original
    opened = rag.open_index(tmp_path / "idx")
    original = opened.article_text("000_830f0738273cd064.txt")
    assert "持续了约90分钟" in original and opened.article_text("syndicated_copy.txt") == original
    assert opened.article_text("no-such-article.txt") == ""


BAD_FILES = {
    "empty.txt": b"",
    "blank.txt": b"   \n\n  ",
    "image.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "binary.txt": b"\x00\x01\x02\x03" * 100,
    "report.docx": b"PK\x03\x04" + b"\x00" * 100,
    "broken.txt": bytes(range(128, 256)) * 40,
}


def test_bad_files_are_reported_and_the_rest_is_indexed(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    for name, data in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    (corpus / "huge.txt").write_text("新闻。" * 50, encoding="utf-8")
    config = Config.load(max_file_bytes=100)
    cfg_big = Config.load()
    report = rag.ingest([corpus, tmp_path / "missing-folder"], index=tmp_path / "idx", config=cfg_big, progress=False)
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == set(BAD_FILES) | {"missing-folder"}
    assert all(reason and "\n" not in reason for reason in failed.values())
    assert len(report.added) == 6  # five samples + huge.txt (within the default limit)
    small = rag.ingest([corpus / "huge.txt"], index=tmp_path / "idx2", config=config, progress=False)
    assert "too large" in small.failed[0].reason


def _run_cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def test_cli_ingest_exit_codes_and_one_line_errors(tmp_path, samples_dir):
    corpus = _copy_samples(samples_dir, tmp_path / "articles")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.png").write_bytes(BAD_FILES["image.png"])
    result = _run_cli("ingest", str(corpus), "--index", str(tmp_path / "idx"), "--quiet")
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.startswith("rag: error: ") for line in lines)
    assert "Traceback" not in result.stderr
    assert "5 added" in result.stdout
    ok = _run_cli("ingest", str(samples_dir / "000_830f0738273cd064.txt"), "--index", str(tmp_path / "idx2"), "-q")
    assert ok.returncode == 0 and "1 added" in ok.stdout
    usage = _run_cli("search", "x", "--index", str(tmp_path / "no-such-index"))
    assert usage.returncode == 2 and "not an index" in usage.stderr and "Traceback" not in usage.stderr


def _many_articles(folder: Path, samples_dir: Path, n: int) -> None:
    """n distinct articles made by recombining sample sentences (distinct enough not to be near-duplicates)."""
    import random

    from rag.chunking import split_sentences
    from rag.cleaning import clean_article
    from rag.loading import read_document

    sentences = []
    for f in sorted(samples_dir.iterdir()):
        text, kind = read_document(f, 10**7)
        for p in clean_article(text, f.name, kind).paragraphs:
            sentences.extend(s for s in split_sentences(p) if len(s) > 15)
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for i in range(n):
        paragraphs = ["".join(rng.sample(sentences, 3)) for _ in range(4)]
        (folder / f"gen_{i:03d}.txt").write_text(f"合成新闻第{i}号\n\n" + "\n\n".join(paragraphs), encoding="utf-8")


def test_sigkill_mid_ingest_leaves_a_working_index(tmp_path, samples_dir):
    index = tmp_path / "idx"
    assert rag.ingest([samples_dir], index=index, progress=False).ok
    big = tmp_path / "big"
    _many_articles(big, samples_dir, 120)
    env = {"RAG_COMMIT_EVERY_CHUNKS": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(big), "--index", str(index), "-q"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    try:
        while time.time() < deadline:  # wait for at least one commit of this run, then kill mid-embedding
            if (index / "CURRENT").read_text().strip() >= "gen-000003":
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
        else:
            pytest.fail("ingest made no commit in time")
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    rag.index.forget_opened_indexes()
    opened = rag.open_index(index)
    docs = opened.store.documents
    assert all(name in docs for name in (p.name for p in samples_dir.iterdir()))
    committed = [d for d in docs if d.startswith("gen_")]
    assert 0 < len(committed) < 120, len(committed)
    stats = opened.stats()
    assert stats["chunks"] == len(opened.store.keyword) == len(set(opened.store.row_keys.tolist()))
    assert stats["vectors"] == len(opened.store.vectors) >= stats["chunks"]
    assert opened.search("拉夫罗夫 日内瓦 90分钟", k=1)[0].doc_id == "000_830f0738273cd064.txt"
    # the next ingest finishes the job without redoing the committed documents
    report = rag.ingest([big], index=index, config=Config.load(commit_every_chunks=10_000), progress=False)
    assert len(report.unchanged) == len(committed)
    assert len(report.added) == 120 - len(committed)


def test_remove_documents(tmp_path, samples_dir):
    index = tmp_path / "idx"
    rag.ingest([samples_dir], index=index, progress=False)
    before = rag.open_index(index)
    assert "王毅" in before.article_text("002_5d068dcc93838670.txt")
    assert rag.remove_documents(["002_5d068dcc93838670.txt", "nope.txt"], index=index) == ["002_5d068dcc93838670.txt"]
    opened = rag.open_index(index)
    assert "002_5d068dcc93838670.txt" not in opened.store.documents
    before.search("王毅", k=1)  # an open index picks up the new generation, and its articles with it
    assert before.article_text("002_5d068dcc93838670.txt") == ""
    assert all(h.doc_id != "002_5d068dcc93838670.txt" for h in opened.search("王毅 通电话 叙利亚", k=10))


def test_default_index_is_int8_one_pass_and_answers_with_fp32_sentence_vectors(sample_index):
    """Ingest makes the fast int8 one-pass vectors; answering compares fp32 vectors of each sentence embedded
    on its own, computed on first use and then remembered."""
    from rag.embedder import Embedder
    from rag.models import resolve_embedder

    assert sample_index.store.manifest["vector_kinds"] == ["int8/one_pass"]
    assert not sample_index.stores_answer_vectors
    row = next(r for r, c in enumerate(sample_index.store.row_chunks) if len(sample_index.store.chunk_views(r)[0]) > 2)
    chunk = sample_index.store.row_chunks[row]
    sentences, vectors = sample_index.sentence_vectors(chunk.chunk_id)
    stored_texts, stored = sample_index.store.chunk_views(row)
    assert sentences == stored_texts[1:] and vectors.shape == (len(sentences), 384)
    config = sample_index.config
    fp32 = Embedder.load(resolve_embedder(config.embedder, config.models_dir), precision="fp32")
    assert np.allclose(vectors, fp32.embed_passages(sentences), atol=1e-5)
    assert not np.allclose(vectors, stored[1:], atol=0.02)  # not the stored one-pass int8 vectors
    question = "会谈持续了多长时间？"
    assert np.allclose(sample_index.embed_answer_query(question), fp32.embed_query(question), atol=1e-5)

    def no_model(texts, progress=False):
        raise AssertionError(f"embedded again: {texts}")

    answer_embedder = sample_index.answer_embedder
    original, answer_embedder.embed_passages = answer_embedder.embed_passages, no_model
    try:
        again, again_vectors = sample_index.sentence_vectors(chunk.chunk_id)  # remembered: no model call
    finally:
        answer_embedder.embed_passages = original
    assert again == sentences and np.array_equal(again_vectors, vectors)
    with pytest.raises(KeyError):
        sample_index.sentence_vectors("no-such-doc#0")


def test_fp32_separate_index_answers_with_its_stored_vectors_until_mixed(tmp_path):
    text = ("拉夫罗夫同布林肯在日内瓦举行会谈。会谈持续了约90分钟，双方交换了意见。"
            "布林肯表示，美方将于下周作出书面回应。")
    (tmp_path / "a.txt").write_text(f"美俄外长会谈\n\n{text}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("德国外长访问莫斯科\n\n贝尔伯克在莫斯科同拉夫罗夫会谈。双方讨论了能源问题。\n",
                                    encoding="utf-8")
    index = tmp_path / "idx"
    fp32 = Config.load(embed_precision="fp32", sentence_vectors="separate")
    assert rag.ingest([tmp_path / "a.txt"], index=index, config=fp32, progress=False).ok
    opened = rag.open_index(index, fp32)
    assert opened.store.manifest["vector_kinds"] == ["fp32/separate"] and opened.stores_answer_vectors
    row = next(r for r in range(len(opened.store.row_chunks)) if len(opened.store.chunk_views(r)[0]) > 2)
    texts, stored = opened.store.chunk_views(row)
    sentences, vectors = opened.sentence_vectors(opened.store.row_chunks[row].chunk_id)
    assert sentences == texts[1:] and np.array_equal(vectors, stored[1:])

    assert rag.ingest([tmp_path / "b.txt"], index=index, config=Config.load(), progress=False).ok
    mixed = rag.open_index(index, fp32)
    assert mixed.search("能源", k=1)[0].doc_id == "b.txt"  # picks up the new generation
    assert mixed.store.manifest["vector_kinds"] == ["fp32/separate", "int8/one_pass"]
    assert not mixed.stores_answer_vectors
