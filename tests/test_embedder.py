"""Embedder precisions with the real multilingual-e5-small: int8 must rank like fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Config
from rag.embedder import Embedder

CMRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
GENEVA = "俄罗斯外长拉夫罗夫与美国国务卿布林肯21日在瑞士日内瓦举行会谈，会谈持续了约90分钟。"


@pytest.fixture(scope="module")
def model_path() -> str:
    from rag.models import resolve_embedder

    cfg = Config.load()
    return resolve_embedder(cfg.embedder, cfg.models_dir)


@pytest.fixture(scope="module")
def fp32(model_path) -> Embedder:
    return Embedder.load(model_path)


@pytest.fixture(scope="module")
def int8(model_path) -> Embedder:
    return Embedder.load(model_path, precision="int8")


def _cmrc_set(paragraphs: int) -> tuple[list[str], list[str], np.ndarray]:
    """First chunks of CMRC dev paragraphs, the questions answered inside them, and each question's chunk."""
    from rag.chunking import split_article
    from rag.schema import Article

    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    passages, questions, gold = [], [], []
    for doc in data:
        for paragraph in doc["paragraphs"]:
            first = split_article(Article("p", None, None, None, [paragraph["context"]]), 400, 40)[0].text
            answered = [q["question"] for q in paragraph["qas"] if q["answers"][0]["text"] in first]
            if answered:
                questions += answered
                gold += [len(passages)] * len(answered)
                passages.append(first)
            if len(passages) == paragraphs:
                return passages, questions, np.array(gold)
    return passages, questions, np.array(gold)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="fp32"):
        Embedder.load("/nowhere", precision="bf16")
    with pytest.raises(ValueError, match="int8"):
        Embedder(model=None, name="x", precision="fp16")


@pytest.mark.slow
def test_int8_is_cached_per_path_and_precision(model_path, fp32, int8):
    import torch

    assert Embedder.load(model_path, precision="int8") is int8
    assert Embedder.load(model_path) is fp32 and fp32.precision == "fp32"
    assert int8.model is not fp32.model and int8.precision == "int8"
    other = Embedder.load(model_path, batch_size=4, precision="int8")
    assert other is not int8 and other.model is int8.model and other.batch_size == 4
    kinds = {type(m) for m in int8.model.modules()}
    assert torch.ao.nn.quantized.dynamic.Linear in kinds and torch.nn.Linear not in kinds
    assert torch.nn.Linear in {type(m) for m in fp32.model.modules()}  # quantizing did not touch fp32


@pytest.mark.slow
def test_int8_vectors_are_normalized_and_close_to_fp32(fp32, int8):
    texts = [GENEVA, "今天天气晴朗。", "The talks in Geneva lasted about ninety minutes.", GENEVA * 3]
    vectors = int8.embed_passages(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = int8.embed_query("会谈在哪里举行？")
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    cosines = (vectors * fp32.embed_passages(texts)).sum(axis=1)
    assert cosines.min() > 0.95, cosines


@pytest.mark.slow
@pytest.mark.skipif(not CMRC.is_file(), reason="shared/benchmarks/cmrc2018 not present")
def test_int8_ranks_cmrc_passages_like_fp32(fp32, int8):
    passages, questions, gold = _cmrc_set(12)
    assert len(passages) == 12 and len(questions) >= 20

    def ranking(embedder):
        scores = np.stack([embedder.embed_query(q) for q in questions]) @ embedder.embed_passages(passages).T
        return np.argsort(-scores, axis=1)

    ref, fast = ranking(fp32), ranking(int8)
    agreement = float((ref[:, 0] == fast[:, 0]).mean())
    recall5 = {name: float((r[:, :5] == gold[:, None]).any(axis=1).mean()) for name, r in [("fp32", ref),
                                                                                       ("int8", fast)]}
    assert agreement >= 0.9, agreement
    assert recall5["int8"] >= recall5["fp32"] - 0.03, recall5
    assert recall5["fp32"] >= 0.8, recall5  # the set is answerable: a broken model would not pass by chance


@pytest.mark.slow
def test_index_loads_the_configured_precision(tmp_path, int8):
    from rag.index import open_index

    index = open_index(tmp_path / "idx", Config.load(embed_precision="int8"), create=True)
    assert index.embedder.model is int8.model and index.embedder.precision == "int8"


def test_one_pass_views_give_the_passage_vector_and_sentence_vectors(fp32):
    from vectorstore.index import sentence_spans

    second = "布林肯表示，会谈是坦诚而有益的，双方同意继续对话。"
    text = GENEVA + second
    spans = sentence_spans(text)
    assert [text[lo:hi] for lo, hi in spans] == [GENEVA, second]
    views = fp32.embed_passage_views([text, "短句。"], [spans, []])
    assert [v.shape for v in views] == [(3, 384), (1, 384)]
    separate = fp32.embed_passages([text, GENEVA, second, "短句。"])
    # row 0 is exactly the passage vector; sentence rows are normalized and close to the sentence alone
    np.testing.assert_allclose(views[0][0], separate[0], atol=1e-5)
    np.testing.assert_allclose(views[1][0], separate[3], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(views[0], axis=1), 1.0, atol=1e-5)
    assert (views[0][1:] * separate[1:3]).sum(axis=1).min() > 0.85
    # the first sentence's vector is nearest that sentence alone; the sentence vectors are their own
    # (close to each other and the passage: each is read in the passage's context)
    cross = views[0][1:] @ separate[1:3].T
    assert cross[0, 0] > cross[0, 1]
    assert (views[0] @ views[0].T)[np.triu_indices(3, 1)].max() < 0.999
    # the duration question prefers the sentence that holds the duration
    q = fp32.embed_query("会谈持续了多长时间？")
    assert views[0][1] @ q > views[0][2] @ q


def test_one_pass_views_check_their_input(fp32):
    with pytest.raises(ValueError, match="span lists"):
        fp32.embed_passage_views(["a", "b"], [[]])
    # a span beyond the 512-token window falls back to the passage vector
    long_text = "日内瓦会谈。" * 400
    views = fp32.embed_passage_views([long_text], [[(0, 6), (len(long_text) - 6, len(long_text))]])[0]
    np.testing.assert_allclose(views[2], views[0])
    assert not np.allclose(views[1], views[0])


@pytest.mark.slow
def test_smoothing_keeps_the_fp32_function(model_path, fp32):
    from sentence_transformers import SentenceTransformer

    from rag.embedder import activation_peaks, calibration_texts, smooth_linear_inputs

    model = SentenceTransformer(model_path, device="cpu")
    calibration = calibration_texts(model.tokenizer, count=8)
    assert calibration == calibration_texts(model.tokenizer, count=8)  # fixed seed: the same scales every load
    # 12 layers x (q, k, v, attention out, FFN in, FFN out), and the pooler BERT computes but mean pooling ignores
    assert smooth_linear_inputs(model, activation_peaks(model, calibration)) == 12 * 6 + 1
    texts = [GENEVA, "The talks in Geneva lasted about ninety minutes."]
    smoothed = model.encode(["passage: " + t for t in texts], normalize_embeddings=True)
    np.testing.assert_allclose(smoothed, fp32.embed_passages(texts), atol=2e-5)


@pytest.mark.slow
@pytest.mark.skipif(not CMRC.is_file(), reason="shared/benchmarks/cmrc2018 not present")
def test_smoothed_int8_is_closer_to_fp32_than_plain_int8(model_path, fp32, int8):
    from sentence_transformers import SentenceTransformer

    from rag.embedder import quantize_int8

    passages = _cmrc_set(12)[0]
    plain = quantize_int8(SentenceTransformer(model_path, device="cpu"), smoothing=False)
    reference = fp32.embed_passages(passages)
    plain_cosine = (plain.encode(["passage: " + p for p in passages], normalize_embeddings=True) * reference).sum(1)
    smoothed_cosine = (int8.embed_passages(passages) * reference).sum(1)
    assert smoothed_cosine.mean() > plain_cosine.mean() and smoothed_cosine.min() > 0.99, (smoothed_cosine,
                                                                                          plain_cosine)


@pytest.mark.slow
def test_calibration_is_cached_in_the_model_folder_and_a_damaged_cache_is_recomputed(model_path, tmp_path):
    import shutil

    from sentence_transformers import SentenceTransformer

    from rag.embedder import PEAKS_FILE, cached_activation_peaks

    folder = tmp_path / "model"
    shutil.copytree(model_path, folder, ignore=shutil.ignore_patterns(PEAKS_FILE))
    model = SentenceTransformer(str(folder), device="cpu")
    first = cached_activation_peaks(model, str(folder))
    assert (folder / PEAKS_FILE).is_file() and len(first) == 12 * 6 + 1
    again = cached_activation_peaks(None, str(folder))  # read back: no model needed
    assert again.keys() == first.keys() and all(np.array_equal(again[k], first[k]) for k in first)
    (folder / PEAKS_FILE).write_bytes(b"not a numpy file")
    recomputed = cached_activation_peaks(model, str(folder))
    assert all(np.allclose(recomputed[k], first[k]) for k in first)
