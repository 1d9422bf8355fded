"""Retrieval evaluation: how often search puts the gold passage near the top.

``rag eval DATASET`` runs :func:`run_eval`: load the dataset (the JSON Lines format of INTERFACES.md,
or SQuAD-style JSON such as CMRC 2018), open or build an index, search every question in each mode
and score where the first relevant hit lands, at two levels:

- **document**: the hit belongs to one of the item's evidence documents;
- **evidence**: the hit belongs to an evidence document *and* contains that evidence's quote
  (for SQuAD: any answer text), both compared after :func:`normalize_text`.

Only answerable items with evidence count for recall and MRR; every item is searched and timed.
Follow-up items (with ``history``) are searched with :func:`rag.conversation.standalone_question`
without a model (the previous turn is prepended), as `ask()` does with the extractive backend.

Answer metrics (is ``ask()``'s answer correct, cited, or rightly abstained?) are a later step too: they
will read the same :class:`EvalItem` fields (``answers``, ``key_facts``, ``answerable``), reuse
:func:`normalize_text`, and sit beside :class:`RetrievalReport`.

>>> normalize_text("ＡＢＣ 90 分钟")
'abc90分钟'
>>> recall_and_mrr([1, 2, None, 4], ks=(1, 5))
{'recall@1': 0.25, 'recall@5': 0.75, 'mrr': 0.4375}

Typical use (needs the models and an index):

>>> report = run_eval("eval/datasets/samples_qa.jsonl", out="eval/results")  # doctest: +SKIP
>>> print(report.to_markdown())  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import rag
from rag.config import Config
from rag.conversation import standalone_question
from rag.errors import ConfigError
from rag.schema import Article, Hit

try:  # optional: without tqdm the evaluation runs silently
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm is a declared dependency
    _tqdm = None

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
LEVELS: tuple[str, ...] = ("document", "evidence")

SearchFn = Callable[..., list[Hit]]


# --------------------------------------------------------------------------------------------------
# Dataset


@dataclass(frozen=True)
class Evidence:
    """Where an answer is written: a document, and a short quote from it ("" = any chunk of it)."""

    doc: str
    quote: str = ""

    def to_dict(self) -> dict:
        return {"doc": self.doc, "quote": self.quote}


@dataclass
class EvalItem:
    """One question of an evaluation dataset, as in the JSON Lines format of INTERFACES.md.

    >>> item = EvalItem(id="q1", question="会谈持续了多久？", answers=["90分钟"],
    ...                 evidence=[Evidence("000.txt", "持续了约90分钟")])
    >>> item.scored, item.evidence_docs
    (True, {'000.txt'})
    """

    id: str
    question: str
    answerable: bool = True
    answers: list[str] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)

    @property
    def evidence_docs(self) -> set[str]:
        return {ev.doc for ev in self.evidence}

    @property
    def scored(self) -> bool:
        """Whether the item counts for recall: answerable and with evidence to look for."""
        return self.answerable and bool(self.evidence)

    def to_dict(self) -> dict:
        """The item as one JSON Lines object (``history`` and ``key_facts`` only when present)."""
        d: dict[str, Any] = {"id": self.id, "question": self.question}
        if self.history:
            d["history"] = [list(pair) for pair in self.history]
        d["answerable"] = self.answerable
        d["answers"] = list(self.answers)
        if self.key_facts:
            d["key_facts"] = [list(group) for group in self.key_facts]
        d["evidence"] = [ev.to_dict() for ev in self.evidence]
        return d


@dataclass
class EvalDataset:
    """Questions, and for SQuAD-style data the corpus (one :class:`Article` per context) they are asked over.

    ``sha256`` is the hash of the file's bytes; it names the cache index built for ``articles``.
    """

    name: str
    format: str  # "jsonl" | "squad"
    items: list[EvalItem]
    articles: list[Article] = field(default_factory=list)
    path: Path | None = None
    sha256: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {
            "items": len(self.items),
            "answerable": sum(item.answerable for item in self.items),
            "unanswerable": sum(not item.answerable for item in self.items),
            "scored": sum(item.scored for item in self.items),
            "with_history": sum(bool(item.history) for item in self.items),
            "documents": len(self.articles),
        }


def load_dataset(path: str | Path) -> EvalDataset:
    """Read a JSON Lines or SQuAD-style JSON dataset; the format is told from the content.

    A malformed file raises :class:`~rag.errors.ConfigError` naming the line (JSON Lines, JSON syntax)
    or the place in the document (SQuAD structure) that is wrong.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp, "qa.jsonl")
    ...     _ = p.write_text('{"id": "q1", "question": "会谈在哪里？", "answers": ["日内瓦"], '
    ...                      '"evidence": [{"doc": "000.txt", "quote": "日内瓦"}]}\\n', encoding="utf-8")
    ...     ds = load_dataset(p)
    >>> ds.format, ds.name, ds.items[0].answers
    ('jsonl', 'qa', ['日内瓦'])
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"dataset {path} not found: give a .jsonl file of questions or a SQuAD-style .json")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not text.strip():
        raise ConfigError(f"{path}: the dataset file is empty")

    sha256 = hashlib.sha256(raw).hexdigest()
    name = path.stem
    if _looks_like_jsonl(text):
        return EvalDataset(
            name=name, format="jsonl", items=_parse_jsonl(text, path), path=path, sha256=sha256
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); expected JSON Lines "
            "(one question object a line) or SQuAD-style JSON"
        ) from exc
    if not (isinstance(doc, dict) and isinstance(doc.get("data"), list)):
        raise ConfigError(
            f"{path}: neither JSON Lines of questions nor SQuAD-style JSON (an object with a 'data' list)"
        )
    items, articles = _parse_squad(doc["data"], path)
    return EvalDataset(name=name, format="squad", items=items, articles=articles, path=path, sha256=sha256)


def _looks_like_jsonl(text: str) -> bool:
    """JSON Lines when the first non-blank line is on its own a JSON object that is not a SQuAD document."""
    first = next(line for line in text.splitlines() if line.strip())
    try:
        obj = json.loads(first)
    except json.JSONDecodeError:
        # A broken first line of a JSON Lines file, or the "{" of a pretty-printed JSON document.
        return first.strip() != "{" and first.lstrip().startswith("{") and _second_line_is_object(text)
    return not (isinstance(obj, dict) and "data" in obj)


def _second_line_is_object(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return True  # a single broken line: report it as JSON Lines line 1
    try:
        return isinstance(json.loads(lines[1]), dict)
    except json.JSONDecodeError:
        return False


def _parse_jsonl(text: str, path: Path) -> list[EvalItem]:
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: expected a JSON object with at least a 'question'")
        item = _item_from_dict(obj, where, default_id=f"line{lineno}")
        if item.id in seen:
            raise ConfigError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items


def _item_from_dict(obj: dict, where: str, default_id: str) -> EvalItem:
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f"{where}: 'question' must be a non-empty string")
    item_id = obj.get("id", default_id)
    if not isinstance(item_id, str | int) or isinstance(item_id, bool):
        raise ConfigError(f"{where}: 'id' must be a string")
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ConfigError(f"{where}: 'answerable' must be true or false, got {answerable!r}")
    answers = _string_list(obj.get("answers", []), where, "answers")
    key_facts_raw = obj.get("key_facts") or []
    if not isinstance(key_facts_raw, list):
        raise ConfigError(f"{where}: 'key_facts' must be a list of lists of strings")
    key_facts = [_string_list(group, where, "key_facts[]") for group in key_facts_raw]
    evidence = _evidence_list(obj.get("evidence", []), where)
    history = _history_list(obj.get("history") or [], where)
    if not answerable and (answers or evidence):
        raise ConfigError(
            f"{where}: an item with \"answerable\": false must have empty 'answers' and 'evidence'"
        )
    return EvalItem(
        id=str(item_id),
        question=question.strip(),
        answerable=answerable,
        answers=answers,
        key_facts=key_facts,
        evidence=evidence,
        history=history,
    )


def _string_list(value: object, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{name}' must be a list of strings, got {value!r}")
    return list(value)


def _evidence_list(value: object, where: str) -> list[Evidence]:
    if not isinstance(value, list):
        raise ConfigError(f'{where}: \'evidence\' must be a list of {{"doc": ..., "quote": ...}} objects')
    out = []
    for ev in value:
        if not (isinstance(ev, dict) and isinstance(ev.get("doc"), str) and ev["doc"].strip()):
            raise ConfigError(f"{where}: each evidence needs a 'doc' (the document's doc_id), got {ev!r}")
        quote = ev.get("quote", "")
        if not isinstance(quote, str):
            raise ConfigError(f"{where}: evidence 'quote' must be a string, got {quote!r}")
        out.append(Evidence(doc=ev["doc"].strip(), quote=quote))
    return out


def _history_list(value: object, where: str) -> list[tuple[str, str]]:
    ok = isinstance(value, list) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in value
    )
    if not ok:
        raise ConfigError(f"{where}: 'history' must be a list of [user_message, assistant_message] pairs")
    return [(user, assistant) for user, assistant in value]  # type: ignore[union-attr]


def _parse_squad(data: list, path: Path) -> tuple[list[EvalItem], list[Article]]:
    """Every context becomes an Article (doc_id = the paragraph's id), every question an item."""
    items: list[EvalItem] = []
    articles: list[Article] = []
    doc_ids: set[str] = set()
    item_ids: set[str] = set()
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("paragraphs"), list):
            raise ConfigError(f"{path}: data[{i}] must be an object with a 'paragraphs' list")
        title = entry.get("title") if isinstance(entry.get("title"), str) else None
        for j, para in enumerate(entry["paragraphs"]):
            where = f"{path}: data[{i}].paragraphs[{j}]"
            context = para.get("context") if isinstance(para, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise ConfigError(f"{where}: missing or empty 'context'")
            doc_id = _unique(str(para.get("id") or f"p{i}-{j}"), doc_ids)
            paragraphs = [line.strip() for line in context.splitlines() if line.strip()]
            articles.append(
                Article(doc_id=doc_id, title=title, date=None, source=None, paragraphs=paragraphs)
            )
            qas = para.get("qas", [])
            if not isinstance(qas, list):
                raise ConfigError(f"{where}: 'qas' must be a list")
            for q, qa in enumerate(qas):
                items.append(_squad_item(qa, f"{where}.qas[{q}]", doc_id, f"{doc_id}-q{q}", item_ids))
    return items, articles


def _squad_item(qa: object, where: str, doc_id: str, default_id: str, seen: set[str]) -> EvalItem:
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not qa["question"].strip():
        raise ConfigError(f"{where}: each question needs a non-empty 'question'")
    answers_raw = qa.get("answers", [])
    if not isinstance(answers_raw, list) or not all(isinstance(a, dict) for a in answers_raw):
        raise ConfigError(f"{where}: 'answers' must be a list of {{\"text\": ...}} objects")
    # Several annotators often give the same span: keep each text once, in order.
    texts = [a["text"].strip() for a in answers_raw if isinstance(a.get("text"), str) and a["text"].strip()]
    texts = list(dict.fromkeys(texts))
    item_id = _unique(str(qa.get("id") or default_id), seen)
    if qa.get("is_impossible"):  # SQuAD 2.0: the right behaviour is to abstain
        return EvalItem(id=item_id, question=qa["question"].strip(), answerable=False)
    # Without answer texts the item can still be scored at document level: "" matches any chunk of the doc.
    evidence = [Evidence(doc_id, t) for t in texts] or [Evidence(doc_id, "")]
    return EvalItem(id=item_id, question=qa["question"].strip(), answers=texts, evidence=evidence)


def _unique(name: str, seen: set[str]) -> str:
    """`name`, or `name#2`, `name#3`... when taken: doc_ids and item ids must not collide."""
    candidate, n = name, 1
    while candidate in seen:
        n += 1
        candidate = f"{name}#{n}"
    seen.add(candidate)
    return candidate


# --------------------------------------------------------------------------------------------------
# Matching and metrics (pure functions)


def normalize_text(text: str) -> str:
    """Fold width (NFKC) and case, and drop all white space, so quotes match however a chunk was cleaned.

    White space is dropped rather than collapsed because Chinese has no word spaces and cleaners differ
    in the spaces they keep (``"于 2 月"`` vs ``"于2月"``).

    >>> normalize_text("  Geneva，ＮＡＴＯ\\n 北约 ")
    'geneva,nato北约'
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def doc_matches(doc_id: str, evidence_doc: str) -> bool:
    """A hit's doc_id matches an evidence doc when equal, or when the evidence names the file below a folder.

    >>> doc_matches("news/000.txt", "000.txt"), doc_matches("000.txt", "001.txt")
    (True, False)
    """
    return doc_id == evidence_doc or doc_id.endswith("/" + evidence_doc)


def first_relevant_rank(hits: Sequence[Hit], item: EvalItem, level: str) -> int | None:
    """1-based rank of the first hit that is relevant to `item` at `level`, or None.

    ``document``: the hit is from an evidence doc; ``evidence``: it is, and contains that evidence's quote.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; valid: {list(LEVELS)}")
    quotes = [(ev.doc, normalize_text(ev.quote)) for ev in item.evidence]
    for rank, hit in enumerate(hits, start=1):
        matching = [quote for doc, quote in quotes if doc_matches(hit.doc_id, doc)]
        if not matching:
            continue
        if level == "document":
            return rank
        text = normalize_text(hit.text)
        if any(quote in text for quote in matching):
            return rank
    return None


def recall_and_mrr(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, float | None]:
    """Recall@k for each k and MRR, from each question's first relevant rank (1-based; None = not found).

    recall@k = |{q : rank_q <= k}| / n;  MRR = (1/n) * sum_q 1/rank_q, where a miss adds 0.
    With no questions every value is None (not 0: there is nothing to measure).

    >>> recall_and_mrr([1, 3, None], ks=(1, 3))
    {'recall@1': 0.3333333333333333, 'recall@3': 0.6666666666666666, 'mrr': 0.4444444444444444}
    >>> recall_and_mrr([], ks=(1,))
    {'recall@1': None, 'mrr': None}
    """
    n = len(ranks)
    out: dict[str, float | None] = {}
    for k in ks:
        out[f"recall@{k}"] = sum(r is not None and r <= k for r in ranks) / n if n else None
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n if n else None
    return out


def latency_summary(ms: Sequence[float]) -> dict[str, float | None]:
    """p50, p95 and mean of latencies in milliseconds (linear-interpolated percentiles).

    >>> latency_summary([10.0, 20.0, 30.0, 40.0, 50.0])
    {'p50': 30.0, 'p95': 48.0, 'mean': 30.0}
    """
    if not ms:
        return {"p50": None, "p95": None, "mean": None}
    arr = np.asarray(ms, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "mean": round(float(arr.mean()), 3),
    }


# --------------------------------------------------------------------------------------------------
# Report


@dataclass
class ModeResult:
    """Metrics of one search mode: ``document`` / ``evidence`` map ``recall@k`` and ``mrr`` to a value."""

    mode: str
    document: dict[str, float | None]
    evidence: dict[str, float | None]
    latency_ms: dict[str, float | None]
    searched: int

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "document": self.document,
            "evidence": self.evidence,
            "latency_ms": self.latency_ms,
            "searched": self.searched,
        }


@dataclass
class ItemResult:
    """One question's outcome per mode: first relevant rank at each level, latency and top doc_ids."""

    id: str
    scored: bool
    ranks: dict[str, dict[str, int | None]] = field(default_factory=dict)  # mode -> level -> rank
    latency_ms: dict[str, float] = field(default_factory=dict)  # mode -> ms
    top_docs: dict[str, list[str]] = field(default_factory=dict)  # mode -> doc_ids, best first

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "scored": self.scored,
            "ranks": self.ranks,
            "latency_ms": self.latency_ms,
            "top_docs": self.top_docs,
        }


@dataclass
class RetrievalReport:
    """What :func:`evaluate_retrieval` measured; ``to_markdown()`` is what ``rag eval`` prints."""

    dataset: str
    dataset_format: str
    index: str
    ks: tuple[int, ...]
    modes: dict[str, ModeResult]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    items: list[ItemResult] = field(default_factory=list)
    dataset_path: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "dataset_path": self.dataset_path,
            "dataset_format": self.dataset_format,
            "index": self.index,
            "ks": list(self.ks),
            "counts": self.counts,
            "modes": {name: result.to_dict() for name, result in self.modes.items()},
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "items": [item.to_dict() for item in self.items],
        }

    def to_markdown(self) -> str:
        """A table with one row per mode: recall@k and MRR at both levels, then latency."""
        c = self.counts
        lines = [
            f"## Retrieval: {self.dataset}",
            "",
            f"{c['items']} questions ({c['scored']} scored, {c['unanswerable']} unanswerable, "
            f"{c['with_history']} follow-ups); index `{self.index}`",
            "",
        ]
        metric_names = [f"R@{k}" for k in self.ks] + ["MRR"]
        metric_keys = [f"recall@{k}" for k in self.ks] + ["mrr"]
        header = ["mode"]
        header += [f"doc {m}" for m in metric_names] + [f"evid {m}" for m in metric_names]
        header += ["p50 ms", "p95 ms"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|---" + "|---:" * (len(header) - 1) + "|")
        for name, result in self.modes.items():
            row = [name]
            row += [_fmt(result.document.get(key)) for key in metric_keys]
            row += [_fmt(result.evidence.get(key)) for key in metric_keys]
            row += [_fmt(result.latency_ms.get("p50"), 1), _fmt(result.latency_ms.get("p95"), 1)]
            lines.append("| " + " | ".join(row) + " |")
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


# --------------------------------------------------------------------------------------------------
# Running


def evaluate_retrieval(
    dataset: EvalDataset | str | Path,
    index: Any = None,
    modes: Sequence[str] = MODES,
    ks: Sequence[int] = DEFAULT_KS,
    progress: bool | None = None,
    *,
    search: SearchFn | None = None,
) -> RetrievalReport:
    """Search every question of `dataset` in each mode and score the rankings.

    `index` is a folder or an opened index (a folder is opened once, so models load once); None is the
    default index. `search` defaults to :func:`rag.search`; pass any function with its signature
    (``search(query, index=..., k=..., mode=...) -> list[Hit]``) to evaluate something else.

    >>> from rag.schema import Hit
    >>> ds = EvalDataset("toy", "jsonl", [EvalItem("q1", "where?", evidence=[Evidence("a.txt", "Geneva")])])
    >>> def fake(query, index=None, k=5, mode="hybrid"):
    ...     return [Hit("b#0", "b.txt", None, None, None, "Moscow", 1.0),
    ...             Hit("a#0", "a.txt", None, None, None, "in Geneva", 0.5)]
    >>> report = evaluate_retrieval(ds, "unused", modes=["bm25"], ks=(1, 5), progress=False, search=fake)
    >>> report.modes["bm25"].document
    {'recall@1': 0.0, 'recall@5': 1.0, 'mrr': 0.5}
    """
    started = time.perf_counter()
    ds = dataset if isinstance(dataset, EvalDataset) else load_dataset(dataset)
    modes = _check_modes(modes)
    ks = _check_ks(ks)
    depth = max(ks)
    if search is None:
        search = rag.search
        if index is None or isinstance(index, str | os.PathLike):
            index = rag.open_index(index)

    results = {item.id: ItemResult(id=item.id, scored=item.scored) for item in ds.items}
    mode_results: dict[str, ModeResult] = {}
    bar = _progress_bar(len(modes) * len(ds.items), progress, desc="eval")
    try:
        for mode in modes:
            if ds.items:
                # Untimed warm-up: the first query may load models or page in the index.
                search(ds.items[0].question, index=index, k=depth, mode=mode)
            latencies: list[float] = []
            ranks: dict[str, list[int | None]] = {level: [] for level in LEVELS}
            bar.set_description(f"eval {mode}")
            for item in ds.items:
                t0 = time.perf_counter()
                hits = search(standalone_question(item.question, item.history), index=index, k=depth, mode=mode)
                ms = (time.perf_counter() - t0) * 1000.0
                latencies.append(ms)
                result = results[item.id]
                result.latency_ms[mode] = round(ms, 3)
                result.top_docs[mode] = [hit.doc_id for hit in hits[:depth]]
                if item.scored:
                    result.ranks[mode] = {}
                    for level in LEVELS:
                        rank = first_relevant_rank(hits[:depth], item, level)
                        result.ranks[mode][level] = rank
                        ranks[level].append(rank)
                bar.update(1)
            mode_results[mode] = ModeResult(
                mode=mode,
                document=recall_and_mrr(ranks["document"], ks),
                evidence=recall_and_mrr(ranks["evidence"], ks),
                latency_ms=latency_summary(latencies),
                searched=len(latencies),
            )
    finally:
        bar.close()

    return RetrievalReport(
        dataset=ds.name,
        dataset_path=str(ds.path) if ds.path else None,
        dataset_format=ds.format,
        index=_index_label(index),
        ks=ks,
        modes=mode_results,
        counts=ds.counts,
        notes=_notes(ds, depth),
        items=list(results.values()),
        seconds=time.perf_counter() - started,
    )


def run_eval(
    dataset_path: str | Path,
    index: Any = None,
    corpus: str | Path | None = None,
    out: str | Path | None = None,
    modes: Sequence[str] = MODES,
    ks: Sequence[int] = DEFAULT_KS,
    progress: bool | None = None,
    config: Config | None = None,
) -> RetrievalReport:
    """What ``rag eval DATASET [--index DIR | --corpus DIR] [--out DIR]`` does.

    The index searched is, in order: `index` when given; else `corpus` ingested into a cache index
    ``<home>/indexes/eval-corpus-<folder>-<hash of its path>``; else, for SQuAD-style data, its contexts
    ingested into ``<home>/indexes/eval-<dataset name>-<hash of the file>``; else the default index
    (the bundled sample articles). Cache indexes are reused: ingest is incremental. With `out`, the
    report is also written there (see :func:`write_report`).

    >>> report = run_eval("eval/datasets/samples_qa.jsonl", modes=["hybrid"])  # doctest: +SKIP
    >>> report.modes["hybrid"].document["recall@5"]  # doctest: +SKIP
    1.0
    """
    cfg = config or Config.load()
    if index is not None and corpus is not None:
        raise ConfigError("give either an index (--index) or a corpus folder (--corpus), not both")
    ds = load_dataset(dataset_path)
    modes = _check_modes(modes)
    ks = _check_ks(ks)

    ingest_notes: list[str] = []
    if index is None and corpus is not None:
        folder = Path(corpus)
        if not folder.is_dir():
            raise ConfigError(f"corpus folder {folder} not found")
        index = cfg.home / "indexes" / f"eval-corpus-{_slug(folder.resolve().name)}-{_short_hash(folder)}"
        ingest_notes = _ingest_notes(rag.ingest([folder], index=index, config=cfg, progress=progress))
    elif index is None and ds.articles:
        index = cfg.home / "indexes" / f"eval-{_slug(ds.name)}-{ds.sha256[:12]}"
        ingest_notes = _ingest_notes(rag.ingest_articles(ds.articles, index, config=cfg, progress=progress))

    opened = (
        rag.open_index(index, config=cfg) if index is None or isinstance(index, str | os.PathLike) else index
    )
    report = evaluate_retrieval(ds, opened, modes=modes, ks=ks, progress=progress)
    if index is not None and isinstance(index, str | os.PathLike):
        report.index = str(index)
    report.notes[:0] = ingest_notes
    if out is not None:
        write_report(report, out)
    return report


def write_report(report: RetrievalReport, out_dir: str | Path) -> list[Path]:
    """Write ``retrieval.json``, ``retrieval.md`` and the bar plot ``retrieval.png``; return the paths.

    The plot needs matplotlib; without it the Markdown says so and the rest is written.

    >>> import tempfile
    >>> r = RetrievalReport("toy", "jsonl", "idx", (1,), {}, {"items": 0, "scored": 0, "unanswerable": 0,
    ...                     "with_history": 0})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(p.name for p in write_report(r, tmp))
    ['retrieval.json', 'retrieval.md', 'retrieval.png']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    markdown = report.to_markdown()
    png = out / "retrieval.png"
    try:
        _plot_recall(report, png)
        written.append(png)
        markdown += f"\n![recall@k per mode]({png.name})\n"
    except ImportError:
        log.warning("matplotlib is not installed: skipping %s", png)
        markdown += "\n_Plot skipped: matplotlib is not installed (`pip install matplotlib`)._\n"
    json_path = out / "retrieval.json"
    json_path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md_path = out / "retrieval.md"
    md_path.write_text(markdown, encoding="utf-8")
    return [json_path, md_path, *written]


def _plot_recall(report: RetrievalReport, path: Path) -> None:
    """Grouped bars of recall@k per mode, one panel per level; Agg canvas, so no display is needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(LEVELS), sharey=True)
    modes = list(report.modes)
    width = 0.8 / max(len(modes), 1)
    x = np.arange(len(report.ks), dtype=np.float64)
    for ax, level in zip(axes, LEVELS, strict=True):
        for m, mode in enumerate(modes):
            values = [getattr(report.modes[mode], level).get(f"recall@{k}") for k in report.ks]
            heights = [v if v is not None else 0.0 for v in values]
            bars = ax.bar(x + (m - (len(modes) - 1) / 2) * width, heights, width, label=mode)
            ax.bar_label(bars, labels=[_fmt(v, 2) for v in values], fontsize=7)
        ax.set_xticks(x, [f"recall@{k}" for k in report.ks])
        ax.set_ylim(0, 1.08)
        ax.set_title(f"{level} level")
    axes[0].set_ylabel("recall")
    if modes:  # below the panels, where it cannot hide a bar
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(modes))
    fig.suptitle(f"{report.dataset}: {report.counts.get('scored', 0)} scored questions")
    fig.savefig(path, dpi=120)


def _check_modes(modes: Iterable[str]) -> list[str]:
    modes = list(
        dict.fromkeys(str(m).strip().lower() for m in ([modes] if isinstance(modes, str) else modes))
    )
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        what = f"unknown search mode(s) {', '.join(bad)}" if bad else "no search mode given"
        raise ConfigError(f"{what}; valid: {', '.join(MODES)}")
    return modes


def _check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    try:
        values = sorted({int(k) for k in ks})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"k values must be whole numbers, got {ks!r}") from exc
    if not values or values[0] <= 0:
        raise ConfigError(f"k values must be >= 1, got {ks!r}")
    return tuple(values)


def _notes(ds: EvalDataset, depth: int) -> list[str]:
    counts = ds.counts
    notes = [
        f"Recall and MRR count the {counts['scored']} answerable questions with evidence; every question is "
        f"searched and timed. MRR looks at the top {depth}; latency excludes one warm-up query per mode.",
    ]
    if counts["answerable"] > counts["scored"]:
        notes.append(
            f"{counts['answerable'] - counts['scored']} answerable question(s) have no evidence and are "
            "not scored."
        )
    if counts["with_history"]:
        notes.append(
            f"{counts['with_history']} follow-up question(s) were searched with the previous question (and its "
            "answer) prepended (standalone_question without a model)."
        )
    return notes


def _ingest_notes(report: Any) -> list[str]:
    failed = list(getattr(report, "failed", []) or [])
    if not failed:
        return []
    shown = "; ".join(f"{f.path}: {f.reason}" for f in failed[:3])
    more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
    log.warning("%d file(s) could not be ingested: %s%s", len(failed), shown, more)
    return [f"{len(failed)} file(s) could not be ingested and are missing from the index: {shown}{more}"]


def _index_label(index: Any) -> str:
    if isinstance(index, str | os.PathLike):
        return str(index)
    for attr in ("path", "root", "directory", "dir"):
        value = getattr(index, attr, None)
        if isinstance(value, str | os.PathLike):
            return str(value)
    return "default" if index is None else type(index).__name__


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-") or "dataset"


def _short_hash(folder: Path) -> str:
    return hashlib.sha256(str(folder.resolve()).encode("utf-8")).hexdigest()[:12]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, desc: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    """A tqdm bar on stderr; none when `progress` is False, or when None and stderr is not a terminal."""
    enabled = sys.stderr.isatty() if progress is None else progress
    if not enabled or _tqdm is None:
        return _NoProgress()
    return _tqdm(total=total, desc=desc, unit="q", file=sys.stderr, leave=False)
