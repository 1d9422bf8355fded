"""rag.answer_evaluation: each answer metric on hand-made answers, and `rag eval --llm` end to end."""

import json

import pytest

from rag.answer_evaluation import sample_questions, score_answer, summarize
from rag.cli import main
from rag.evaluation import EvalDataset, EvalItem, Evidence
from rag.schema import Answer, Citation, Hit

GENEVA = "000_830f0738273cd064.txt"
PASSAGE = "拉夫罗夫在记者会上说,此次会谈是应美方提议举行的,持续了约90分钟。"


def _answer(question, text, cited=(1,), abstained=False, fallback=None, ms=100.0, language="en"):
    hit = Hit(f"{GENEVA}#3", GENEVA, "美俄外长在日内瓦举行会谈", "2022-01-24", "新华社", PASSAGE, 1.0)
    citations = [Citation(n, hit.chunk_id, hit.doc_id, hit.title, hit.date, hit.source, PASSAGE) for n in cited]
    return Answer(question=question, text=text, abstained=abstained, citations=[] if abstained else citations,
                  contexts=[hit], timings={"total_ms": ms}, llm="local", language=language, fallback=fallback)


ITEM = EvalItem("q1", "How long did the Geneva talks last?", answers=["90分钟", "90 minutes"],
                key_facts=[["90"], ["Geneva", "日内瓦"]], evidence=[Evidence(GENEVA, "持续了约90分钟")])
UNANSWERABLE = EvalItem("u1", "In which hotel did they meet?", answerable=False)


def test_a_right_cited_answer_scores_on_every_metric():
    record = score_answer(ITEM, _answer(ITEM.question, "The talks lasted about 90 minutes [1]."))
    assert record.correct and record.citations_valid and record.citation_supported and record.language_match
    assert record.key_fact_coverage == 0.5  # "90" yes, Geneva no
    assert record.total_ms == 100.0


@pytest.mark.parametrize("text, cited, field, expected", [
    ("The talks lasted about five hours [1].", (1,), "correct", False),      # wrong answer
    ("The talks lasted about 90 minutes [2].", (1,), "citations_valid", False),  # dangling [2]
    ("The talks lasted about 90 minutes.", (1,), "citations_valid", False),  # a citation never referenced
    ("会谈持续了约90分钟[1]。", (1,), "language_match", False),                   # Chinese for an English question
])
def test_each_defect_is_caught_by_its_metric(text, cited, field, expected):
    record = score_answer(ITEM, _answer(ITEM.question, text, cited))
    assert getattr(record, field) is expected


def test_citation_support_needs_the_evidence_in_the_cited_passage():
    answer = _answer(ITEM.question, "The talks lasted about 90 minutes [1].")
    lead = "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。"
    answer.contexts[0].text = answer.citations[0].quote = lead
    assert score_answer(ITEM, answer).citation_supported is False


def test_abstentions_count_against_answerable_items_and_for_unanswerable_ones():
    abstained = score_answer(ITEM, _answer(ITEM.question, "The articles don't say.", abstained=True))
    assert abstained.correct is False and abstained.key_fact_coverage == 0.0 and abstained.citation_supported is None
    rightly = score_answer(UNANSWERABLE, _answer(UNANSWERABLE.question, "The articles don't say.", abstained=True))
    invented = score_answer(UNANSWERABLE, _answer(UNANSWERABLE.question, "The Hotel Geneva [1]."))
    assert rightly.correct is None and invented.correct is None
    right = score_answer(ITEM, _answer(ITEM.question, "About 90 minutes [1].", ms=300.0, fallback="api failed"))
    metrics = summarize("local", [right, abstained, rightly, invented]).metrics
    assert metrics["answer accuracy"] == 0.5
    assert metrics["false abstention"] == 0.5
    assert metrics["abstention on unanswerable"] == 0.5 and metrics["answered when unanswerable"] == 0.5
    assert metrics["citation validity"] == 1.0  # over the two answered items
    assert metrics["fallbacks"] == 0.25


def test_a_sample_is_the_same_every_time_and_keeps_the_corpus():
    dataset = EvalDataset("cmrc", "squad", [EvalItem(f"q{i}", f"问题{i}？") for i in range(50)], articles=["a"])
    first, again = sample_questions(dataset, 7), sample_questions(dataset, 7)
    assert [i.id for i in first.items] == [i.id for i in again.items] and len(first.items) == 7
    assert len({i.id for i in first.items}) == 7 and first.articles == ["a"]
    assert [i.id for i in sample_questions(dataset, 7, seed=1).items] != [i.id for i in first.items]
    assert sample_questions(dataset, None) is dataset and sample_questions(dataset, 500) is dataset
    with pytest.raises(ValueError, match="at least one"):
        sample_questions(dataset, 0)


def test_cli_eval_with_an_answer_sample_writes_the_report(sample_index, tmp_path, capsys):
    questions = [{"id": "a1", "question": "美俄外长会谈持续了多久？", "answers": ["90分钟"],
                  "evidence": [{"doc": GENEVA, "quote": "持续了约90分钟"}]},
                 {"id": "a2", "question": "How long did the Geneva talks last?", "answers": ["90分钟", "90 minutes"],
                  "evidence": [{"doc": GENEVA, "quote": "持续了约90分钟"}]},
                 {"id": "u1", "question": "火星上有几座城市？", "answerable": False}]
    dataset = tmp_path / "qa.jsonl"
    dataset.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["eval", str(dataset), "--index", str(sample_index.path), "--modes", "hybrid", "--llm", "extractive",
                 "--answer-sample", "2", "--out", str(out), "-q"])
    assert code == 0
    report = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    records = report["backends"]["extractive"]["records"]
    assert len(records) == 2 and "random 2 of 3 questions" in report["dataset"]
    assert all(r["llm"] == "extractive" and r["citations_valid"] for r in records if not r["abstained"])
    assert (out / "answers.md").read_text(encoding="utf-8").count("| answer accuracy |") == 1
    assert (out / "answers.png").stat().st_size > 0
    retrieval = json.loads((out / "retrieval.json").read_text(encoding="utf-8"))
    assert len(retrieval["items"]) == 3 and "| hybrid |" in capsys.readouterr().out  # retrieval: every question


@pytest.mark.parametrize("extra", [["--llm", "extractive", "--answer-sample", "0"], ["--answer-sample", "5"]])
def test_cli_eval_refuses_a_bad_answer_sample_before_any_work(tmp_path, capsys, extra):
    code = main(["eval", str(tmp_path / "missing.jsonl"), *extra])
    assert code == 2 and "--answer-sample needs" in capsys.readouterr().err
