"""`rag bench`: every measurement in one run, then the report.

>>> result = run_benchmark("eval/results/bench", quick=True)  # doctest: +SKIP
>>> sorted(result)  # doctest: +SKIP
['ask', 'ingest', 'meta', 'search', 'vectors']
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rag.config import Config

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
DEFAULT_SEARCH_PARAGRAPHS = (10_000, 100_000)
PARTS = ("vectors", "search", "ingest", "ask")


def _cmrc_path() -> Path:
    here = Path(__file__).resolve().parents[2]
    return here.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"


def run_benchmark(out: str | Path, config: Config | None = None, sizes=DEFAULT_SIZES,
                  search_paragraphs=DEFAULT_SEARCH_PARAGRAPHS, backends=None, ingest_paragraphs: int = 200,
                  ingest_repeats: int = 1, ask_questions: int = 20, llms=("local", "extractive"), parts=PARTS,
                  queries: int = 200, cmrc: str | Path | None = None, command: str = "rag bench",
                  progress=None) -> dict:
    """Run the chosen `parts`; writes bench.json/.md/.png under `out` and returns the result."""
    from rag.benchmark.report import write_report
    from rag.benchmark.vectors import BACKENDS
    from rag.evaluation import load_dataset

    config = config or Config.load()
    progress = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown part(s) {sorted(unknown)}; valid: {', '.join(PARTS)}")
    started = time.perf_counter()
    result: dict = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "command": command, "cores": os.cpu_count(),
                             "load_start": [round(x, 2) for x in os.getloadavg()],
                             "config": {"ann_threshold": config.ann_threshold, "ann_nprobe": config.ann_nprobe,
                                        "embed_precision": config.embed_precision,
                                        "sentence_vectors": config.sentence_vectors,
                                        "embed_batch_chars": config.embed_batch_chars,
                                        "vector_backend": config.vector_backend}}}
    cmrc_data = None
    if {"search", "ingest"} & set(parts):
        path = Path(cmrc) if cmrc else _cmrc_path()
        if not path.is_file():
            raise ValueError(f"CMRC 2018 dev not found at {path}; pass --cmrc PATH")
        cmrc_data = load_dataset(path)
    if "vectors" in parts:
        from rag.benchmark.vectors import measure_backends

        result["vectors"] = measure_backends(list(sizes), backends or BACKENDS, queries=queries,
                                             nprobe=config.ann_nprobe, progress=progress)
    if "search" in parts:
        from rag.benchmark.search import measure_langchain_search, measure_search

        questions = [item.question for item in cmrc_data.items]
        result["search"] = []
        for n in search_paragraphs:
            result["search"].append(measure_search(n, questions, cmrc_data.articles, config, queries=min(queries, 100),
                                                   progress=progress))
            result["search"].append(measure_langchain_search(n, questions, cmrc_data.articles, config,
                                                             queries=min(queries, 100), progress=progress))
    if "ingest" in parts:
        import tempfile

        from rag.benchmark.ingest import measure_file_ingest, measure_ingest
        from rag.index import sample_articles_dir

        paragraphs = [p for a in cmrc_data.articles for p in a.paragraphs][:ingest_paragraphs]
        progress(f"ingest: {len(paragraphs)} paragraphs, our variants vs LangChain")
        with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
            result["ingest"] = measure_ingest(paragraphs, config, tmp, repeats=ingest_repeats)
        files = sorted(p for p in sample_articles_dir().iterdir() if p.is_file())
        progress(f"ingest: the {len(files)} bundled scraped pages, fresh and one new file, ours vs LangChain")
        with tempfile.TemporaryDirectory(prefix="rag-bench-files-") as tmp:
            result["file_ingest"] = measure_file_ingest(files, config, tmp, repeats=max(3, ingest_repeats))
    if "ask" in parts:
        from rag.benchmark.ask import measure_ask

        qa = load_dataset(Path(__file__).resolve().parents[2] / "eval" / "datasets" / "samples_qa.jsonl")
        questions = [item.question for item in qa.items if not item.history][:ask_questions]
        result["ask"] = [measure_ask(questions, llm=llm, progress=progress) for llm in llms]
    result["meta"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    paths = write_report(result, out)
    progress("wrote " + ", ".join(str(p) for p in paths))
    return result


def add_bench_command(sub) -> None:
    p = sub.add_parser(
        "bench", help="measure ingest, search and answer cost, and how search grows with the corpus",
        description="One run, on this machine: vector search p50/p95, memory and recall@10 at 1k-1M vectors for "
                    "FAISS flat, FAISS IVF and milvus-lite; end-to-end hybrid `rag search` at 10k/100k paragraphs "
                    "vs LangChain's FAISS.similarity_search; ingest paragraphs/s (our first version, now fp32 "
                    "and int8, vs the plain LangChain pipeline: RecursiveCharacterTextSplitter + the same e5 + "
                    "FAISS); `ask` latency split into retrieve / prompt / generate. Writes bench.json, bench.md and "
                    "PNG plots to --out. The full run takes about 30-60 minutes on 2 cores; --quick takes a few.")
    p.add_argument("--out", metavar="DIR", default="eval/results/bench", help="report folder (default: %(default)s)")
    p.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                   help="vector counts for the vector-store part (default: %(default)s)")
    p.add_argument("--paragraphs", default=",".join(str(s) for s in DEFAULT_SEARCH_PARAGRAPHS),
                   help="corpus sizes for the end-to-end search part (default: %(default)s)")
    p.add_argument("--parts", default=",".join(PARTS), help="which parts to run (default: %(default)s)")
    p.add_argument("--backends", default=None, help="vector backends (default: faiss-flat,faiss-ivf,milvus-lite)")
    p.add_argument("--llm", default="local,extractive", help="backends for the ask part (default: %(default)s)")
    p.add_argument("--ingest-paragraphs", type=int, default=200, help="CMRC paragraphs to ingest (default: 200)")
    p.add_argument("--repeats", type=int, default=1, help="ingest repeats; ratios are medians (default: 1)")
    p.add_argument("--questions", type=int, default=20, help="questions for the ask part (default: 20)")
    p.add_argument("--cmrc", metavar="FILE", help="CMRC 2018 dev JSON (default: ../shared/benchmarks/cmrc2018/)")
    p.add_argument("--quick", action="store_true", help="small sizes (1k, 10k vectors; 2k paragraphs; 3 questions)")


def run_bench_command(args, config: Config) -> int:
    def ints(text):
        return [int(x) for x in text.split(",") if x.strip()]

    sizes, paragraphs = ints(args.sizes), ints(args.paragraphs)
    ingest_n, questions = args.ingest_paragraphs, args.questions
    if args.quick:
        sizes, paragraphs, ingest_n, questions = [1_000, 10_000], [2_000], 20, 3
    run_benchmark(args.out, config, sizes=sizes, search_paragraphs=paragraphs,
                  backends=args.backends.split(",") if args.backends else None, ingest_paragraphs=ingest_n,
                  ingest_repeats=args.repeats, ask_questions=questions, llms=tuple(args.llm.split(",")),
                  parts=tuple(args.parts.split(",")), queries=50 if args.quick else 200, cmrc=args.cmrc,
                  command="rag " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "rag bench")
    return 0
