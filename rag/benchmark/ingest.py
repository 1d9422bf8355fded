"""Ingest speed in paragraphs/s: our pipeline (fp32 and int8 embeddings) vs the plain LangChain one, in one run.

Every pipeline indexes the same paragraphs into a fresh folder; models are loaded before the clock starts.
The machine is shared, so each repeat runs the pipelines back to back (in a rotating order) and the ratios
are taken per repeat, then the median: a load spike slows a whole repeat, not one pipeline.

>>> from rag.config import Config
>>> paragraphs = ["日内瓦会谈于周一举行。会谈持续了约90分钟。"] * 3
>>> result = measure_ingest(paragraphs, Config.load(), "/tmp/bench")  # doctest: +SKIP
>>> sorted(result["pipelines"])  # doctest: +SKIP
['langchain', 'ours_before', 'ours_one_pass_fp32', 'ours_one_pass_int8', 'ours_separate_fp32']
>>> result["default"], result["ratios"]["ours_one_pass_int8/langchain"]  # doctest: +SKIP
('ours_one_pass_int8', 1.7)
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

from rag.config import Config
from rag.embedder import Embedder
from rag.ingest import ingest_articles
from rag.models import resolve_embedder
from rag.schema import Article
from vectorstore.keyword import tokenize

# Our pipeline's variants: "before" is the first version (every sentence embedded on its own, 32 texts a
# batch whatever their length); "separate_fp32" is the same views batched by length (embed_batch_chars),
# the default until session 11; the one-pass ones read sentence vectors from the chunk's own forward pass
# (sentence_vectors = "one_pass"), and int8 one-pass is the default now. The result's "default" names the
# variant whose settings are the config's.
OURS = {
    "ours_before": {"embed_precision": "fp32", "sentence_vectors": "separate", "embed_batch_chars": 10**9},
    "ours_separate_fp32": {"embed_precision": "fp32", "sentence_vectors": "separate"},
    "ours_one_pass_fp32": {"embed_precision": "fp32", "sentence_vectors": "one_pass"},
    "ours_one_pass_int8": {"embed_precision": "int8", "sentence_vectors": "one_pass"},
}
PIPELINES = (*OURS, "langchain")


def measure_ingest(paragraphs: list[str], config: Config, out_dir: str | Path, repeats: int = 1,
                   pipelines: tuple[str, ...] = PIPELINES) -> dict:
    """Ingest `paragraphs` with each of `pipelines`, `repeats` times; paragraphs/s and ratios to LangChain.

    Returns ``{"paragraphs", "repeats", "load_average", "pipelines": {name: {...}}, "ratios": {...}}`` where each
    pipeline has the median ``seconds``, ``paragraphs_per_s``, ``texts_embedded`` (model inputs: ours_before
    embeds each chunk and each of its sentences, the others and LangChain each chunk once), ``vectors`` stored,
    ``texts_per_s``, ``chunks`` and ``paragraphs_indexed``.
    """
    from rag.benchmark.langchain_baseline import build_langchain_index, langchain_embeddings

    if repeats <= 0:
        raise ValueError(f"repeats must be > 0, got {repeats}")
    unknown = set(pipelines) - set(PIPELINES)
    if unknown:
        raise ValueError(f"unknown pipeline(s) {sorted(unknown)}; valid: {', '.join(PIPELINES)}")
    out_dir = Path(out_dir)
    model_path = resolve_embedder(config.embedder, config.models_dir)
    configs = {name: config.with_overrides(**settings, progress=False) for name, settings in OURS.items()}
    _load_before_timing(model_path, [configs[name] for name in pipelines if name in configs])
    # LangChain as a user builds it: sentence-transformers' own batching (32 texts a batch)
    lc_embeddings = langchain_embeddings(model_path) if "langchain" in pipelines else None

    runs: dict[str, list[dict]] = {name: [] for name in pipelines}
    load_before = os.getloadavg()
    for repeat in range(repeats):
        order = pipelines[repeat % len(pipelines):] + pipelines[: repeat % len(pipelines)]
        for name in order:
            folder = out_dir / f"{name}-{repeat}"
            shutil.rmtree(folder, ignore_errors=True)
            if name == "langchain":
                run = build_langchain_index(paragraphs, model_path, folder, chunk_size=config.chunk_max_chars,
                                            embeddings=lc_embeddings)
            else:
                run = _ingest_ours(paragraphs, configs[name], folder)
            runs[name].append(run)

    result = {name: _summary(name_runs, len(paragraphs)) for name, name_runs in runs.items()}
    ratios = {}
    if "langchain" in runs:
        for name in runs:
            if name != "langchain":
                per_repeat = [lc["seconds"] / ours["seconds"] for ours, lc in zip(runs[name], runs["langchain"],
                                                                                  strict=True)]
                ratios[f"{name}/langchain"] = round(statistics.median(per_repeat), 3)
    defaults = {key: getattr(config, key) for key in ("embed_precision", "sentence_vectors", "embed_batch_chars")}
    default = next((name for name, settings in OURS.items()
                    if name in pipelines and {**defaults, **settings} == defaults), None)
    return {"paragraphs": len(paragraphs), "repeats": repeats, "load_average": [load_before, os.getloadavg()],
            "pipelines": result, "ratios": ratios, "default": default}


def _load_before_timing(model_path: str, configs: list[Config]) -> None:
    """Load each configuration's embedder, and jieba's dictionary (~1 s, once per process): loading, not ingest."""
    for config in configs:
        Embedder.load(model_path, config.embed_batch_size, config.query_prompt, config.passage_prompt,
                      precision=config.embed_precision, batch_chars=config.embed_batch_chars)
    tokenize("预热 warm-up")


def _ingest_ours(paragraphs: list[str], config: Config, folder: Path) -> dict:
    """One paragraph = one article; the whole `ingest_articles` call is timed (open, chunk, embed, write)."""
    from rag.index import open_index

    articles = [Article(f"p{i:06d}", None, None, None, [text]) for i, text in enumerate(paragraphs)]
    started = time.perf_counter()
    report = ingest_articles(articles, folder, config, progress=False)
    seconds = time.perf_counter() - started
    stats = open_index(folder, config).stats()
    one_pass = config.sentence_vectors == "one_pass"
    return {"paragraphs": len(paragraphs), "paragraphs_indexed": len(report.added), "chunks": stats["chunks"],
            "texts_embedded": stats["chunks"] if one_pass else stats["vectors"], "vectors": stats["vectors"],
            "seconds": seconds}


def _summary(runs: list[dict], paragraphs: int) -> dict:
    seconds = statistics.median(run["seconds"] for run in runs)
    last = runs[-1]
    return {
        "seconds": round(seconds, 3),
        "seconds_each": [round(run["seconds"], 3) for run in runs],
        "paragraphs_per_s": round(paragraphs / seconds, 3),
        "texts_embedded": last["texts_embedded"],
        "vectors": last.get("vectors", last["texts_embedded"]),
        "texts_per_s": round(last["texts_embedded"] / seconds, 3),
        "chunks": last["chunks"],
        "paragraphs_indexed": min(run["paragraphs_indexed"] for run in runs),
    }


def measure_file_ingest(files: list[str | Path], config: Config, out_dir: str | Path, repeats: int = 3) -> dict:
    """Ingest scraped pages as a user does, ours (default settings) vs the plain LangChain pipeline.

    Two scenarios, each repeated `repeats` times with the ratio taken per repeat, then the median:

    - ``"fresh"``: every file into an empty index. Our pipeline reads, cleans (navigation, footers, link lists
      and repeated bodies go), chunks, deduplicates and embeds each chunk and sentence; LangChain's loads the
      files as they are, splits and embeds every chunk (`build_langchain_index_from_files`).
    - ``"one_new_file"``: the index holds all files but the last, which is then added to the folder and the
      folder ingested again. Ours skips the unchanged files (sha256) and embeds only the new one; the plain
      LangChain pipeline has no record of what it indexed and builds the whole index again.

    >>> from rag.index import sample_articles_dir
    >>> files = sorted(sample_articles_dir().glob("*.txt"))
    >>> result = measure_file_ingest(files, Config.load(), "/tmp/bench-files")  # doctest: +SKIP
    >>> result["fresh"]["ratio"], result["one_new_file"]["ratio"]  # doctest: +SKIP
    (1.55, 3.23)
    """
    from rag.benchmark.langchain_baseline import build_langchain_index_from_files, langchain_embeddings

    files = [Path(f) for f in files]
    if repeats <= 0:
        raise ValueError(f"repeats must be > 0, got {repeats}")
    if len(files) < 2:
        raise ValueError(f"need at least 2 files (the last one is added in the update scenario), got {len(files)}")
    out_dir = Path(out_dir)
    ours_config = config.with_overrides(progress=False)
    model_path = resolve_embedder(config.embedder, config.models_dir)
    _load_before_timing(model_path, [ours_config])
    lc_embeddings = langchain_embeddings(model_path)
    runs: dict[str, list[dict]] = {"ours_fresh": [], "langchain_fresh": [], "ours_update": [], "langchain_update": []}
    load_before = os.getloadavg()
    for repeat in range(repeats):
        work = out_dir / f"files-{repeat}"
        shutil.rmtree(work, ignore_errors=True)
        corpus = work / "corpus"
        corpus.mkdir(parents=True)
        for f in files[:-1]:
            shutil.copy(f, corpus / f.name)
        # fresh: the whole folder (with the last file) into empty indexes, in a rotating order
        fresh = work / "fresh-corpus"
        shutil.copytree(corpus, fresh)
        shutil.copy(files[-1], fresh / files[-1].name)
        for name in ("ours_fresh", "langchain_fresh")[:: 1 if repeat % 2 == 0 else -1]:
            if name == "ours_fresh":
                runs[name].append(_ingest_files(fresh, ours_config, work / "ours-fresh"))
            else:
                runs[name].append(build_langchain_index_from_files(
                    sorted(fresh.iterdir()), model_path, work / "lc-fresh", config.chunk_max_chars,
                    embeddings=lc_embeddings))
        # update: an index of all files but the last, then the last one arrives
        _ingest_files(corpus, ours_config, work / "ours-update")
        shutil.copy(files[-1], corpus / files[-1].name)
        runs["ours_update"].append(_ingest_files(corpus, ours_config, work / "ours-update"))
        runs["langchain_update"].append(build_langchain_index_from_files(
            sorted(corpus.iterdir()), model_path, work / "lc-update", config.chunk_max_chars, embeddings=lc_embeddings))
        shutil.rmtree(work, ignore_errors=True)

    def scenario(ours: list[dict], lc: list[dict]) -> dict:
        ratio = statistics.median(b["seconds"] / a["seconds"] for a, b in zip(ours, lc, strict=True))
        summary = {}
        for name, name_runs in (("ours", ours), ("langchain", lc)):
            last = name_runs[-1]
            summary[name] = {"seconds": round(statistics.median(r["seconds"] for r in name_runs), 3),
                             "seconds_each": [round(r["seconds"], 3) for r in name_runs],
                             **{k: last[k] for k in ("chunks", "texts_embedded", "chars_embedded")}}
        return {**summary, "ratio": round(ratio, 3)}

    return {"files": [f.name for f in files], "repeats": repeats, "load_average": [load_before, os.getloadavg()],
            "fresh": scenario(runs["ours_fresh"], runs["langchain_fresh"]),
            "one_new_file": scenario(runs["ours_update"], runs["langchain_update"])}


def _ingest_files(folder: Path, config: Config, index_dir: Path) -> dict:
    """`rag ingest folder` timed as a whole; what it embedded (chunks and every view's characters)."""
    from rag.index import open_index
    from rag.ingest import ingest
    from vectorstore.index import passage_views

    started = time.perf_counter()
    report = ingest([folder], index_dir, config)
    seconds = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"ingest failed on {report.failed}")
    opened = open_index(index_dir, config)
    ingested = set(report.added) | set(report.updated)
    embedded = [c for c in opened.store.row_chunks if c.doc_id in ingested]
    if config.sentence_vectors == "one_pass":  # one model input per chunk; its sentence vectors come along
        views = [c.text for c in embedded]
    else:
        views = [view for c in embedded for view in passage_views(c.text)]
    return {"seconds": seconds, "chunks": report.chunks_embedded, "texts_embedded": len(views),
            "chars_embedded": sum(len(v) for v in views)}
