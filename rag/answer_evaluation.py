"""Answer evaluation: is `ask()`'s answer right, cited, in the right language, or rightly abstained?

``rag eval DATASET --llm local,extractive`` asks every question of a JSON Lines dataset (INTERFACES.md)
with each backend and reports, per backend:

- **accuracy**: answerable items whose answer contains one of `answers` (after `normalize_text`);
  an abstention counts as wrong;
- **key-fact coverage**: mean share of `key_facts` groups matched (items that have them);
- **abstention on unanswerable** and **answered when unanswerable** (invented answers);
- **false abstention**: answerable items abstained on;
- **citation validity**: answers whose every `[n]` has a citation and every citation is referenced;
- **citation support**: answered items with evidence where a cited passage contains an evidence quote;
- **language match**: answers in the question's language (quotes excluded);
- **latency** p50/p95 of the whole `ask()`.

>>> answer_contains("The talks lasted about 90 minutes [1].", ["90分钟", "90 minutes"])
True
>>> citations_valid("会谈持续了约90分钟[1]。", [1])
True
>>> citations_valid("会谈持续了约90分钟[2]。", [1])
False
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rag.answering import ask
from rag.evaluation import EvalDataset, EvalItem, latency_summary, normalize_text
from rag.index import Index
from rag.language import detect_language, is_in_language
from rag.schema import Answer

_MARKER = re.compile(r"\[(\d+)\]")


def answer_contains(answer: str, alternatives: list[str]) -> bool:
    text = normalize_text(answer)
    return any(normalize_text(alt) in text for alt in alternatives if alt.strip())


def citations_valid(answer: str, citation_numbers: list[int]) -> bool:
    """Every [n] resolves to a citation and every citation is referenced."""
    used = {int(n) for n in _MARKER.findall(answer)}
    return used == set(citation_numbers)


@dataclass
class AnswerRecord:
    id: str
    question: str
    answerable: bool
    answer: str
    abstained: bool
    llm: str
    fallback: str | None
    correct: bool | None
    key_fact_coverage: float | None
    citations_valid: bool
    citation_supported: bool | None
    language_match: bool
    total_ms: float


@dataclass
class BackendResult:
    backend: str
    metrics: dict[str, float | None]
    latency_ms: dict[str, float | None]
    records: list[AnswerRecord] = field(default_factory=list)


@dataclass
class AnswerReport:
    dataset: str
    index: str
    backends: dict[str, BackendResult]

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "index": self.index,
                "backends": {name: asdict(result) for name, result in self.backends.items()}}

    def to_markdown(self) -> str:
        names = list(self.backends)
        metric_names = list(next(iter(self.backends.values())).metrics) if names else []
        lines = [f"## Answers: {self.dataset}", "", f"Index: `{self.index}`", "",
                 "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for metric in metric_names:
            cells = [_fmt(self.backends[n].metrics[metric]) for n in names]
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
        for q in ("p50", "p95"):
            cells = [_fmt(self.backends[n].latency_ms[q], 0) for n in names]
            lines.append(f"| ask latency {q} (ms) | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def score_answer(item: EvalItem, answer: Answer) -> AnswerRecord:
    """Score one answer against its dataset item (see the module docstring for each metric)."""
    correct = None
    coverage = None
    supported = None
    if item.answerable:
        correct = not answer.abstained and answer_contains(answer.text, item.answers)
        if item.key_facts:
            matched = [answer_contains(answer.text, group) for group in item.key_facts] if not answer.abstained \
                else [False] * len(item.key_facts)
            coverage = sum(matched) / len(matched)
        if not answer.abstained and item.evidence:
            texts = {h.chunk_id: normalize_text(h.text) for h in answer.contexts}
            quotes = [normalize_text(ev.quote) for ev in item.evidence]
            supported = any(q in texts.get(c.chunk_id, normalize_text(c.quote)) for c in answer.citations
                            for q in quotes)
    return AnswerRecord(
        id=item.id, question=item.question, answerable=item.answerable, answer=answer.text,
        abstained=answer.abstained, llm=answer.llm, fallback=answer.fallback, correct=correct,
        key_fact_coverage=coverage, citations_valid=citations_valid(answer.text, [c.n for c in answer.citations]),
        citation_supported=supported,
        language_match=answer.abstained or is_in_language(answer.text, detect_language(item.question)),
        total_ms=answer.timings.get("total_ms", 0.0),
    )


def _mean(values: list[bool | float | None]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarize(backend: str, records: list[AnswerRecord]) -> BackendResult:
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    answered = [r for r in records if not r.abstained]
    metrics = {
        "answer accuracy": _mean([r.correct for r in answerable]),
        "key-fact coverage": _mean([r.key_fact_coverage for r in answerable]),
        "abstention on unanswerable": _mean([r.abstained for r in unanswerable]),
        "answered when unanswerable": _mean([not r.abstained for r in unanswerable]),
        "false abstention": _mean([r.abstained for r in answerable]),
        "citation validity": _mean([r.citations_valid for r in answered]),
        "citation support": _mean([r.citation_supported for r in answerable]),
        "language match": _mean([r.language_match for r in records]),
        "fallbacks": _mean([r.fallback is not None for r in records]),
    }
    return BackendResult(backend, metrics, latency_summary([r.total_ms for r in records]), records)


def sample_questions(dataset: EvalDataset, n: int | None, seed: int = 0) -> EvalDataset:
    """`dataset` with a random `n` of its questions (all when `n` is None or not smaller); the corpus is kept.

    Asking all 3,219 CMRC 2018 questions with the local model would take about three hours; a fixed-seed
    sample gives the same questions on every run, so two settings can be compared on them.

    >>> ds = EvalDataset("qa", "jsonl", [EvalItem(f"q{i}", "?") for i in range(10)])
    >>> small = sample_questions(ds, 3)
    >>> len(small.items), small.name, [i.id for i in small.items] == [i.id for i in sample_questions(ds, 3).items]
    (3, 'qa (random 3 of 10 questions, seed 0)', True)
    """
    if n is None or n >= len(dataset.items):
        return dataset
    if n < 1:
        raise ValueError(f"a sample needs at least one question, got {n}")
    items = random.Random(seed).sample(dataset.items, n)
    name = f"{dataset.name} (random {n} of {len(dataset.items)} questions, seed {seed})"
    return replace(dataset, items=items, name=name)


def evaluate_answers(dataset: EvalDataset, index: Index, backends: list[str], k: int | None = None,
                     progress: bool | None = None) -> AnswerReport:
    """Ask every item with each backend; one warm-up question per backend is not timed."""
    from tqdm.auto import tqdm

    from rag.index import _progress_enabled

    results = {}
    for backend in backends:
        if dataset.items:
            ask(dataset.items[0].question, index=index, llm=backend, k=k)  # load models, page the file in
        records = []
        for item in tqdm(dataset.items, desc=f"Answering ({backend})", unit="q",
                         disable=not _progress_enabled(progress)):
            answer = ask(item.question, index=index, history=item.history, llm=backend, k=k)
            records.append(score_answer(item, answer))
        results[backend] = summarize(backend, records)
    return AnswerReport(dataset.name, str(index.path), results)


def write_answer_report(report: AnswerReport, out_dir: str | Path) -> list[Path]:
    """answers.json (with every answer), answers.md, and answers.png (metrics per backend)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "answers.json", out / "answers.md"]
    written[0].write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    written[1].write_text(report.to_markdown(), encoding="utf-8")
    try:
        written.append(_plot(report, out / "answers.png"))
    except ImportError:
        pass
    return written


def _plot(report: AnswerReport, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(report.backends)
    metrics = [m for m in next(iter(report.backends.values())).metrics if m != "fallbacks"]
    fig = Figure(figsize=(11, 4.5))
    FigureCanvasAgg(fig)
    ax, ax_latency = fig.add_subplot(1, 3, (1, 2)), fig.add_subplot(1, 3, 3)
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = [report.backends[name].metrics[m] or 0.0 for m in metrics]
        ax.bar([x + i * width for x in range(len(metrics))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(metrics))])
    ax.set_xticklabels(metrics, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("Answer quality per backend")
    ax.legend()
    ax_latency.boxplot([[r.total_ms / 1000 for r in report.backends[n].records] for n in names], tick_labels=names)
    ax_latency.set_title("ask() latency (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def run_answer_eval(dataset: EvalDataset, index: Index, backends: list[str], out: str | Path | None = None,
                    k: int | None = None, progress: bool | None = None) -> AnswerReport:
    started = time.perf_counter()
    report = evaluate_answers(dataset, index, backends, k=k, progress=progress)
    if out is not None:
        write_answer_report(report, out)
    report.seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return report
