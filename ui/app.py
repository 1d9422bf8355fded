"""The Gradio app: a cited chat over the articles, a Documents tab and per-session settings.

>>> from rag.config import Config
>>> demo = build_app(Config.load(llm="extractive"))                      # doctest: +SKIP
>>> launch(Config.load(), host="127.0.0.1", port=7860, auth=("me", "pw"))  # doctest: +SKIP

`build_app` lays the page out; `launch` also passes the styles and script (Gradio 6 takes `css`/`js` at
launch), caps upload sizes, binds 127.0.0.1 unless told otherwise, and warms the models up in the
background so the first question does not pay for loading them.

Concurrency: questions are answered `concurrency` at a time (`demo.queue`); the rest wait in line with
their position shown. The local LLM generates one answer at a time whatever that number (llama.cpp has
one slot), so with `--llm local` concurrent users mostly wait for each other's generation; retrieval and
the extractive backend run in parallel. Adding or removing documents waits for the questions being
answered and holds new ones back until the index is switched (one writer, many readers).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.answering import BACKENDS, ask
from rag.config import Config
from rag.errors import BadFileError, RagError
from rag.index import open_index
from rag.ingest import ingest, remove_documents
from rag.schema import Answer
from ui import render
from ui.uploads import store_upload, uploads_folder

EXAMPLES = [
    "美俄外长在哪里会谈？",
    "How long did the Geneva talks last?",
    "王毅和拉夫罗夫2020年在哪里会谈？",
    "What did Blinken and Lavrov discuss in Geneva?",
]
DOCUMENT_COLUMNS = ["doc_id", "title", "date", "source", "chunks"]
RESULT_COLUMNS = ["file", "result", "details"]
BACKEND_HELP = ("local: the offline Qwen model (about 5-15 s an answer, one answer at a time) · "
                "api: an OpenAI-compatible endpoint (RAG_API_BASE_URL) · "
                "extractive: no LLM, quotes the best sentence (fast)")
_DONE = object()  # end of a token stream


@dataclass
class FileResult:
    """What happened to one uploaded file: `status` is indexed, updated, unchanged or failed."""

    file: str
    status: str
    details: str

    def row(self) -> list[str]:
        return [self.file, self.status, self.details]


class ReadWriteLock:
    """Many readers (questions being answered) at once, or one writer (ingest/remove) alone.

    Waiting writers go first, so a steady stream of questions cannot starve an upload.

    >>> lock = ReadWriteLock()
    >>> with lock.reading(), lock.reading():
    ...     pass
    >>> with lock.writing():
    ...     pass
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            while self._writing or self._writers_waiting:
                self._changed.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._changed.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class ArticleService:
    """What the app does, without the page: answer with streaming, list, add and remove documents.

    >>> service = ArticleService(Config.load(llm="extractive"), index="news-idx")      # doctest: +SKIP
    >>> *partial, answer = service.stream_answer("How long did the Geneva talks last?")  # doctest: +SKIP
    >>> answer.citations[0].doc_id                                                     # doctest: +SKIP
    '000_830f0738273cd064.txt'
    """

    def __init__(self, config: Config, index: str | Path | None = None):
        self.config = config
        # A new folder given with --index becomes an empty index to upload into.
        self.index = open_index(index, config, create=index is not None)
        self.uploads = uploads_folder(config, self.index.path)
        self._lock = ReadWriteLock()

    # ---- answering -----------------------------------------------------------------------------
    def stream_answer(self, question: str, history: list[tuple[str, str]] | None = None,
                      llm: str | None = None, k: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer text generated so far (str) as the LLM streams it, then the final `Answer`.

        `ask()` runs in a worker thread and hands tokens over through a queue; the final answer has
        verified (possibly renumbered) citations, so it replaces the streamed text.
        """
        if not self.index.stats()["documents"]:
            raise RagError("the index has no articles yet: add some in the Documents tab")
        tokens: queue.SimpleQueue = queue.SimpleQueue()
        outcome: dict[str, Answer | BaseException] = {}

        def work() -> None:
            try:
                with self._lock.reading():
                    outcome["answer"] = ask(question, index=self.index, history=history, llm=llm, k=k,
                                            config=self.config, on_token=tokens.put)
            except BaseException as exc:  # handed to the caller's thread, raised there
                outcome["error"] = exc
            finally:
                tokens.put(_DONE)

        threading.Thread(target=work, name="rag-answer", daemon=True).start()
        streamed: list[str] = []
        done = False
        while not done:
            piece = tokens.get()
            # Take everything already queued, so a slow page gets fewer, larger updates.
            while piece is not _DONE:
                streamed.append(piece)
                try:
                    piece = tokens.get_nowait()
                except queue.Empty:
                    break
            done = piece is _DONE
            if streamed and not done:
                yield "".join(streamed)
        if "error" in outcome:
            raise outcome["error"]
        yield outcome["answer"]

    def warm_up(self) -> None:
        """Load the embedders (search and answer) and the local LLM when it is the default backend, before the
        first question."""
        try:
            self.index.embed_query("warm up")
            self.index.embed_answer_query("warm up")
            if self.config.llm == "local":
                from rag.llm import chat_model

                chat_model(self.config, "local")
        except Exception as exc:  # the first question reports it properly; here it is only a head start
            print(f"rag ui: warm-up skipped: {exc}", file=sys.stderr)

    # ---- documents -----------------------------------------------------------------------------
    def documents(self) -> list[list]:
        """One row per indexed document: doc_id, title, date, source, number of chunks."""
        if self.index.store.is_stale():  # another process (`rag ingest`) committed meanwhile
            with self._lock.writing():
                self.index.store.reload()
        records = self.index.store.documents
        return [[r.doc_id, r.title or "", r.date or "", r.source or "", len(r.chunk_ids)]
                for r in sorted(records.values(), key=lambda r: r.doc_id)]

    def add_files(self, files: list[tuple[str | Path, str]],
                  on_progress: Callable[[int, int, str], None] | None = None) -> list[FileResult]:
        """Store each (temporary path, original name) under the uploads folder and ingest it.

        A file that fails (too large, not text, no article in it) is reported with its reason;
        the others are indexed all the same.
        """
        results = []
        for done, (path, name) in enumerate(files):
            if on_progress:
                on_progress(done, len(files), name)
            results.append(self._add_file(Path(path), name))
        if on_progress:
            on_progress(len(files), len(files), "done")
        return results

    def _add_file(self, path: Path, name: str) -> FileResult:
        try:
            stored = store_upload(path, name, self.uploads, self.config.max_file_bytes)
        except BadFileError as exc:
            return FileResult(name, "failed", exc.reason)
        with self._lock.writing():
            report = ingest([stored], index=self.index, progress=False)
        if report.failed:
            if stored.name not in self.index.store.documents:
                stored.unlink(missing_ok=True)
            return FileResult(name, "failed", report.failed[0].reason)
        doc_id = stored.name
        record = self.index.store.documents.get(doc_id)
        count = len(record.chunk_ids) if record else 0
        chunks = f"{count} passage{'' if count == 1 else 's'}"
        if report.added:
            return FileResult(name, "indexed", f"as {doc_id}: {chunks}")
        if report.updated:
            return FileResult(name, "updated", f"{doc_id} replaced: {chunks}")
        return FileResult(name, "unchanged", f"{doc_id} was already indexed")

    def remove(self, doc_ids: list[str]) -> list[str]:
        """Remove documents from the index (and their uploaded copies); returns the ones removed."""
        records = self.index.store.documents
        with self._lock.writing():
            removed = remove_documents(doc_ids, index=self.index)
        uploads = self.uploads.resolve()
        for doc_id in removed:
            stored = Path(records[doc_id].path or "")
            if stored.parent == uploads:
                stored.unlink(missing_ok=True)
        return removed

    def describe_index(self) -> str:
        """One line of Markdown: which index is in use and how big it is."""
        stats = self.index.stats()
        return (f"**Index in use:** `{stats['path']}` · {stats['documents']} documents · "
                f"{stats['chunks']} passages · embedder `{stats['embedder']}`")


def build_app(config: Config, index: str | Path | None = None, *, concurrency: int = 4) -> gr.Blocks:
    """The page: Chat, Documents and Settings tabs over `index` (None = the bundled samples' index).

    Launch it with :func:`launch` (which adds the styles), or `build_app(...).launch(css=render.CSS,
    js=render.JS)`.
    """
    return _layout(ArticleService(config, index), concurrency)


def launch(config: Config, index: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None, concurrency: int = 4, block: bool = True,
           quiet: bool = False) -> gr.Blocks:
    """Serve the app on http://host:port (127.0.0.1 by default: only this machine can reach it).

    With `auth=(user, password)` every page and API call needs that login. Uploads larger than four
    times `config.max_file_bytes` are refused by the server outright; smaller ones above the limit are
    reported per file. `block=False` returns once the server is up (tests); `demo.close()` stops it.
    """
    service = ArticleService(config, index)
    demo = _layout(service, concurrency)
    threading.Thread(target=service.warm_up, name="rag-warm-up", daemon=True).start()
    demo.launch(server_name=host, server_port=port, auth=auth,
                auth_message="Log in to ask questions about the articles.",
                max_file_size=4 * config.max_file_bytes, css=render.CSS, js=render.JS,
                ssr_mode=False, mcp_server=False, enable_monitoring=False, show_error=False,
                prevent_thread_lock=not block, quiet=quiet)
    return demo


def _layout(service: ArticleService, concurrency: int) -> gr.Blocks:
    config = service.config
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the articles\nAsk in Chinese or English. Every answer cites the passages it comes "
                    "from: click a **[n]** to see the passage, with the quoted part highlighted.")
        history = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="rag-chat", height=560, latex_delimiters=[],
                    allow_tags=False, buttons=[], feedback_options=None,  # copy buttons would copy HTML
                    placeholder="**Ask a question about the articles.**<br>"
                                "Follow-up questions understand the conversation so far.")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(placeholder="Ask about the articles · 用中文或英文提问", show_label=False,
                                          scale=8, elem_id="rag-question", autofocus=True, max_lines=6)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-send")
                examples = gr.Dataset(components=[question], samples=[[q] for q in EXAMPLES],
                                      label="Examples", elem_id="rag-examples")
                new_chat = gr.Button("New conversation", size="sm", elem_id="rag-new-chat")
            with gr.Tab("Documents", id="documents"):
                index_line = gr.Markdown(service.describe_index(), elem_id="rag-index-line")
                uploads = gr.File(file_count="multiple", label=(
                    "Add articles: .txt .md .html .htm (several at once; at most "
                    f"{config.max_file_bytes / 1e6:g} MB each)"), elem_id="rag-upload")
                add = gr.Button("Add to the index", variant="primary", elem_id="rag-add")
                results = gr.Dataframe(headers=RESULT_COLUMNS, label="Upload results", interactive=False,
                                       visible=False, elem_id="rag-results", wrap=True)
                documents = gr.Dataframe(value=service.documents(), headers=DOCUMENT_COLUMNS,
                                         label="Indexed documents", interactive=False, wrap=True,
                                         elem_id="rag-documents", datatype="str")
                with gr.Row(equal_height=True):
                    # Custom values allowed: the choices change with every upload, in every session.
                    to_remove = gr.Dropdown(choices=_doc_choices(service), multiselect=True, scale=4,
                                            allow_custom_value=True, label="Remove documents",
                                            elem_id="rag-remove-choice")
                    remove = gr.Button("Remove", variant="stop", scale=1, elem_id="rag-remove")
            with gr.Tab("Settings", id="settings"):
                backend = gr.Radio(list(BACKENDS), value=config.llm, label="Answering backend",
                                   info=BACKEND_HELP, elem_id="rag-backend")
                top_k = gr.Slider(1, 20, value=config.top_k, step=1, label="Passages retrieved (top-k)",
                                  elem_id="rag-top-k")
                settings_index = gr.Markdown(service.describe_index())
                gr.Markdown("Settings apply to your session only. Another index: restart with "
                            "`rag ui --index DIR`.")

        def chat(text: str, messages: list, pairs: list, llm: str, k: float):
            yield from _chat_turn(service, text, messages, pairs, llm, int(k))

        chat_inputs = [question, chatbot, history, backend, top_k]
        chat_outputs = [question, chatbot, history]
        gr.on([question.submit, send.click], chat, chat_inputs, chat_outputs, api_name="chat",
              show_progress="hidden", concurrency_id="answer")
        examples.click(lambda sample: sample[0], examples, question, queue=False, api_visibility="private").then(
            chat, chat_inputs, chat_outputs, show_progress="hidden", concurrency_id="answer",
            api_visibility="private")
        new_chat.click(lambda: ([], []), None, [chatbot, history], queue=False, api_visibility="private")
        chatbot.clear(lambda: [], None, history, queue=False, api_visibility="private")

        # Gradio finds the progress tracker by this default value (its documented pattern).
        def add_files(files: list[str] | None, progress=gr.Progress()):  # noqa: B008
            if not files:
                raise gr.Error("Choose one or more files first.")
            outcome = service.add_files(
                [(f, Path(f).name) for f in files],
                lambda done, total, name: progress((done, total), desc=f"Indexing {name}", unit="files"))
            failed = sum(r.status == "failed" for r in outcome)
            if failed:
                gr.Warning(f"{failed} of {len(outcome)} files could not be indexed; see the reasons below.")
            return (None, gr.Dataframe(value=[r.row() for r in outcome], visible=True),
                    *_document_views(service))

        def remove_docs(doc_ids: list[str] | None):
            if not doc_ids:
                raise gr.Error("Choose the documents to remove first.")
            removed = service.remove(doc_ids)
            gr.Info(f"Removed {len(removed)} document(s).")
            return _document_views(service)

        document_outputs = [documents, to_remove, index_line, settings_index]
        add.click(add_files, uploads, [uploads, results, *document_outputs], api_name="add_files",
                  concurrency_limit=1, concurrency_id="write")
        remove.click(remove_docs, to_remove, document_outputs, api_name="remove_documents",
                     concurrency_limit=1, concurrency_id="write")
        demo.load(lambda: _document_views(service), None, document_outputs, api_visibility="private")
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    return demo


def _chat_turn(service: ArticleService, text: str, messages: list, pairs: list, llm: str, k: int):
    """One question: show it, stream the answer into the last message, then the verified answer."""
    text = (text or "").strip()
    if not text:
        yield gr.Textbox(), messages, pairs
        return
    turn = sum(m["role"] == "assistant" for m in messages) + 1
    messages = [*messages, {"role": "user", "content": render.user_html(text)},
                {"role": "assistant", "content": render.streaming_html("")}]
    yield gr.Textbox(value="", interactive=False), messages, pairs
    try:
        for update in service.stream_answer(text, [tuple(p) for p in pairs], llm=llm, k=k):
            if isinstance(update, Answer):
                messages[-1] = {"role": "assistant", "content": render.answer_html(update, turn)}
                pairs = [*pairs, [text, update.text]]
            else:
                messages[-1] = {"role": "assistant", "content": render.streaming_html(update)}
                yield gr.Textbox(interactive=False), messages, pairs
    except (RagError, ValueError) as exc:
        messages[-1] = {"role": "assistant", "content": render.error_html(str(exc))}
    except Exception as exc:  # never a traceback on the page
        print(f"rag ui: error answering {text!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
        messages[-1] = {"role": "assistant",
                        "content": render.error_html(f"internal error ({type(exc).__name__}); see the server log")}
    yield gr.Textbox(interactive=True), messages, pairs


def _doc_choices(service: ArticleService) -> list[str]:
    return [row[0] for row in service.documents()]


def _document_views(service: ArticleService) -> tuple:
    rows = service.documents()
    line = service.describe_index()
    return (gr.Dataframe(value=rows), gr.Dropdown(choices=[r[0] for r in rows], value=[]), line, line)
