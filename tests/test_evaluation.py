"""Tests of rag/evaluation.py: dataset loading, metric arithmetic, reports, and the samples QA set."""

from __future__ import annotations

import doctest
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

import rag
import rag.evaluation as evaluation
from rag.config import Config
from rag.errors import ConfigError
from rag.evaluation import (
    EvalDataset,
    EvalItem,
    Evidence,
    evaluate_retrieval,
    first_relevant_rank,
    load_dataset,
    normalize_text,
    recall_and_mrr,
    run_eval,
    write_report,
)
from rag.schema import Article, Hit, IngestReport

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_QA = ROOT / "eval" / "datasets" / "samples_qa.jsonl"
ARTICLES = ROOT / "rag" / "data" / "articles"


def _hit(doc_id: str, text: str, n: int = 0) -> Hit:
    return Hit(
        chunk_id=f"{doc_id}#{n}", doc_id=doc_id, title=None, date=None, source=None, text=text, score=1.0
    )


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


SQUAD = {
    "version": "v1.0",
    "data": [
        {
            "title": "日内瓦",
            "paragraphs": [
                {
                    "id": "DEV_0",
                    "context": "美俄外长在日内瓦举行会谈，会谈持续了约90分钟。",
                    "qas": [
                        {
                            "id": "DEV_0_QUERY_0",
                            "question": "会谈持续了多久？",
                            "answers": [
                                {"text": "约90分钟", "answer_start": 16},
                                {"text": "约90分钟", "answer_start": 16},
                                {"text": "90分钟", "answer_start": 17},
                            ],
                        }
                    ],
                },
                {
                    "id": "DEV_1",
                    "context": "王毅同拉夫罗夫通电话。\n双方进行了战略沟通。",
                    "qas": [
                        {"id": "DEV_1_QUERY_0", "question": "谁和谁通电话？", "answers": [{"text": "王毅"}]},
                        {
                            "id": "DEV_1_QUERY_1",
                            "question": "通话多久？",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                },
            ],
        },
        {"title": "莫斯科", "paragraphs": [{"id": "DEV_2", "context": "会谈在莫斯科举行。", "qas": []}]},
    ],
}


# ---------------------------------------------------------------------------------------------- loading


def test_load_jsonl(tmp_path):
    path = _write_jsonl(
        tmp_path / "qa.jsonl",
        [
            {
                "id": "q1",
                "question": " 美俄外长在哪里会谈？ ",
                "answers": ["日内瓦", "Geneva"],
                "key_facts": [["90分钟", "90 minutes"]],
                "evidence": [{"doc": "000.txt", "quote": "日内瓦"}],
            },
            "",
            {
                "id": "q2",
                "question": "How long did it last?",
                "history": [["Where?", "Geneva [1]."]],
                "answers": ["90"],
                "evidence": [{"doc": "000.txt"}],
            },
            {
                "id": "q3",
                "question": "下一次会谈在哪里？",
                "answerable": False,
                "answers": [],
                "evidence": [],
            },
        ],
    )
    ds = load_dataset(path)
    assert (ds.format, ds.name, len(ds.items), ds.articles) == ("jsonl", "qa", 3, [])
    q1, q2, q3 = ds.items
    assert q1.question == "美俄外长在哪里会谈？"
    assert q1.key_facts == [["90分钟", "90 minutes"]]
    assert q1.evidence == [Evidence("000.txt", "日内瓦")]
    assert q2.history == [("Where?", "Geneva [1].")] and q2.evidence == [Evidence("000.txt", "")]
    assert q3.answerable is False and not q3.scored
    assert ds.counts == {
        "items": 3, "answerable": 2, "unanswerable": 1, "scored": 2, "with_history": 1, "documents": 0,
    }  # fmt: skip
    assert len(ds.sha256) == 64
    assert EvalItem(**{**q1.__dict__}).to_dict()["evidence"] == [{"doc": "000.txt", "quote": "日内瓦"}]


def test_load_jsonl_defaults_id_from_line(tmp_path):
    ds = load_dataset(_write_jsonl(tmp_path / "d.jsonl", [{"question": "a?"}, {"question": "b?"}]))
    assert [item.id for item in ds.items] == ["line1", "line2"]
    assert ds.items[0].answerable and not ds.items[0].scored


@pytest.mark.parametrize("indent", [None, 2])
def test_load_squad(tmp_path, indent):
    path = tmp_path / "cmrc_dev.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False, indent=indent), encoding="utf-8")
    ds = load_dataset(path)
    assert ds.format == "squad" and ds.name == "cmrc_dev"
    assert [a.doc_id for a in ds.articles] == ["DEV_0", "DEV_1", "DEV_2"]
    assert [a.title for a in ds.articles] == ["日内瓦", "日内瓦", "莫斯科"]
    assert ds.articles[1].paragraphs == ["王毅同拉夫罗夫通电话。", "双方进行了战略沟通。"]
    assert all(isinstance(a, Article) and a.date is None for a in ds.articles)
    first, second, impossible = ds.items
    assert first.id == "DEV_0_QUERY_0"
    assert first.answers == ["约90分钟", "90分钟"]  # duplicates dropped, order kept
    assert first.evidence == [Evidence("DEV_0", "约90分钟"), Evidence("DEV_0", "90分钟")]
    assert second.evidence == [Evidence("DEV_1", "王毅")]
    assert impossible.answerable is False and impossible.evidence == [] and impossible.answers == []
    assert ds.counts["documents"] == 3 and ds.counts["scored"] == 2


def test_load_squad_without_paragraph_ids(tmp_path):
    data = {
        "data": [{"title": "t", "paragraphs": [{"context": "c1", "qas": [{"question": "q", "answers": []}]}]}]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    ds = load_dataset(path)
    assert ds.articles[0].doc_id == "p0-0"
    # no answer texts: still scored at document level, where "" matches any chunk of the doc
    assert ds.items[0].id == "p0-0-q0" and ds.items[0].evidence == [Evidence("p0-0", "")]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "q1", "question": "a"}', '{"id": "q2", "question": "b"', '{"id": "q3", "question": "c"}'],
         r"line 2: not valid JSON"),
        (['{"id": "q1", "question": "a"', '{"id": "q2", "question": "b"}'], r"line 1: not valid JSON"),
        (['{"id": "q1", "question": "a"}', '{"id": "q2"}'], r"line 2: 'question' must be"),
        (['{"id": "q1", "question": "a"}', "", '["not", "an", "object"]'], r"line 3: expected a JSON object"),
        (['{"id": "q1", "question": "a"}', '{"id": "q1", "question": "b"}'], r"line 2: duplicate id 'q1'"),
        (['{"question": "a", "answerable": false, "answers": ["x"]}'], r"line 1: .*must have empty"),
        (['{"question": "a", "answerable": "yes"}'], r"line 1: 'answerable' must be true or false"),
        (['{"question": "a", "answers": "日内瓦"}'], r"line 1: 'answers' must be a list of strings"),
        (['{"question": "a", "evidence": [{"quote": "x"}]}'], r"line 1: each evidence needs a 'doc'"),
        (['{"question": "a", "history": [["only one"]]}'], r"line 1: 'history' must be a list of"),
        (['{"question": "a", "key_facts": ["90分钟"]}'], r"line 1: 'key_facts\[\]' must be a list"),
    ],
)  # fmt: skip
def test_malformed_jsonl_names_the_line(tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_dataset(path)


def test_malformed_json_document_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "data": [\n    {"title": "t",, "paragraphs": []}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json, line 3: not valid JSON"):
        load_dataset(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("  \n\n", "empty"),
        ('{\n "version": 1\n}', "neither JSON Lines of questions nor SQuAD-style JSON"),
        ('{"data": [{"title": "t", "paragraphs": [{"id": "a", "context": "c"}, {"id": "b", "qas": []}]}]}',
         r"data\[0\]\.paragraphs\[1\]: missing or empty 'context'"),
        ('{"data": [{"title": "t"}]}', r"data\[0\] must be an object with a 'paragraphs' list"),
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"question": ""}]}]}]}',
         r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: each question needs"),
    ],
)  # fmt: skip
def test_malformed_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_dataset(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_dataset(tmp_path / "nope.jsonl")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_dataset(binary)


# ---------------------------------------------------------------------------------------------- metrics


def test_recall_and_mrr_arithmetic():
    # ranks of the first relevant hit for five questions: 1, 2, 4, 7 and a miss
    metrics = recall_and_mrr([1, 2, 4, 7, None], ks=(1, 5, 10))
    assert metrics["recall@1"] == pytest.approx(1 / 5)
    assert metrics["recall@5"] == pytest.approx(3 / 5)
    assert metrics["recall@10"] == pytest.approx(4 / 5)
    assert metrics["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 7 + 0) / 5)
    assert recall_and_mrr([None, None], ks=(1,)) == {"recall@1": 0.0, "mrr": 0.0}
    assert recall_and_mrr([], ks=(1, 5)) == {"recall@1": None, "recall@5": None, "mrr": None}


def test_normalize_text_width_case_and_space():
    assert normalize_text("ＮＡＴＯ　和 北约\n") == normalize_text("nato和北约")
    assert normalize_text("持续了约９０分钟") == "持续了约90分钟"
    assert normalize_text("于 2 月") == normalize_text("于2月")


def test_first_relevant_rank_levels():
    item = EvalItem("q", "多久？", evidence=[Evidence("000.txt", "持续了约 90 分钟")])
    hits = [
        _hit("001.txt", "持续了约90分钟"),  # quote, but wrong document
        _hit("000.txt", "美俄外长在日内瓦举行会谈"),  # right document, no quote
        _hit("000.txt", "会谈持续了约９０分钟。", 1),  # right document and quote (full-width digits)
    ]
    assert first_relevant_rank(hits, item, "document") == 2
    assert first_relevant_rank(hits, item, "evidence") == 3
    assert first_relevant_rank(hits[:2], item, "evidence") is None
    # a doc_id under an ingested folder matches evidence naming just the file
    assert first_relevant_rank([_hit("news/000.txt", "x")], item, "document") == 1
    with pytest.raises(ValueError, match="unknown level"):
        first_relevant_rank(hits, item, "paragraph")


def _toy_dataset() -> EvalDataset:
    items = [
        EvalItem("a", "alpha?", answers=["A"], evidence=[Evidence("a.txt", "alpha fact")]),
        EvalItem("b", "beta?", answers=["B"], evidence=[Evidence("b.txt", "beta fact")]),
        EvalItem(
            "c", "gamma?", answers=["C"], evidence=[Evidence("c.txt", "gamma fact")], history=[("x", "y")]
        ),
        EvalItem("u", "unknowable?", answerable=False),
    ]
    return EvalDataset(name="toy", format="jsonl", items=items)


# Hand-built rankings: per mode and question, the (doc_id, text) hits best first.
RANKINGS = {
    "hybrid": {
        "alpha?": [("a.txt", "alpha fact here"), ("b.txt", "x")],  # doc 1, evidence 1
        "beta?": [("a.txt", "x"), ("b.txt", "other"), ("b.txt", "the beta fact")],  # doc 2, evidence 3
        "gamma?": [("a.txt", "x")] * 10 + [("c.txt", "gamma fact")],  # beyond k=10: miss
        "unknowable?": [("a.txt", "x")],
    },
    "bm25": {
        "alpha?": [("b.txt", "x")] * 4 + [("a.txt", "alpha fact")],  # rank 5
        "beta?": [],
        "gamma?": [("c.txt", "GAMMA  FACT")],  # rank 1 after normalising case and spaces
        "unknowable?": [],
    },
}


def _fake_search(calls: list):
    def search(query, index=None, k=5, mode="hybrid"):
        calls.append((query, index, k, mode))
        question = query.rsplit(" ", 1)[-1]  # a follow-up is searched with the previous question prepended
        return [_hit(doc, text, n) for n, (doc, text) in enumerate(RANKINGS[mode][question])][:k]

    return search


def test_evaluate_retrieval_on_fake_rankings():
    calls: list = []
    report = evaluate_retrieval(
        _toy_dataset(),
        "IDX",
        modes=("hybrid", "bm25"),
        ks=(10, 1, 5),
        progress=False,
        search=_fake_search(calls),
    )
    assert report.ks == (1, 5, 10)
    hybrid, bm25 = report.modes["hybrid"], report.modes["bm25"]
    assert hybrid.document == pytest.approx({"recall@1": 1 / 3, "recall@5": 2 / 3, "recall@10": 2 / 3,
                                             "mrr": (1 + 1 / 2) / 3})  # fmt: skip
    assert hybrid.evidence == pytest.approx({"recall@1": 1 / 3, "recall@5": 2 / 3, "recall@10": 2 / 3,
                                             "mrr": (1 + 1 / 3) / 3})  # fmt: skip
    assert bm25.document == pytest.approx({"recall@1": 1 / 3, "recall@5": 2 / 3, "recall@10": 2 / 3,
                                           "mrr": (1 / 5 + 1) / 3})  # fmt: skip
    # every item is searched (the unanswerable one too), plus one untimed warm-up per mode
    assert hybrid.searched == 4 and len(calls) == 2 * (4 + 1)
    assert all(index == "IDX" and k == 10 for _, index, k, _ in calls)
    assert set(hybrid.latency_ms) == {"p50", "p95", "mean"} and hybrid.latency_ms["p95"] >= 0
    by_id = {r.id: r for r in report.items}
    assert by_id["b"].ranks["hybrid"] == {"document": 2, "evidence": 3}
    assert by_id["u"].ranks == {} and not by_id["u"].scored and "hybrid" in by_id["u"].latency_ms
    assert by_id["c"].top_docs["hybrid"] == ["a.txt"] * 10
    assert report.counts["scored"] == 3 and report.counts["with_history"] == 1
    assert any("follow-up" in note and "previous question (and its answer) prepended" in note for note in report.notes)


def test_evaluate_retrieval_rejects_bad_modes_and_ks():
    with pytest.raises(ConfigError, match="unknown search mode.*sparse.*valid: hybrid, dense, bm25"):
        evaluate_retrieval(_toy_dataset(), "IDX", modes=("sparse",), search=_fake_search([]))
    with pytest.raises(ConfigError, match="k values must be >= 1"):
        evaluate_retrieval(_toy_dataset(), "IDX", ks=(0, 5), search=_fake_search([]))


def test_report_markdown_json_and_plot(tmp_path):
    report = evaluate_retrieval(
        _toy_dataset(), "IDX", modes=("hybrid", "bm25"), progress=False, search=_fake_search([])
    )
    md = report.to_markdown()
    assert "| mode | doc R@1 | doc R@5 | doc R@10 | doc MRR | evid R@1" in md
    assert re.search(r"\| hybrid \| 0\.333 \| 0\.667 \| 0\.667 \| 0\.500 \|", md)
    assert "p95 ms" in md and "3 scored, 1 unanswerable, 1 follow-ups" in md
    paths = write_report(report, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["retrieval.json", "retrieval.md", "retrieval.png"]
    data = json.loads((tmp_path / "out" / "retrieval.json").read_text(encoding="utf-8"))
    assert data["modes"]["bm25"]["document"]["recall@5"] == pytest.approx(2 / 3)
    assert data["counts"]["items"] == 4 and len(data["items"]) == 4
    assert (tmp_path / "out" / "retrieval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "retrieval.png" in (tmp_path / "out" / "retrieval.md").read_text(encoding="utf-8")


def test_report_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)  # import raises ImportError
    report = evaluate_retrieval(
        _toy_dataset(), "IDX", modes=("bm25",), progress=False, search=_fake_search([])
    )
    paths = write_report(report, tmp_path)
    assert sorted(p.name for p in paths) == ["retrieval.json", "retrieval.md"]
    assert "matplotlib is not installed" in (tmp_path / "retrieval.md").read_text(encoding="utf-8")


def test_run_eval_builds_and_reuses_a_cache_index_for_squad(tmp_path, monkeypatch):
    dataset = tmp_path / "cmrc_dev.json"
    dataset.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    ingested: list = []

    def ingest_articles(articles, index, config=None, progress=None):
        ingested.append((index, articles))
        return IngestReport()

    monkeypatch.setattr(rag, "ingest_articles", ingest_articles)
    monkeypatch.setattr(rag, "open_index", lambda index=None, config=None: ("opened", str(index)))

    def search(query, index=None, k=5, mode="hybrid"):
        return [_hit("DEV_0", "会谈持续了约90分钟。"), _hit("DEV_1", "王毅同拉夫罗夫通电话。")]

    monkeypatch.setattr(rag, "search", search)
    config = Config.load(home=tmp_path / "home")
    report = run_eval(dataset, modes=["bm25"], out=tmp_path / "out", progress=False, config=config)
    run_eval(dataset, modes=["bm25"], progress=False, config=config)
    (index_one, articles), (index_two, _) = ingested
    assert index_one == index_two  # the same cache index both times
    assert index_one.parent == tmp_path / "home" / "indexes"
    assert re.fullmatch(r"eval-cmrc_dev-[0-9a-f]{12}", index_one.name)
    assert [a.doc_id for a in articles] == ["DEV_0", "DEV_1", "DEV_2"]
    assert report.index == str(index_one)
    assert report.modes["bm25"].document == {"recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "mrr": 0.75}
    assert report.modes["bm25"].evidence == {"recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "mrr": 0.75}
    assert (tmp_path / "out" / "retrieval.md").is_file()


def test_run_eval_usage_errors(tmp_path):
    config = Config.load(home=tmp_path)
    with pytest.raises(ConfigError, match="not both"):
        run_eval(SAMPLES_QA, index=tmp_path / "i", corpus=ARTICLES, config=config)
    with pytest.raises(ConfigError, match="corpus folder .* not found"):
        run_eval(SAMPLES_QA, corpus=tmp_path / "missing", config=config)


def test_doctests():
    result = doctest.testmod(evaluation, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# ---------------------------------------------------------------------------------------------- samples QA


def _body_text(doc: str) -> str:
    return re.sub(r"\s+", "", (ARTICLES / doc).read_text(encoding="utf-8"))


def test_samples_qa_quotes_occur_in_their_articles():
    items = [json.loads(line) for line in SAMPLES_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [
        (item["id"], ev["doc"], ev["quote"])
        for item in items
        for ev in item["evidence"]
        if not (ARTICLES / ev["doc"]).is_file()
        or re.sub(r"\s+", "", ev["quote"]) not in _body_text(ev["doc"])
    ]
    assert not missing, f"evidence quotes not found verbatim in their article: {missing}"
    assert all(ev["quote"].strip() for item in items for ev in item["evidence"])


def test_samples_qa_composition():
    ds = load_dataset(SAMPLES_QA)
    assert ds.format == "jsonl" and len(ds.items) >= 48
    per_doc = Counter(ev.doc for item in ds.items for ev in item.evidence[:1])
    assert set(per_doc) == {p.name for p in ARTICLES.glob("*.txt")}
    assert min(per_doc.values()) >= 6, per_doc
    assert ds.counts["unanswerable"] >= 8
    assert ds.counts["with_history"] >= 6
    english = sum(not re.search(r"[\u4e00-\u9fff]", item.question) for item in ds.items)
    assert 0.35 <= english / len(ds.items) <= 0.65
    for item in ds.items:
        assert item.answerable == bool(item.answers) == bool(item.evidence), item.id


# ---------------------------------------------------------------------------------------------- integration


@pytest.mark.slow
def test_run_eval_on_samples_qa(tmp_path):
    """The real models and a fresh index of the sample articles: hybrid finds the right document."""
    if not hasattr(rag, "search"):
        pytest.skip("rag.search is not available")
    index = tmp_path / "index"
    ingest_report = rag.ingest([ARTICLES], index=index, progress=False)
    assert ingest_report.ok, ingest_report.failed
    report = run_eval(SAMPLES_QA, index=index, out=tmp_path / "out", progress=False)
    print(report.to_markdown())
    assert report.counts["scored"] >= 40
    assert report.modes["hybrid"].document["recall@5"] >= 0.8
    assert set(report.modes) == {"hybrid", "dense", "bm25"}
    assert (tmp_path / "out" / "retrieval.png").is_file()
