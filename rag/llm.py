"""Chat models for answering: the packaged GGUF in-process, or any OpenAI-compatible HTTP API.

Both are LangChain chat models, so they plug into LCEL chains and stream with ``.stream()``:

- ``"local"``: :class:`LocalChatModel` runs a GGUF file (by default Qwen2.5-Coder-1.5B-Instruct, assembled
  from PyPI packages by :func:`rag.models.provision_llm`) in this process with xllamacpp, llama.cpp's
  own server engine. One engine per (file, threads, context) is loaded per process and shared.
- ``"api"``: :func:`api_chat_model` is ``langchain_openai.ChatOpenAI`` pointed at ``config.api_base_url``.

:func:`serve_openai_compatible` (or ``python -m rag.llm serve --port 8080``) serves the local GGUF over
HTTP on 127.0.0.1 with the OpenAI API, so several processes can share one loaded model through the
``"api"`` backend (the default ``api_base_url`` is ``http://127.0.0.1:8080/v1``).

>>> from rag.config import Config
>>> llm = chat_model(Config.load(), "local")                                  # doctest: +SKIP
>>> llm.invoke("根据资料：会谈持续了约90分钟。问：会谈持续了多久？").content    # doctest: +SKIP
'会谈持续了约90分钟。'
>>> describe_llm_failure(TimeoutError("timed out"))
'timed out'
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from rag.config import Config
from rag.errors import RagError
from rag.models import resolve_llm

BACKENDS = ("local", "api")
SERVED_MODEL_NAME = "local"  # the model id the HTTP server answers to; rag.config.Config.api_model default
LOG_ENV = "RAG_LLM_LOG"  # set to 1 to see llama.cpp's own log on stderr (quiet by default)

# Loaded engines, one per (GGUF path, threads, context): loading costs ~2 s and ~1.3 GB of RAM.
_ENGINES: dict[tuple[str, int, int], Any] = {}
_ENGINES_LOCK = threading.Lock()
_DONE = object()  # end of a token stream


class LLMError(RagError):
    """The chat model could not load or answer; the message says what happened."""


# ----------------------------------------------------------------------------------------------
# The local backend


class LocalChatModel(BaseChatModel):
    """A GGUF chat model running in this process (xllamacpp), as a LangChain chat model.

    The engine behind it is llama.cpp's server core: it is thread-safe and queues concurrent requests
    (one slot, so each request gets the whole context and they are answered first come, first served);
    no lock is needed around calls. Requests with a common prefix (the same system prompt) reuse its
    cached computation.

    >>> llm = LocalChatModel(model_path="models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")  # doctest: +SKIP
    >>> llm.invoke("根据资料：会谈持续了约90分钟。问：会谈持续了多久？").content             # doctest: +SKIP
    '会谈持续了约90分钟。'
    >>> "".join(chunk.content for chunk in llm.stream("用一句话介绍日内瓦。"))                # doctest: +SKIP
    '日内瓦是瑞士的一座城市，...'
    """

    model_path: str
    """Path of the GGUF file."""
    n_threads: int = Field(default=2, gt=0)
    n_ctx: int = Field(default=2048, gt=0)
    """Context size in tokens: prompt plus answer must fit."""
    temperature: float = Field(default=0.0, ge=0.0)
    max_tokens: int = Field(default=160, gt=0)
    stop: list[str] | None = None

    @classmethod
    def from_config(cls, config: Config, progress: bool = False) -> LocalChatModel:
        """The model ``config.llm_model`` names (provisioned on first use), with the config's settings."""
        gguf = resolve_llm(config.llm_model, config.models_dir, progress=progress)
        return cls(model_path=str(gguf), n_threads=config.llm_threads, n_ctx=config.llm_context,
                   temperature=config.llm_temperature, max_tokens=config.llm_max_tokens)

    @property
    def _llm_type(self) -> str:
        return "xllamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_threads": self.n_threads, "n_ctx": self.n_ctx,
                "temperature": self.temperature, "max_tokens": self.max_tokens}

    def load(self) -> Any:
        """The shared engine (an ``xllamacpp.Server``) for this model, loading it on first use."""
        return load_engine(Path(self.model_path), self.n_threads, self.n_ctx)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        engine = self.load()
        request = self._request(messages, stop, stream=False, **kwargs)
        try:
            response = engine.handle_chat_completions(request)
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"the local model rejected the request: {exc}") from exc
        _raise_for_error(response)
        try:
            choice = response["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"unexpected response from the local model: {str(response)[:200]}") from exc
        metadata = {"model_name": Path(self.model_path).name, "finish_reason": choice.get("finish_reason")}
        usage = response.get("usage")
        if usage:
            metadata["token_usage"] = usage
        if response.get("timings"):
            metadata["timings"] = response["timings"]
        message = AIMessage(content=text, usage_metadata=_usage_metadata(usage), response_metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=message)],
                          llm_output={"token_usage": usage, "model_name": metadata["model_name"]})

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """Yield text pieces as llama.cpp produces them.

        xllamacpp reports tokens through a callback inside a blocking call, so the call runs in a helper
        thread that hands chunks over a queue; closing the iterator early stops generation at the next token.
        """
        engine = self.load()
        request = self._request(messages, stop, stream=True, **kwargs)
        events: queue.Queue = queue.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: dict) -> bool:
            events.put(chunk)
            return cancelled.is_set()  # True tells llama.cpp to stop

        def run() -> None:
            try:
                engine.handle_chat_completions(request, on_chunk)
            except BaseException as exc:  # handed to the consuming thread, which raises it
                events.put(exc)
            finally:
                events.put(_DONE)

        threading.Thread(target=run, name="rag-llm-stream", daemon=True).start()
        try:
            while (event := events.get()) is not _DONE:
                if isinstance(event, BaseException):
                    raise LLMError(f"the local model rejected the request: {event}") from event
                _raise_for_error(event)
                chunk = self._chunk(event)
                if chunk is None:
                    continue
                if run_manager and chunk.text:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        finally:
            cancelled.set()

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any) -> dict:
        """The OpenAI-style request body; call-time ``max_tokens``/``temperature``/``stop`` win."""
        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stream": stream,
        }
        stop = stop or self.stop
        if stop:
            request["stop"] = list(stop)
        if stream:
            request["stream_options"] = {"include_usage": True}
        return request

    def _chunk(self, event: dict) -> ChatGenerationChunk | None:
        """One streamed llama.cpp chunk as a LangChain chunk (None for role-only chunks)."""
        choices = event.get("choices") or []
        delta = (choices[0].get("delta") or {}) if choices else {}
        text = delta.get("content") or ""
        finish = choices[0].get("finish_reason") if choices else None
        usage = event.get("usage")
        if not text and not finish and not usage:
            return None
        info: dict[str, Any] = {}
        if finish:
            info["finish_reason"] = finish
            info["model_name"] = Path(self.model_path).name
        if usage:
            info["token_usage"] = usage
        if event.get("timings"):
            info["timings"] = event["timings"]
        message = AIMessageChunk(content=text, usage_metadata=_usage_metadata(usage) if usage else None)
        return ChatGenerationChunk(message=message, generation_info=info or None)


def load_engine(gguf: Path, threads: int = 2, context: int = 2048) -> Any:
    """The ``xllamacpp.Server`` for ``gguf``, loaded once per process per (path, threads, context).

    Its HTTP side listens on a random 127.0.0.1 port behind a random API key, so only this process
    uses it; :func:`serve_openai_compatible` makes one meant to be shared.

    >>> engine = load_engine(Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))  # doctest: +SKIP
    >>> engine is load_engine(Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))  # doctest: +SKIP
    True
    """
    key = (str(Path(gguf).expanduser().resolve()), int(threads), int(context))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _start_engine(Path(key[0]), threads, context, api_key=secrets.token_urlsafe(24))
            _ENGINES[key] = engine
    return engine


def _start_engine(gguf: Path, threads: int, context: int, host: str = "127.0.0.1", port: int = 0,
                  api_key: str | None = None) -> Any:
    _check_gguf(gguf)
    try:
        import xllamacpp
    except ImportError as exc:
        raise LLMError("the local LLM backend needs xllamacpp: pip install xllamacpp") from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = context
    params.n_parallel = 1  # one slot: each request gets the whole context; the rest wait in line
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.sampling.temp = 0.0
    params.verbosity = 3 if os.environ.get(LOG_ENV) else 0
    params.ui = False
    params.endpoint_slots = False
    params.hostnames = [host]
    params.port = port
    params.model_alias = {SERVED_MODEL_NAME}
    # No CORS headers: web pages in a browser must not be able to use the model behind the user's back.
    params.cors_origins = ""
    params.cors_origins_explicit = True
    if api_key:
        params.api_keys = [api_key]
    try:
        return xllamacpp.Server(params)
    except RuntimeError as exc:  # xllamacpp says only "Failed to init server"; the log has the reason
        raise LLMError(
            f"xllamacpp could not load {gguf} ({exc}): the file may be damaged or not a llama.cpp model"
            f"{'' if port == 0 else f', or {host}:{port} is taken'}; set {LOG_ENV}=1 to see llama.cpp's log"
        ) from exc


def _check_gguf(gguf: Path) -> None:
    """Fail with a readable message before llama.cpp does with an unreadable one."""
    try:
        with gguf.open("rb") as f:
            magic = f.read(4)
    except FileNotFoundError as exc:
        raise LLMError(f"GGUF file {gguf} does not exist") from exc
    except OSError as exc:
        raise LLMError(f"cannot read GGUF file {gguf}: {exc.strerror}") from exc
    if magic != b"GGUF":
        raise LLMError(f"{gguf} is not a GGUF model file (it starts with {magic!r}, not b'GGUF')")


def _raise_for_error(response: Any) -> None:
    """llama.cpp reports some failures (e.g. a prompt longer than the context) as an ``error`` object."""
    if isinstance(response, dict) and "error" in response:
        error = response["error"]
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        hint = "; shorten the prompt or raise llm_context" if "context size" in message else ""
        raise LLMError(f"the local model failed: {message}{hint}")


def _usage_metadata(usage: dict | None) -> UsageMetadata | None:
    if not usage:
        return None
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return UsageMetadata(input_tokens=prompt, output_tokens=completion,
                         total_tokens=int(usage.get("total_tokens", prompt + completion)))


# ----------------------------------------------------------------------------------------------
# The API backend and the choice between the two


def api_chat_model(config: Config) -> BaseChatModel:
    """``ChatOpenAI`` for ``config.api_base_url`` (any OpenAI-compatible server), without retries.

    The key is ``config.api_key``, else ``$OPENAI_API_KEY``, else a placeholder (local servers need none).
    Failures raise the ``openai`` exceptions; :func:`describe_llm_failure` turns them into one line.

    >>> llm = api_chat_model(Config.load(api_base_url="http://127.0.0.1:8080/v1"))
    >>> llm.openai_api_base, llm.max_retries
    ('http://127.0.0.1:8080/v1', 0)
    """
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=config.api_base_url,
        model=config.api_model,
        api_key=config.api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
        timeout=config.api_timeout,
        max_retries=0,
        temperature=config.llm_temperature,
        max_tokens=config.llm_max_tokens,
    )


def chat_model(config: Config, backend: str) -> BaseChatModel:
    """The chat model for ``backend`` ("local" or "api"), ready to use.

    ``"local"`` provisions the packaged GGUF if needed and loads it now (once per process), so a missing
    or broken model raises here rather than at the first question.

    >>> chat_model(Config.load(), "gpt")
    Traceback (most recent call last):
    ...
    ValueError: unknown chat model backend 'gpt'; valid: local, api
    """
    name = backend.strip().lower()
    if name == "local":
        progress = config.progress if config.progress is not None else sys.stderr.isatty()
        model = LocalChatModel.from_config(config, progress=progress)
        model.load()
        return model
    if name == "api":
        return api_chat_model(config)
    raise ValueError(f"unknown chat model backend {backend!r}; valid: {', '.join(BACKENDS)}")


def describe_llm_failure(exc: BaseException) -> str:
    """One line saying why a chat model call failed, for fallback notices and logs.

    >>> describe_llm_failure(json.JSONDecodeError("Expecting value", "<html>", 0))
    'invalid response (not JSON)'
    >>> describe_llm_failure(LLMError("GGUF file /x.gguf does not exist"))
    'GGUF file /x.gguf does not exist'
    """
    if isinstance(exc, RagError):
        return str(exc)
    try:
        import openai
    except ImportError:  # only the local backend is installed
        openai = None
    if openai is not None:
        if isinstance(exc, openai.APIStatusError):
            detail = _error_detail(exc.body)
            return f"HTTP {exc.status_code} from {_endpoint(exc)}" + (f": {detail}" if detail else "")
        if isinstance(exc, openai.APITimeoutError):
            seconds = _timeout_seconds(exc)
            return "timed out" + (f" after {seconds:g} s" if seconds else "") + f" waiting for {_endpoint(exc)}"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot connect to {_endpoint(exc)}: {_root_cause(exc)}"
        if isinstance(exc, openai.APIResponseValidationError):
            return "invalid response (JSON of an unexpected shape)"
    message = str(exc)
    if isinstance(exc, json.JSONDecodeError) or "Unexpected response type" in message:
        return "invalid response (not JSON)"
    if "No generation chunks were returned" in message:
        return "invalid response (no completion chunks: not an OpenAI-compatible stream)"
    if isinstance(exc, TypeError) and "'choices'" in message:
        return "invalid response (JSON without 'choices')"
    if isinstance(exc, TimeoutError):
        return "timed out"
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:200] if first_line else type(exc).__name__


def _endpoint(exc: BaseException) -> str:
    """The base URL of the failed request (``.../v1``, without the ``/chat/completions`` path)."""
    request = getattr(exc, "request", None)
    url = str(getattr(request, "url", "") or "")
    for suffix in ("/chat/completions", "/completions", "/models"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url or "the API"


def _timeout_seconds(exc: BaseException) -> float | None:
    """The read timeout httpx recorded on the request, if any."""
    timeout = getattr(getattr(exc, "request", None), "extensions", {}).get("timeout") or {}
    seconds = timeout.get("read") if isinstance(timeout, dict) else None
    return float(seconds) if isinstance(seconds, int | float) else None


def _error_detail(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or "")[:120]
    return str(body or "")[:120]


def _root_cause(exc: BaseException) -> str:
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    return str(exc) or type(exc).__name__


# ----------------------------------------------------------------------------------------------
# Serving the local model over HTTP


class OpenAICompatibleServer:
    """A running llama.cpp HTTP server (xllamacpp's own) with the OpenAI API under ``base_url``.

    Endpoints include ``POST /v1/chat/completions`` (streaming and not), ``GET /v1/models`` and
    ``GET /health``. The model answers to the name ``"local"`` (any name is accepted). Close it, or use
    it as a context manager, to stop the server and free the model.

    >>> with serve_openai_compatible(Path("models/qwen.gguf")) as server:    # doctest: +SKIP
    ...     llm = api_chat_model(Config.load(api_base_url=server.base_url))
    ...     llm.invoke("你好").content
    '你好！有什么我可以帮助你的吗？'
    """

    def __init__(self, engine: Any, gguf: Path):
        self._engine = engine
        self.gguf = gguf
        self.base_url = engine.listening_address.rstrip("/") + "/v1"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1].split("/")[0])

    def close(self) -> None:
        """Stop serving; the engine shuts down when its last reference goes."""
        self._engine = None

    @property
    def closed(self) -> bool:
        return self._engine is None

    def __enter__(self) -> OpenAICompatibleServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "serving"
        return f"OpenAICompatibleServer({self.gguf.name}, {self.base_url}, {state})"


def serve_openai_compatible(gguf: Path, host: str = "127.0.0.1", port: int = 0, threads: int = 2,
                            context: int = 2048, api_key: str | None = None) -> OpenAICompatibleServer:
    """Serve ``gguf`` over HTTP with the OpenAI API on ``host:port`` (0 = a free port); returns at once.

    Meant for loopback: the server has no CORS headers and, unless ``api_key`` is given, no key.

    >>> with serve_openai_compatible(Path("models/qwen.gguf"), port=8080) as server:  # doctest: +SKIP
    ...     server.base_url
    'http://127.0.0.1:8080/v1'
    """
    if port:
        _check_port_free(host, port)
    engine = _start_engine(Path(gguf), threads, context, host=host, port=port, api_key=api_key)
    return OpenAICompatibleServer(engine, Path(gguf))


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LLMError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """``python -m rag.llm serve [--port 8080] [--model NAME_OR_GGUF] ...``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m rag.llm", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the local GGUF with the OpenAI API over HTTP")
    serve.add_argument("--model", help="'qwen2.5-coder-1.5b-instruct' or a GGUF path (default: config llm_model)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 = any free port (default 8080)")
    serve.add_argument("--threads", type=int, help="default: config llm_threads")
    serve.add_argument("--context", type=int, help="context size in tokens (default: config llm_context)")
    serve.add_argument("--api-key", help="require this key (Authorization: Bearer KEY)")
    args = parser.parse_args(argv)
    try:
        config = Config.load()
        gguf = resolve_llm(args.model or config.llm_model, config.models_dir, progress=sys.stderr.isatty())
        server = serve_openai_compatible(gguf, host=args.host, port=args.port,
                                         threads=args.threads or config.llm_threads,
                                         context=args.context or config.llm_context, api_key=args.api_key)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"serving {gguf.name} at {server.base_url} (model name {SERVED_MODEL_NAME!r}); Ctrl-C to stop",
          flush=True)
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
