"""ask() end to end: extractive and local backends, abstention, fallbacks from a failing API, JSON shape."""

import http.server
import json
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rag
from rag.answering import prefer_dates
from rag.config import Config
from rag.schema import Hit

pytestmark = pytest.mark.slow
GENEVA = "000_830f0738273cd064.txt"
INTERFACE_KEYS = {"question", "answer", "abstained", "citations", "contexts", "timings", "llm"}


# the request `rag.answering.chinese_question` makes first for an English question
_TRANSLATING_THE_QUESTION = "把这个英文问题翻译成中文"


def _markers(text):
    import re

    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_extractive_answer_is_cited_and_matches_interfaces(sample_index):
    ans = rag.ask("美俄外长日内瓦会谈持续了多久？", index=sample_index, llm="extractive")
    assert not ans.abstained and "90分钟" in ans.text
    assert ans.llm == "extractive" and ans.fallback is None
    d = ans.to_dict()
    assert INTERFACE_KEYS <= set(d)
    assert set(d["timings"]) >= {"retrieve_ms", "generate_ms", "total_ms"}
    assert _markers(d["answer"]) == {c["n"] for c in d["citations"]}
    assert d["citations"][0]["doc_id"] == GENEVA and "90分钟" in d["citations"][0]["quote"]
    assert set(d["citations"][0]) == {"n", "chunk_id", "doc_id", "title", "date", "source", "quote"}
    assert d["contexts"] and set(d["contexts"][0]) == {"chunk_id", "doc_id", "title", "date", "source", "text",
                                                        "score"}


@pytest.mark.parametrize("question,expected", [("What is the capital of France?", "The articles don't say."),
                                               ("法国的首都是哪里？", "资料中没有相关信息。")])
def test_off_topic_question_abstains_in_its_language(sample_index, question, expected):
    for backend in ("extractive", "local"):
        ans = rag.ask(question, index=sample_index, llm=backend)
        assert ans.abstained and ans.citations == [] and ans.text == expected


def test_year_in_question_prefers_that_years_article():
    hits = [Hit("a", "a", None, "2022-01-24", None, "x", 1.0), Hit("b", "b", None, "2017-04-15", None, "y", 0.5)]
    assert [h.doc_id for h in prefer_dates(hits, "王毅和拉夫罗夫2017年谈了什么？")] == ["b", "a"]
    assert [h.doc_id for h in prefer_dates(hits, "What was the latest meeting about?")] == ["a", "b"]
    assert prefer_dates(hits, "拉夫罗夫说了什么？") == hits


def test_local_llm_answers_english_question_in_english_with_citation(sample_index):
    # worded so: asked about "the talks between Blinken and Lavrov", the model writes "Biden" for 布林肯, and
    # that claim is dropped (test_a_claim_naming_someone_or_somewhere_its_source_never_mentions_is_dropped)
    ans = rag.ask("How long did Lavrov's talks with Blinken in Geneva last?", index=sample_index, llm="local")
    assert ans.llm == "local", ans.fallback
    assert not ans.abstained and "90" in ans.text
    assert rag.language.is_in_language(ans.text, "en")
    assert ans.citations and all(c.n in _markers(ans.text) for c in ans.citations)
    assert any("90分钟" in c.quote for c in ans.citations)


def test_local_llm_follow_up_uses_history(sample_index):
    ans = rag.ask("会谈持续了多久？", index=sample_index, llm="local",
                  history=[("布林肯和拉夫罗夫在日内瓦会谈了吗？", "是的，他们在日内瓦举行了会谈[1]。")])
    assert ans.standalone_question and ans.standalone_question != "会谈持续了多久？"
    # the rewrite names the subject from the history, so retrieval lands on the Geneva article; whether the
    # 1.5B model then answers is measured by `rag eval --llm local` (issue 4: it abstains too often)
    assert any(name in ans.standalone_question for name in ("布林肯", "拉夫罗夫", "日内瓦"))
    assert ans.contexts[0].doc_id == GENEVA
    assert ans.abstained or ans.citations


def test_timings_per_stage_in_seconds_and_interface_milliseconds(sample_index):
    ans = rag.ask("美俄外长日内瓦会谈持续了多久？", index=sample_index, llm="local")
    assert ans.llm == "local", ans.fallback
    assert {"retrieve_s", "prompt_s", "generate_s", "verify_s", "total_s"} <= set(ans.timings)
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= set(ans.timings)
    stages = ans.timings["retrieve_s"] + ans.timings["prompt_s"] + ans.timings["generate_s"]
    assert 0 < stages <= ans.timings["total_s"] + 0.05
    assert ans.timings["total_ms"] == pytest.approx(ans.timings["total_s"] * 1000)
    follow = rag.ask("How long did it last?", index=sample_index, llm="extractive",
                     history=[("Where did Blinken and Lavrov meet?", "In Geneva [1].")])
    assert "rewrite_s" in follow.timings and "prompt_s" not in follow.timings


def test_answer_type_without_a_matching_sentence_abstains(sample_index):
    # the articles date the phone call but never say how long it lasted
    ans = rag.ask("王毅和拉夫罗夫2017年4月的那次通话持续了多长时间？", index=sample_index, llm="extractive")
    assert ans.abstained and not ans.citations


@pytest.mark.parametrize("question", [
    "How long did the Moscow talks between Wang Yi and Lavrov last?",  # the 90 minutes are Geneva's
    "How long did the phone call between Blinken and Lavrov described in the Al Jazeera report last?",
])
def test_an_answer_from_an_article_without_the_questions_names_is_an_abstention(sample_index, question):
    # the duration sentence of the Geneva article ranks first for both; that article names neither Moscow
    # nor Al Jazeera (半岛网 is the source of another article)
    ans = rag.ask(question, index=sample_index, llm="extractive")
    assert ans.abstained and not ans.citations
    same = rag.ask("How long did the Geneva talks between Blinken and Lavrov last?", index=sample_index,
                   llm="extractive")
    assert not same.abstained and "90" in same.citations[0].quote


def test_ranker_prefers_the_sentence_holding_the_asked_kind_of_answer():
    from rag.citations import Passage
    from rag.extractive import answer_types, has_answer_type, rank_sentences
    from rag.prompting import focus_passages

    sentences = ["双方在会谈结束后各自举行记者会。", "会谈持续了约90分钟。"]
    hit = Hit("d#0", "d.txt", "美俄外长会谈", "2022-01-24", "新华社", "".join(sentences), 1.0)
    passage = Passage(1, hit, hit.text, sentences, np.ones((2, 4), dtype="float32") / 2)
    ranked = rank_sentences("会谈持续了多久？", np.ones(4, dtype="float32") / 2, [passage])
    assert ranked[0].text == "会谈持续了约90分钟。" and ranked[0].typed and not ranked[1].typed
    assert has_answer_type("会谈持续了约90分钟。", answer_types("How long did it last?"))
    assert not has_answer_type("2017年4月14日晚通电话。", answer_types("通话持续了多长时间？"))
    focused = focus_passages(ranked, 1)
    assert [(p.n, p.text) for p in focused] == [(1, "会谈持续了约90分钟。")] and focused[0].sentences == sentences


def test_a_who_question_is_answered_by_a_name_or_by_the_people_a_role_or_group_names():
    """holdout5 n-15: "...将留待谁最终决定？" is answered by "留待各国领导人最终决定" (jieba: 领导人 is a common
    noun), so the question is not cut off before the model sees it; a meeting named after a role is no one."""
    from rag.extractive import answer_types, has_answer_type

    who = answer_types("部分最敏感的议题将留待谁最终决定？")
    assert has_answer_type("部分最敏感议题已标注,留待各国领导人最终决定。", who)
    assert has_answer_type("乌国家安全委员会秘书乌梅罗夫将继续推进谈判。", who)
    assert has_answer_type("北约秘书长表示欢迎。", answer_types("Who welcomed it?"))
    assert not has_answer_type("与此同时,北约外长会于3日在布鲁塞尔召开。", answer_types("Who represented the US?"))
    assert not has_answer_type("部分最敏感议题已标注,留待最终决定。", who)


@pytest.mark.parametrize("question, asks_a_time", [
    ("When did Wang Yi and Lavrov talk by phone?", True),
    ("Which US Secretary of State last missed a NATO foreign ministers' meeting before this one, and when?", True),
    ("Since when was the meeting planned, and when was it held?", True),
    # holdout9 r-03, holdout3 g-10: "when" joins a clause; a job title or post is asked
    ("What was Wang Yi's job title when he phoned Lavrov in April 2017?", False),
    ("Besides foreign minister, what other post did Wang Yi hold when he met Lavrov in Moscow?", False),
])
def test_only_a_when_that_asks_wants_a_time(question, asks_a_time):
    from rag.extractive import answer_types, has_answer_type

    assert has_answer_type("外交部长", answer_types(question)) is not asks_a_time
    assert has_answer_type("1月21日", answer_types(question))


def test_ranker_prefers_the_sentence_naming_the_asked_kind_or_action():
    """English keywords match no Chinese token: the kind ("which anniversary" -> 周年) and the action ("what did
    they discuss" -> 讨论) asked for are looked up in CC-CEDICT, and a sentence naming them ranks higher."""
    from rag.citations import Passage
    from rag.extractive import KIND_WEIGHT, rank_sentences

    sentences = ["王毅表示,今年以来,中俄关系经受住疫情考验。", "今年正值二战胜利和联合国成立75周年。",
                 "双方讨论了能源问题。"]
    hit = Hit("d#0", "d.txt", "王毅同拉夫罗夫举行会谈", "2020-09-12", "新华社", "".join(sentences), 1.0)
    vectors = np.array([[1, 0, 0, 0], [0.97, 0.243, 0, 0], [0.97, 0, 0.243, 0]], dtype="float32")
    passage = Passage(1, hit, hit.text, sentences, vectors)
    question_vector = np.array([1, 0, 0, 0], dtype="float32")  # the speaker's sentence is closest by cosine
    ranked = rank_sentences("Which anniversary did Wang Yi say falls in 2020?", question_vector, [passage])
    assert ranked[0].text == sentences[1]
    assert abs(ranked[0].score - ranked[1].score - (KIND_WEIGHT - 0.03)) < 1e-3
    assert rank_sentences("What did she and Lavrov discuss?", question_vector, [passage])[0].text == sentences[2]
    # a question that asks no kind or action ranks by cosine alone
    assert rank_sentences("Did Wang Yi speak?", question_vector, [passage])[0].text == sentences[0]


def test_ranker_prefers_the_sentence_naming_the_asked_day_and_a_foreign_place():
    """samples_qa_holdout h-07: "Which city did Zelensky visit on the 2nd?" - the Dublin sentence names the day
    (2日, not 12日) and a city jieba tags as a person (都柏林 "nr"); CC-CEDICT's places make it a "where" answer."""
    from rag.citations import Passage
    from rag.extractive import answer_types, has_answer_type, rank_sentences

    sentences = ["泽连斯基12日在基辅会见了到访的德国外长。", "泽连斯基2日到访爱尔兰都柏林并发表讲话。",
                 "泽连斯基2日表示和平协议没有简单的解决方案。"]
    assert has_answer_type(sentences[1], answer_types("Which city did he visit?"))
    assert not has_answer_type(sentences[2], answer_types("Which city did he visit?"))
    hit = Hit("d#0", "d.txt", "泽连斯基访问", "2025-12-04", "新华社", "".join(sentences), 1.0)
    vectors = np.array([[1, 0, 0, 0], [0.97, 0.243, 0, 0], [0.98, 0, 0.199, 0]], dtype="float32")
    passage = Passage(1, hit, hit.text, sentences, vectors)
    question_vector = np.array([1, 0, 0, 0], dtype="float32")  # the Kyiv sentence of the 12th is closest
    ranked = rank_sentences("Which city did Zelensky visit on the 2nd?", question_vector, [passage])
    assert ranked[0].text == sentences[1]
    assert rank_sentences("Which city did Zelensky visit on the 12th?", question_vector, [passage])[0].text == \
        sentences[0]


def test_what_they_discussed_is_in_the_prompt(sample_index):
    """samples_qa a001-07: for "What did she and Lavrov discuss?" (after a question about Baerbock), the
    sentence "双方讨论了..." ranked 6th by cosine, out of the 3 sentences the model sees."""
    from rag.answering import PROMPT_SENTENCES, context_prepended
    from rag.extractive import rank_sentences
    from rag.prompting import build_passages

    turns = [("Who is the German foreign minister who met Lavrov?", "Annalena Baerbock [1].")]
    asked = "What did she and Lavrov discuss?"
    question = context_prepended(asked, turns)
    hits = sample_index.search(question, k=12)
    vector = sample_index.embed_answer_query(question)
    views = [sample_index.sentence_vectors(h.chunk_id) for h in hits]
    ranked = rank_sentences(question, vector, build_passages(hits, views, vector, 600), asked=asked)
    assert any("讨论了乌克兰的最新事态发展" in c.text for c in ranked[:PROMPT_SENTENCES])


def test_ranker_prefers_the_article_the_conversation_is_about():
    from rag.citations import Passage
    from rag.extractive import rank_sentences

    def passage(n, doc, sentence):
        hit = Hit(f"{doc}#0", doc, None, None, None, sentence, 1.0)
        return Passage(n, hit, sentence, [sentence], np.ones((1, 4), dtype="float32") / 2)

    passages = [passage(1, "peace-plan.txt", "会谈持续时长:近5个小时;"),
                passage(2, "geneva.txt", "会谈持续了约90分钟。")]
    question_vector = np.ones(4, dtype="float32") / 2
    assert rank_sentences("会谈持续了多久？", question_vector, passages)[0].passage.hit.doc_id == "peace-plan.txt"
    focused = rank_sentences("会谈持续了多久？", question_vector, passages, focus_doc="geneva.txt")
    assert focused[0].passage.hit.doc_id == "geneva.txt"


def test_a_follow_up_stays_on_the_article_of_the_previous_turn(sample_index):
    """samples_qa a000-03: after "美俄外长在哪里会谈？" the peace-plan article's "近5个小时" outranked Geneva's
    90 minutes."""
    from rag.answering import conversation_article

    history = [("美俄外长在哪里会谈？", "在瑞士日内瓦[1]。")]
    assert conversation_article(sample_index, history) == GENEVA and conversation_article(sample_index, []) is None
    ans = rag.ask("会谈持续了多久？", index=sample_index, llm="extractive", history=history)
    assert "90分钟" in ans.text and ans.citations[0].doc_id == GENEVA


def test_short_forms_in_the_question_find_the_sentence_that_spells_them_out(sample_index):
    """The UI's first example: 美俄外长 are 美国国务卿 and 俄罗斯外交部长 in the Geneva report; the NATO sentence
    with 外长会 and 俄美会谈 was quoted instead (eval/results/ui/02, sessions 13-16)."""
    ans = rag.ask("美俄外长在哪里会谈？", index=sample_index, llm="extractive")
    assert "日内瓦" in ans.text and ans.citations[0].doc_id == GENEVA


def test_a_follow_ups_own_words_weigh_more_than_the_earlier_turns():
    from rag.citations import Passage
    from rag.extractive import rank_sentences

    def passage(n, sentence):
        hit = Hit(f"d{n}#0", f"d{n}", None, None, None, sentence, 1.0)
        return Passage(n, hit, sentence, [sentence], np.ones((1, 4), dtype="float32") / 2)

    passages = [passage(1, "美国国务卿和俄罗斯外交部长在日内瓦举行会谈。"), passage(2, "会谈持续了约90分钟。")]
    question_vector = np.ones(4, dtype="float32") / 2
    standalone = "美俄外长在日内瓦会谈 会谈持续了多久？"
    unweighted = rank_sentences(standalone, question_vector, passages)
    weighted = rank_sentences(standalone, question_vector, passages, asked="会谈持续了多久？")
    gap = {r.passage.n: r.score for r in weighted}
    assert unweighted[0].passage.n == 1 and weighted[0].passage.n == 2, gap


class _FaultyHandler(http.server.BaseHTTPRequestHandler):
    mode = "500"

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "hang":
            time.sleep(6)
        if self.mode == "500":
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"this is not json")

    def log_message(self, *args):
        pass


@pytest.fixture
def faulty_server():
    servers = []

    def start(mode):
        handler = type("H", (_FaultyHandler,), {"mode": mode})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.parametrize("mode,reason", [("500", "500"), ("hang", "timed out"), ("garbage", "")])
def test_failing_api_falls_back_visibly_to_extractive(sample_index, faulty_server, mode, reason):
    config = Config.load(api_base_url=faulty_server(mode), api_timeout=2.0)
    started = time.perf_counter()
    ans = rag.ask("美俄外长日内瓦会谈持续了多久？", index=sample_index, llm="api", config=config)
    assert time.perf_counter() - started < 15
    assert ans.llm == "extractive"
    assert ans.fallback and ans.fallback.startswith("api backend failed") and reason in ans.fallback
    assert not ans.abstained and "90分钟" in ans.text and ans.citations


def test_cli_ask_json(sample_index, tmp_path):
    history = tmp_path / "h.json"
    pairs = [["美俄外长在哪里会谈？", "在瑞士日内瓦[1]。"]]
    history.write_text(json.dumps(pairs, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "会谈持续了多久？", "--index",
                             str(sample_index.path), "--llm", "extractive", "--history", str(history), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert INTERFACE_KEYS <= set(d) and d["llm"] == "extractive"
    bad = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "x", "--history",
                          str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--history" in bad.stderr and "Traceback" not in bad.stderr


class _SlippingModel:
    """Fault injection: a chat model that answers an English question in Chinese, then obeys the translation
    request (or keeps slipping); it records what it was asked."""

    def __init__(self, replies):
        self.replies, self.asked = list(replies), []

    def stream(self, messages):
        from langchain_core.messages import AIMessageChunk

        if _TRANSLATING_THE_QUESTION in messages[-1][1]:
            yield AIMessageChunk(content="")  # no translation: the sentences are ranked as before
            return
        self.asked.append(messages)
        yield AIMessageChunk(content=self.replies.pop(0))


def _geneva_passages(sample_index, question, fact="90分钟"):
    from rag.answering import focus_passages
    from rag.extractive import rank_sentences
    from rag.prompting import build_passages

    hits = sample_index.search(question, k=12)
    vector = sample_index.embed_answer_query(question)
    views = [sample_index.sentence_vectors(h.chunk_id) for h in hits]
    ranked = rank_sentences(question, vector, build_passages(hits, views, vector, 600))
    passages = focus_passages(ranked, 3)
    n = next((p.n for p in passages if fact in p.text), None)
    return passages, n


def test_an_answer_in_the_wrong_language_is_translated_and_verified_again(sample_index):
    from rag.answering import _generate_verified

    question = "How long did the talks between Blinken and Lavrov in Geneva last?"
    passages, n = _geneva_passages(sample_index, question)
    model = _SlippingModel([f"会谈持续了约90分钟[{n}]。", f"The talks lasted about 90 minutes [{n}]."])
    timings = {}
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, timings)
    assert problem is None and text == "The talks lasted about 90 minutes [1]."
    assert citations[0].doc_id == GENEVA and "90分钟" in citations[0].quote
    translation_request = model.asked[1][-1][1]
    assert translation_request.startswith("Translate into English")
    assert f"会谈持续了约90分钟[{n}]。" in translation_request
    assert timings["translate_s"] >= 0

    # a translation that slips again, or invents what the passage does not say, is not passed on
    for second in (f"会谈持续了约90分钟[{n}]。", f"The talks lasted about 7 hours [{n}]."):
        model = _SlippingModel([f"会谈持续了约90分钟[{n}]。", second])
        text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
        assert text is None and citations == [] and "wrong language" in problem


def test_a_chinese_word_slipped_into_an_english_answer_is_translated_and_kept_only_if_mended(sample_index):
    """holdout5 n-10: "full of cold战思维" read as English to the language check; its translation "cold war
    thinking" replaces it. A translation that still slips, or fails, leaves the verified answer as it was."""
    from rag.answering import _generate_verified

    question = "How long did the talks between Blinken and Lavrov in Geneva last?"
    passages, n = _geneva_passages(sample_index, question)
    slipped = f"The talks lasted about 90分钟 [{n}]."
    model = _SlippingModel([slipped, f"The talks lasted about 90 minutes [{n}]."])
    timings = {}
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, timings)
    assert problem is None and text == "The talks lasted about 90 minutes [1]." and "translate_s" in timings
    assert model.asked[1][-1][1].startswith("Translate into English") and slipped in model.asked[1][-1][1]
    assert citations[0].doc_id == GENEVA and "90分钟" in citations[0].quote

    for second in (f"The talks lasted about 90分钟 [{n}].", f"The talks lasted about 7 hours [{n}]."):
        model = _SlippingModel([slipped, second])
        text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
        assert problem is None and text == "The talks lasted about 90分钟 [1]." and citations[0].doc_id == GENEVA


def test_a_claim_naming_someone_or_somewhere_its_source_never_mentions_is_dropped(sample_index):
    """holdout6 ou-02: "Washington, D.C." for 赴美. An answer naming someone or somewhere that CC-CEDICT knows,
    not in the question and not in the cited passage, is unsupported, whatever was asked: the model's "Biden"
    for Blinken in the right duration (samples_qa a000-02) is dropped too, and the right claim stands."""
    from rag.answering import _generate_verified

    question = "In which city did Blinken and Lavrov hold talks on January 21?"
    passages, n = _geneva_passages(sample_index, question, fact="日内瓦")
    model = _SlippingModel([f"Blinken and Lavrov held talks in Vienna [{n}]."])
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
    assert text is None and citations == [] and problem is None
    model = _SlippingModel([f"Blinken and Lavrov held talks in Geneva [{n}]."])
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
    assert text == "Blinken and Lavrov held talks in Geneva [1]." and citations[0].doc_id == GENEVA

    question = "How long did the talks between Blinken and Lavrov in Geneva last?"
    passages, n = _geneva_passages(sample_index, question)
    model = _SlippingModel([f"The talks between Biden and Lavrov in Geneva lasted about 90 minutes [{n}]."])
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
    assert text is None and citations == []
    model = _SlippingModel([f"The talks between Blinken and Lavrov in Geneva lasted about 90 minutes [{n}]."])
    text, citations, problem, _ = _generate_verified(model, question, passages, "en", sample_index, None, {})
    assert text == "The talks between Blinken and Lavrov in Geneva lasted about 90 minutes [1]."


def test_an_answer_from_an_article_that_never_names_the_asked_year_is_an_abstention(sample_index, monkeypatch):
    """holdout5 nu-06: asked who proposed the 2017 phone call (the report does not say), the model answered
    "应美方提议", which the 2022 Geneva report says of the Geneva talks; it never names 2017."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    model = _SlippingModel(["应美方提议[1]"])
    ans = rag.answering.ask("2017年4月14日王毅与拉夫罗夫的通话是应哪一方的提议进行的？", index=sample_index,
                            llm="local")
    assert len(model.asked) == 1 and ans.abstained and ans.citations == [] and ans.text == "资料中没有相关信息。"
    # the same answer to the question about the Geneva talks, whose report is dated 2022, stands
    model = _SlippingModel(["应美方提议[1]"])
    ans = rag.answering.ask("2022年1月布林肯与拉夫罗夫的日内瓦会谈是应哪一方的提议举行的？", index=sample_index,
                            llm="local")
    assert not ans.abstained and ans.citations[0].doc_id == GENEVA and "应美方提议" in ans.citations[0].quote


def test_a_follow_up_without_a_good_rewrite_is_searched_with_context_and_asked_as_is(sample_index, monkeypatch):
    """The local model once rewrote "What did she and Lavrov discuss?" into a "who" question; the rewrite is
    refused, retrieval gets the previous question prepended, and the model is asked the follow-up itself."""
    import rag.answering

    history = [("Who is the German foreign minister who met Lavrov?", "Annalena Baerbock [1].")]
    model = _SlippingModel(["Who did Annalena Baerbock meet with Lavrov?", "They discussed energy [1]."])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("What did she and Lavrov discuss?", index=sample_index, history=history, llm="local")
    assert ans.standalone_question == f"{history[0][0]} Annalena Baerbock. What did she and Lavrov discuss?"
    answering_prompt = model.asked[1][-1][1]
    assert "What did she and Lavrov discuss?" in answering_prompt
    assert "Who is the German foreign minister" not in answering_prompt


class _PointingModel:
    """Fault injection: cites the passage that holds `fact` but leaves the answer out, as the 1.5B model does
    when it cannot write a Chinese name in English ("... is [1].") or answers with a bare "[2]"."""

    def __init__(self, fact, template, translation=""):
        self.fact, self.template, self.translation = fact, template, translation

    def stream(self, messages):
        from langchain_core.messages import AIMessageChunk

        prompt = messages[-1][1]
        if _TRANSLATING_THE_QUESTION in prompt:
            yield AIMessageChunk(content=self.translation)  # none: the sentences are ranked as before
            return
        n = next(m.group(1) for m in re.finditer(r"\[(\d+)\][^\n]*\n([^\[]*)", prompt) if self.fact in m.group(2))
        yield AIMessageChunk(content=self.template.format(n=n))


def test_a_citation_without_an_answer_quotes_the_cited_passage(sample_index, monkeypatch):
    import rag.answering

    template = "The Chinese researcher who analysed Putin's remarks about Europe is [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("尚月", template), None))
    ans = rag.answering.ask("Which Chinese researcher analysed Putin's remarks about Europe?", index=sample_index,
                            llm="local")
    assert ans.llm == "extractive" and "citation without an answer" in ans.fallback
    assert not ans.abstained and "尚月" in ans.text and "尚月" in ans.citations[0].quote


def test_a_bare_citation_is_an_abstention(sample_index, monkeypatch):
    """A bare "[1]" says nothing. Quoted, it answered holdout3 k-10 (the two reporters of a byline) but invented
    answers to mu-01 ("Why did Rubio skip...?") and holdout6 ou-01 ("How many reporters attended...?")."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("尚月", "[{n}]"), None))
    ans = rag.answering.ask("Which Chinese researcher analysed Putin's remarks about Europe?", index=sample_index,
                            llm="local")
    assert ans.abstained and not ans.citations and ans.fallback is None


def test_a_citation_without_an_answer_away_from_the_rankers_best_is_an_abstention(sample_index, monkeypatch):
    """samples_qa_holdout2 gu-05: the articles never say where Baerbock and Lavrov held their press conference;
    the model cited the passage on their talks (a Kyiv visit in it) without an answer, while the ranker's best
    sentence sits in another passage. Quoting the cited passage would invent "Kyiv"."""
    import rag.answering

    model = _PointingModel("类似访问", "[{n}]")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("In which city did Baerbock and Lavrov hold their joint press conference?",
                            index=sample_index, llm="local")
    assert ans.abstained and not ans.citations and ans.fallback is None


def test_the_question_restated_with_a_citation_quotes_the_cited_passage(sample_index, monkeypatch):
    """samples_qa a001-03: asked "With whom ...?", the model restated the question and cited the right passage.
    A restated question citing nothing stays an abstention (test_an_answer_that_restates_the_question_...)."""
    import rag.answering

    question = "With whom did NATO Secretary General Stoltenberg hold a press conference in Berlin?"
    model = _PointingModel("朔尔茨", question + " [{n}]")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert ans.llm == "extractive" and "citation without an answer" in ans.fallback
    assert not ans.abstained and "朔尔茨" in ans.text and "朔尔茨" in ans.citations[0].quote


@pytest.mark.parametrize("template, fact, question, answered", [
    ("Brussels [{n}]", "布鲁塞尔", "Where was the NATO foreign ministers' meeting held on the 3rd?", True),
    ("Paris [{n}]", "布鲁塞尔", "Where was the NATO foreign ministers' meeting held on the 3rd?", False),
    ("Two [{n}].", "两份", "How many draft security guarantee agreements did Russia propose to the US and NATO "
                          "last December?", True),
    ("Five [{n}].", "两份", "How many draft security guarantee agreements did Russia propose to the US and NATO "
                           "last December?", False),
])
def test_a_short_english_answer_stands_on_its_words(sample_index, monkeypatch, template, fact, question, answered):
    """samples_qa a004-02, a000-09: the model's right one-word answers were removed as unsupported (cosine
    0.795/0.796 with the real embedder, below SEMANTIC_MIN); the wrong ones must still be."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel(fact, template), None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert ans.llm == "local" and ans.fallback is None
    assert ans.abstained is not answered
    if answered:
        assert ans.text == template.format(n=1) and fact in ans.citations[0].quote


def test_the_right_amount_stands(sample_index, monkeypatch):
    """The number check that catches "$10 billion" for "近10亿美元" (test_a_misread_number_quotes_the_sentence_it_
    misread) lets the right amount through (in Chinese: the lexical support check decides alone)."""
    import rag.answering

    right = _PointingModel("近10亿美元", "有五个国家承诺通过该机制提供总额近10亿美元资金[{n}]。")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (right, None))
    ans = rag.answering.ask("五个国家承诺通过PURL机制提供多少资金？", index=sample_index, llm="local")
    assert not ans.abstained and "10亿美元" in ans.text and "10亿美元" in ans.citations[0].quote


def test_a_yes_against_a_negation_in_the_cited_passage_quotes_it(sample_index, monkeypatch):
    import rag.answering

    model = _PointingModel("并不期待", "Yes, Blinken expected a major breakthrough from the Geneva talks [{n}].")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("Did Blinken expect a major breakthrough from the Geneva talks?", index=sample_index,
                            llm="local")
    assert ans.llm == "extractive" and "negation" in ans.fallback
    assert "并不期待" in ans.text and ans.citations[0].doc_id == GENEVA


def test_an_answer_that_restates_the_question_is_an_abstention(sample_index, monkeypatch):
    """samples_qa u-07: the article says five countries pledged, not which; the model echoed the question."""
    import rag.answering

    question = "哪五个国家承诺通过“乌克兰优先需求清单”机制向乌克兰提供资金？"
    # the second look at the best sentence (the real model's reply: 无) follows the echo
    model = _SlippingModel(["五个国家承诺通过“乌克兰优先需求清单”机制向乌克兰提供资金[1]。", "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert model.asked, "the question must get past the relevance gate to reach the model"
    assert ans.abstained and ans.llm == "local" and not ans.citations and ans.fallback is None


def test_chinese_words_in_an_english_restatement_are_its_answer(sample_index, monkeypatch):
    """samples_qa_holdout2 g-12: the model restated the question around the passage's own words (同志般的交流),
    uncited; that is an answer, not an echo, and it is cited to the passage that holds those words."""
    import rag.answering

    question = ("According to Lavrov, what kind of exchanges have the people of Russia and China maintained "
                "despite the pandemic?")
    model = _SlippingModel(["According to Lavrov, the people of Russia and China have maintained同志般的交流 "
                            "despite the pandemic."])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert not ans.abstained and ans.llm == "local" and "同志般的交流" in ans.text
    assert "同志般的交流" in ans.citations[0].quote and ans.text.endswith("[1].")


def test_a_restated_question_in_other_word_forms_is_an_abstention(sample_index, monkeypatch):
    """samples_qa a003-08: "Whose central role ... did Lavrov say Russia values?" answered "Lavrov said Russia
    valued the central role in regional cooperation [1]." - the question again, in other tenses, without the
    whose (东盟). The second look is told 无 here; the real model picks 俄中高层交往 out of the best sentence, which
    is then quoted: one of the two wrong quotes `rag.answering.second_look` counts."""
    import rag.answering

    model = _SlippingModel(["Lavrov said Russia valued the central role in regional cooperation [1].", "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("Whose central role in regional cooperation did Lavrov say Russia values?",
                            index=sample_index, llm="local")
    assert model.asked, "the question must get past the relevance gate to reach the model"
    assert ans.abstained and ans.llm == "local" and not ans.citations and ans.fallback is None


def test_a_yes_is_checked_against_every_sentence_the_model_saw(sample_index):
    """samples_qa a001-10: the model read "北约不会放弃..." and answered "NATO will give up ...", citing another
    passage (which the cross-lingual support check then accepted)."""
    from rag.answering import _generate_verified

    question = "Will NATO give up its open-door policy for new members, according to Stoltenberg?"
    passages, negated = _geneva_passages(sample_index, question, fact="不会放弃")
    wrong = next(p.n for p in passages if p.n != negated)
    model = _SlippingModel([f"Yes, according to Stoltenberg, NATO will give up its open-door policy [{wrong}]."])
    text, citations, problem, pointed = _generate_verified(model, question, passages, "en", sample_index, None, {})
    assert text is None and "negation" in problem
    assert pointed == next(p.hit.chunk_id for p in passages if p.n == negated)


@pytest.mark.parametrize("llm", ["local", "extractive"])
def test_a_question_about_the_next_meeting_is_not_answered_with_this_one(sample_index, monkeypatch, llm):
    """samples_qa u-01: asked where the NEXT talks will be held, the model answered with this meeting's city,
    which its passage supports. A supporting sentence must speak of the future."""
    import rag.answering

    model = _PointingModel("日内瓦举行会谈", "日内瓦[{n}]")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("拉夫罗夫和布林肯下一次会谈在哪里举行？", index=sample_index, llm=llm)
    assert ans.abstained and not ans.citations and ans.text == "资料中没有相关信息。"
    # the same answer to the question about this meeting stands
    ans = rag.answering.ask("拉夫罗夫和布林肯在哪里举行会谈？", index=sample_index, llm=llm)
    assert not ans.abstained and "日内瓦" in ans.text


@pytest.mark.parametrize("question, fact, reply, quoted", [
    ("According to the Al Jazeera report, how many troops had Russia massed near Ukraine?", "数万军队",
     "According to the Al Jazeera report, Russia had massed about 300,000 troops near Ukraine [{n}].", "数万军队"),
    ("How much money did five countries pledge through the PURL mechanism?", "10亿美元",
     "Five countries pledged approximately $10 billion through the PURL mechanism [{n}].", "近10亿美元"),
])
def test_a_misread_number_quotes_the_sentence_it_misread(sample_index, monkeypatch, question, fact, reply, quoted):
    """samples_qa a001-05 / a004-07: the local model wrote numbers no source gives for what the best sentence
    counts. The answer is that sentence, quoted, with a visible fallback - not an abstention."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel(fact, reply), None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert not ans.abstained and ans.llm == "extractive" and "a number no source gives" in ans.fallback
    assert quoted in ans.citations[0].quote and quoted in ans.text
    assert "300,000" not in ans.text and "10 billion" not in ans.text


def test_an_invented_amount_is_an_abstention(sample_index, monkeypatch):
    """samples_qa u-10 (unanswerable): "$10 billion in military aid" cites the PURL sentence's 近10亿美元; the
    best sentence for the question counts no money, so the answer is an abstention, not a quote."""
    import rag.answering

    reply = "Blinken promised Ukraine $10 billion in military aid during his visit to Kyiv [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("美元", reply), None))
    ans = rag.answering.ask("How much military aid did Blinken promise Ukraine during his visit to Kyiv?",
                            index=sample_index, llm="local")
    assert ans.abstained and not ans.citations and ans.fallback is None


def test_a_hotel_made_up_from_the_question_is_an_abstention(sample_index, monkeypatch):
    """samples_qa u-02 (unanswerable): the model named "the Hotel Geneva", every word from the question."""
    import rag.answering

    reply = ("The meeting between US Secretary of State Antony Blinken and Russian Foreign Minister Sergey Lavrov "
             "took place in the Hotel Geneva [{n}].")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("日内瓦", reply), None))
    ans = rag.answering.ask("In which hotel in Geneva did Blinken and Lavrov meet?", index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
    # the same kind of answer to the question about the city stands
    reply = "Geneva [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("日内瓦", reply), None))
    ans = rag.answering.ask("In which city did Blinken and Lavrov hold talks on January 21?", index=sample_index,
                            llm="local")
    assert not ans.abstained and "Geneva" in ans.text


def test_an_answer_whose_sentence_lacks_the_words_the_question_quotes_is_an_abstention(sample_index, monkeypatch):
    """holdout9 ru-02 (unanswerable): asked which White House official called the talks “深入且富有成效”, the
    model named 特朗普 from the sentence where he called them “相当不错”. Words the question quotes that are the
    article's topic (its title's “和平计划”) need not stand in the cited sentence."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("相当不错", "特朗普[{n}]"), None))
    ans = rag.answering.ask("3日称美俄会谈“深入且富有成效”的那位白宫官员叫什么名字？", index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("近5个小时", "近5个小时[{n}]"), None))
    ans = rag.answering.ask("美俄就“和平计划”举行的会谈持续了多长时间？", index=sample_index, llm="local")
    assert not ans.abstained and "近5个小时" in ans.text and "和平计划" not in ans.citations[0].quote


@pytest.mark.parametrize("llm", ["local", "extractive"])
def test_the_day_someone_spoke_of_it_does_not_answer_when_it_happens(sample_index, monkeypatch, llm):
    """holdout2 gu-02 (unanswerable): asked on which day the Ukrainian delegation goes to the US again, the
    model answered 3日 from "瑟比加在3日稍晚时表示,美方已邀请乌代表团近期再次赴美磋商", the day he said so; the
    extractive backend quoted that sentence. The day of the visit itself (2日, holdout9 r-08) stands."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("稍晚时表示", "3日[{n}]"), None))
    ans = rag.answering.ask("乌克兰代表团将于哪一天再次赴美磋商“和平计划”？", index=sample_index, llm=llm)
    assert ans.abstained and not ans.citations
    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("美代表团访俄", "2日[{n}]"), None))
    ans = rag.answering.ask("美国代表团是哪一天访问俄罗斯并就“和平计划”同俄方会谈的？", index=sample_index, llm=llm)
    assert not ans.abstained and "2日" in ans.text


def test_a_quote_from_an_article_that_never_names_the_questions_foreign_name_is_an_abstention(sample_index):
    """holdout2 gu-05 (unanswerable): asked where Baerbock and Lavrov met the press, the extractive backend
    quoted the Wang Yi report's Moscow dateline; CC-CEDICT does not know Baerbock, and the report never writes
    贝尔伯克. Asked where she met Lavrov, the article that names her answers."""
    ans = rag.ask("In which city did Baerbock and Lavrov hold their joint press conference?", index=sample_index,
                  llm="extractive")
    assert ans.abstained and not ans.citations
    ans = rag.ask("Which city had Baerbock visited before her talks with Lavrov?", index=sample_index,
                  llm="extractive")
    assert not ans.abstained and "贝尔伯克" in ans.citations[0].quote


def test_words_put_in_the_mouth_of_someone_the_source_never_quotes_are_an_abstention(sample_index, monkeypatch):
    """holdout6 ou-04 (unanswerable): asked what Kuleba said after meeting Blinken, the model quoted him from
    the sentence that only says Blinken will meet him. What Peskov said, the article reports him saying."""
    import rag.answering

    reply = "Kuleba said Blinken's visit would confirm the US commitment to Ukraine's sovereignty [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("库莱巴", reply), None))
    ans = rag.answering.ask("What did Ukrainian Foreign Minister Kuleba say after meeting Blinken in Kyiv?",
                            index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
    reply = "Peskov said Putin would travel to Beijing in February [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("佩斯科夫", reply), None))
    ans = rag.answering.ask("What did Kremlin spokesman Peskov say about Putin's travel plans?", index=sample_index,
                            llm="local")
    assert not ans.abstained and "Beijing" in ans.text and "佩斯科夫" in ans.citations[0].quote


def test_the_question_restated_for_a_kind_quotes_the_sentence_naming_it(sample_index, monkeypatch):
    """samples_qa a003-05: asked "Which anniversary...?", the model answered "Wang Yi said that the anniversary
    falls in 2020 [1]." - the question restated, with a citation. The answer quotes the cited passage's
    sentence that names the anniversary (75周年)."""
    import rag.answering

    reply = "Wang Yi said that the anniversary falls in 2020 [{n}]."
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("75周年", reply), None))
    ans = rag.answering.ask("Which anniversary did Wang Yi say falls in 2020?", index=sample_index, llm="local")
    assert ans.llm == "extractive" and "citation without an answer" in ans.fallback
    assert not ans.abstained and "75周年" in ans.text and "75周年" in ans.citations[0].quote


def test_a_claim_is_cited_to_the_article_about_the_questions_names(sample_index, monkeypatch):
    """holdout3 k-01: asked about the Geneva talks, the model cited Al Jazeera's report of a phone call between
    the same ministers, which never names Geneva. The claim is checked against, and cited to, the passages of
    articles that name Geneva: the Xinhua report on the Geneva talks says the same."""
    import rag.answering

    reply = ("Besides the situation in Ukraine, Blinken and Lavrov discussed issues of concern to Russia related "
             "to NATO's expansion and Russian security [{n}].")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("通话中", reply), None))
    ans = rag.answering.ask("Besides the situation in Ukraine, which issues of concern to Russia did Blinken and "
                            "Lavrov discuss at their Geneva talks in January 2022?", index=sample_index, llm="local")
    assert not ans.abstained and "NATO's expansion" in ans.text
    assert [c.doc_id for c in ans.citations] == [GENEVA] and "北约东扩" in ans.citations[0].quote


@pytest.mark.parametrize("reply, abstains", [
    ("The city of Pokrovsk is a coal mining center in Ukraine, with rich coal resources near it [{n}].", True),
    ("72 [{n}].", False)])
def test_a_how_many_question_needs_a_number_in_its_answer(sample_index, monkeypatch, reply, abstains):
    """holdout4 mu-07 (unanswerable): "How many tonnes of coking coal...?" was answered with what Pokrovsk is
    known for, and no number: an abstention. A count stands."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("波克罗夫斯克", reply), None))
    question = "How many Russian assaults did the Ukrainian army stop in Pokrovsk in one day?"
    if abstains:
        question = "How many tonnes of coking coal are mined near Pokrovsk each year?"
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert ans.abstained is abstains
    if not abstains:
        assert "72" in ans.text and "72次" in ans.citations[0].quote


def test_an_english_question_whose_best_sentence_scores_low_across_languages_is_put_to_the_model(sample_index):
    """holdout h-02: the sentence with the answer (斯托尔滕贝格在柏林...) scores 0.796 against the English
    question, the best one 0.799, under the English threshold of 0.81: every backend abstained. Now the
    model is asked from 0.79, and answered "... in Berlin [1]"."""
    from rag.answering import MODEL_MIN_SCORE, _answerable
    from rag.extractive import rank_sentences
    from rag.prompting import build_passages

    question = "In which German city did Stoltenberg hold a press conference with the chancellor?"
    hits = sample_index.search(question, k=12)
    vector = sample_index.embed_answer_query(question)
    passages = build_passages(hits, [sample_index.sentence_vectors(h.chunk_id) for h in hits], vector, 600)
    ranked = rank_sentences(question, vector, passages)
    assert any("柏林" in c.text for c in ranked[:3])
    assert _answerable(ranked, passages, vector, "en", sample_index.config, MODEL_MIN_SCORE)
    # the extractive backend, which cannot tell its best sentence (双方在会谈结束后各自举行记者会) is wrong, abstains
    assert not _answerable(ranked, passages, vector, "en", sample_index.config)
    assert rag.ask(question, index=sample_index, llm="extractive").abstained
    # a question about nothing the articles hold stays below it
    question = "What is the boiling point of water at sea level?"
    vector = sample_index.embed_answer_query(question)
    hits = sample_index.search(question, k=12)
    passages = build_passages(hits, [sample_index.sentence_vectors(h.chunk_id) for h in hits], vector, 600)
    ranked = rank_sentences(question, vector, passages)
    assert not _answerable(ranked, passages, vector, "en", sample_index.config, MODEL_MIN_SCORE)


def test_a_person_with_another_role_than_the_asked_one_is_an_abstention(sample_index, monkeypatch):
    """holdout2 gu-08 (unanswerable): "宣布俄军控制红军城的俄罗斯国防部长是谁？" was answered "普京[1]", whom the
    cited sentence titles 俄总统. The same answer to who invited the journalists stands."""
    import rag.answering

    model = _PointingModel("普京", "普京[{n}]")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("宣布俄军控制红军城的俄罗斯国防部长是谁？", index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
    ans = rag.answering.ask("谁邀请外国记者访问红军城？", index=sample_index, llm="local")
    assert not ans.abstained and ans.text.startswith("普京") and "普京" in ans.citations[0].quote


KYIV_WEDNESDAY = ("布林肯计划以访问基辅开始他的访问之旅，他将于周三在基辅会见乌克兰总统泽连斯基"
                  "和乌克兰外长德米特罗·库莱巴，“以确认美国对乌克兰主权和领土完整的承诺。”")
GENEVA_BYLINE = ("新华社日内瓦1月21日电 美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈,"
                 "就美方关切的乌克兰局势以及俄方关切的北约东扩和俄安全保障等问题交换意见。")


@pytest.mark.parametrize("question, sentence, span", [
    ("布林肯计划哪天在基辅会见泽连斯基？", KYIV_WEDNESDAY, "周三"),  # holdout h-10: the model had said 2022年1月19日
    ("In which hotel in Geneva did Blinken and Lavrov meet?", GENEVA_BYLINE, None),  # samples_qa u-02
    ("How much military aid did Blinken promise Ukraine during his visit to Kyiv?", GENEVA_BYLINE, None),  # u-10
])
def test_the_second_look_picks_the_answer_out_of_one_sentence_or_none(sample_index, question, sentence, span):
    from rag.answering import second_look
    from rag.llm import chat_model

    picked = second_look(chat_model(sample_index.config, "local"), question, sentence)
    assert picked == span or (span is not None and picked is not None and span in picked and picked in sentence)


class _NotFoundModel:
    """Fault injection: NOT FOUND to the answering prompt, `span` to the second look's."""

    def __init__(self, span):
        self.span, self.asked = span, []

    def stream(self, messages):
        from langchain_core.messages import AIMessageChunk

        self.asked.append(messages[-1][1])
        yield AIMessageChunk(content=self.span if messages[-1][1].startswith("句子：") else "NOT FOUND")


@pytest.mark.parametrize("span, quoted", [("周三", True), ("“周三”。", True), ("无", False), ("星期四", False)])
def test_an_answer_found_only_by_the_second_look_quotes_the_sentence_visibly(sample_index, monkeypatch, span,
                                                                             quoted):
    """The model gave up on the whole prompt; shown the best sentence alone it picks out words of it (quoted,
    with the reason in `fallback`), none (无: the abstention stands), or words the sentence lacks (星期四: the
    abstention stands too)."""
    import rag.answering

    model = _NotFoundModel(span)
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("布林肯计划哪天在基辅会见泽连斯基？", index=sample_index, llm="local")
    assert len(model.asked) == 2 and "周三" in model.asked[1] and "哪天" in model.asked[1]
    if quoted:
        assert not ans.abstained and ans.llm == "extractive" and "“周三”" in ans.fallback
        assert "周三" in ans.text and "周三" in ans.citations[0].quote and "second_look_s" in ans.timings
    else:
        assert ans.abstained and not ans.citations and ans.fallback is None


@pytest.mark.parametrize("question, span, quoted", [
    # holdout12 vu-08 (unanswerable): the pick is what the question itself names
    ("乌方称在波克罗夫斯克一天内阻止了俄军72次突击，完成这些防御的是乌军哪支部队？", "乌军", False),
    # holdout12 vu-03 (unanswerable): a date is asked, the pick is none
    ("On what date were the US-Ukraine talks in Geneva that produced the 20-point document held?", "20点", False),
    # holdout9 r-03: "when he phoned" does not ask for a date
    ("What was Wang Yi's job title when he phoned Lavrov in April 2017?", "外交部长", True),
    # holdout16 zu-03 (unanswerable): the day asked about is the day the question gives
    ("On what date did the chemical weapons incident in Syria that Wang Yi referred to in his April 14, 2017 "
     "phone call with Lavrov occur?", "2017年4月14日", False),
])
def test_a_second_look_pick_must_be_new_and_of_the_asked_kind(sample_index, monkeypatch, question, span, quoted):
    import rag.answering

    model = _NotFoundModel(span)
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert len(model.asked) == 2 and model.asked[1].startswith("句子：")
    assert ans.abstained is not quoted
    assert (span in ans.citations[0].quote and f"“{span}”" in ans.fallback) if quoted else ans.fallback is None


@pytest.mark.parametrize("question, full_name", [
    ("In the Al Jazeera report, what is the first name of Ukrainian Foreign Minister Kuleba?", "德米特罗·库莱巴"),
    ("What is Secretary of State Blinken's first name as given in the Al Jazeera report?", "安东尼·布林肯"),
    ("What is the first name of Russian presidential aide Ushakov?", None),  # 乌沙科夫: never written in full
])
def test_asked_for_a_first_name_the_sentence_writing_the_name_in_full_is_quoted(sample_index, monkeypatch,
                                                                               question, full_name):
    """holdout11 t-03, holdout12 v-03: the model wrote "Kuleba" or NOT FOUND; the extractive backend too quotes
    the sentence with the full name."""
    import rag.answering

    model = _NotFoundModel("无")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    if full_name is None:
        assert ans.abstained and not ans.citations
        return
    assert not ans.abstained and full_name in ans.citations[0].quote and "first name" in ans.fallback
    assert full_name in rag.answering.ask(question, index=sample_index, llm="extractive").citations[0].quote


def test_a_quote_withdrawn_by_the_later_checks_says_so_in_the_fallback(sample_index, monkeypatch):
    """The chat UI showed "it picked out “莫斯科”: the sentence is quoted" above an abstention: the second look's
    quote, from the Wang Yi report, was then withdrawn because that article never names Baerbock. The fallback
    now says that the quote was withdrawn, and why."""
    import rag.answering

    model = _NotFoundModel("莫斯科")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("In which city did Baerbock and Lavrov hold their joint press conference?",
                            index=sample_index, llm="local")
    assert len(model.asked) == 2 and ans.abstained and not ans.citations
    assert "“莫斯科”" in ans.fallback and "withdrawn (its article never names Baerbock)" in ans.fallback


def test_no_second_look_below_the_extractive_bar(sample_index, monkeypatch):
    """samples_qa u-08 (unanswerable): its best sentence (about Pokrovsk, typed by its number) scores 0.807, enough
    to ask the model (`MODEL_MIN_SCORE`) but under the extractive bar (0.81): no second look."""
    import rag.answering

    model = _NotFoundModel("72次")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("What is the population of Pokrovsk?", index=sample_index, llm="local")
    assert ans.abstained and len(model.asked) == 1 and not model.asked[0].startswith("句子：")


def test_a_besides_question_answered_with_the_one_it_sets_aside_is_an_abstention(sample_index, monkeypatch):
    """holdout7 pu-07 (unanswerable): asked whom else Wang Yi met besides Lavrov, the model answered 拉夫罗夫."""
    import rag.answering

    model = _SlippingModel(["拉夫罗夫[1]", "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("王毅2020年9月在莫斯科期间，除拉夫罗夫外还会见了哪些俄罗斯领导人？", index=sample_index,
                            llm="local")
    assert model.asked and ans.abstained and not ans.citations
    # without "besides" the same name answers
    model = _SlippingModel(["拉夫罗夫[1]", "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("王毅2020年9月在莫斯科同哪位俄罗斯外长举行会谈？", index=sample_index, llm="local")
    assert not ans.abstained and "拉夫罗夫" in ans.text and ans.llm == "local"


@pytest.mark.parametrize("reply, kept", [
    ("防止半岛生战生乱，符合中俄的共同利益[1]。", False),  # holdout8 q-08: the sentence before the one it copies
    ("紧密配合[1]。", True),
])
def test_a_question_copying_a_sentence_gets_the_words_where_it_asks(sample_index, monkeypatch, reply, kept):
    """The question copies 中方愿同俄方紧密配合,促使半岛局势尽快降温 with 怎样 for 紧密 (`rag.cloze`): an answer
    without those words gives way, visibly, to the quoted clause; an answer with them stands."""
    import rag.answering

    model = _SlippingModel([reply, "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("2017年4月通电话时，王毅表示中方愿同俄方怎样配合，促使朝鲜半岛局势尽快降温？",
                            index=sample_index, llm="local")
    assert not ans.abstained and "紧密" in ans.text and ans.citations
    if kept:
        assert ans.llm == "local" and ans.fallback is None and ans.text.startswith("紧密配合")
    else:
        assert ans.llm == "extractive" and "“紧密”" in ans.fallback and "中方愿同俄方紧密配合" in ans.text
        assert "紧密配合" in ans.citations[0].quote and ans.citations[0].date == "2017-04-15"


def test_the_gap_also_answers_when_the_model_gives_up(sample_index):
    """holdout8 q-14 with the real model: it said 资料中没有相关信息, though the question copies the sentence."""
    import rag

    ans = rag.ask("普京说俄罗斯无意与欧洲开战，但已经做好了在什么时候应对欧洲发动战争的准备？", index=sample_index,
                  llm="local")
    assert not ans.abstained and "现在" in ans.text and "现在" in ans.citations[0].quote


def test_the_extractive_backend_quotes_the_gap_clause_too(sample_index):
    """samples holdout5 n-11: the extractive backend had quoted the dateline of the article."""
    import rag

    ans = rag.ask("2020年9月在莫斯科与王毅会谈时，拉夫罗夫称个别国家以什么为借口对他国进行打压？",
                  index=sample_index, llm="extractive")
    assert not ans.abstained and "以维护国家安全为借口" in ans.text and ans.fallback is None


@pytest.mark.parametrize("question, answer, echoed", [
    # holdout8 qu-03 (unanswerable): the names of the question in full, with titles, and no official named
    ("Which Ukrainian officials did German Foreign Minister Baerbock meet during her visit to Kyiv before her "
     "talks with Lavrov?", "German Foreign Minister Anna Leander Baerbock met Ukrainian officials during her visit "
     "to Kyiv before her talks with Russian Foreign Minister Sergey Lavrov [1].", True),
    # a name after the question's title is the answer
    ("Who is the NATO Secretary General who issued a statement?", "NATO Secretary General Mark Rutte issued a "
     "statement [1].", False),
    ("Which Ukrainian officials did Blinken meet in Kyiv?", "Blinken met Ukrainian President Volodymyr Zelensky in "
     "Kyiv [1].", False),
    # holdout11 t-09: "aims" is the question's "aim"
    ("According to Wang Yi, what does China's Global Data Security Initiative aim to advance jointly with all "
     "parties?", "According to Wang Yi, China's Global Data Security Initiative aims to advance jointly with all "
     "parties [1].", True),
    # holdout15 y-08: "have ... been done" restates "what has ... been done"
    ("According to Ukrainian Foreign Minister Sybiha, what has already been done with some of the most sensitive "
     "issues in the document, pending a final decision by leaders?", "According to Ukrainian Foreign Minister "
     "Sybiha, some of the most sensitive issues in the document have already been done, pending a final decision "
     "by leaders [1].", True),
])
def test_an_answer_restating_the_question_names_in_full_is_an_echo(question, answer, echoed):
    from rag.answering import echoes_question

    assert echoes_question(question, answer) is echoed


@pytest.mark.parametrize("question, reply, quoted", [
    # holdout13 wu-07 (unanswerable): a name the question gives, with a citation, is no pointer to the answer
    ("Who was NATO's Secretary General in 2003, when Colin Powell missed a NATO foreign ministers' meeting?",
     "Colin Powell [1]", False),
    # holdout11 t-15: the question's own 俄罗斯 is no answer; the clause the question copies is quoted instead
    ("普京称，欧洲试图借修改和平计划把什么责任推卸给俄罗斯？", "俄罗斯[1]", True),
    # a choice the question offers is an answer
    ("美俄外长会谈在日内瓦还是莫斯科举行？", "日内瓦[1]", True),
])
def test_an_answer_naming_only_what_the_question_names_is_no_answer(sample_index, monkeypatch, question, reply,
                                                                     quoted):
    import rag.answering

    model = _SlippingModel([reply, "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert ans.abstained is not quoted
    if quoted and reply.startswith("俄罗斯"):
        assert "和平进程崩溃" in ans.text and "the question copies a sentence" in ans.fallback
    elif quoted:
        assert ans.text.startswith("日内瓦") and ans.fallback is None


@pytest.mark.parametrize("question, reply", [
    # holdout13 wu-01 (unanswerable): "National Stadium" restated "stadium"; the sentence names no stadium
    ("In which stadium was the opening ceremony of the Beijing Winter Olympics that Putin was scheduled to attend "
     "on February 4 held?", "The opening ceremony of the Beijing Winter Olympics that Putin was scheduled to attend "
     "on February 4 was held at the National Stadium. [1]"),
    # holdout8 qu-03 (unanswerable): no 官员 in the sentence of Baerbock's talks
    ("Which Ukrainian officials did German Foreign Minister Baerbock meet during her visit to Kyiv before her talks "
     "with Lavrov?", "German Foreign Minister Anna Leander Baerbock met Ukrainian officials during her visit to Kyiv "
     "before her talks with Russian Foreign Minister Sergey Lavrov. [1]"),
])
def test_a_restated_which_kind_question_over_a_sentence_naming_no_such_kind_abstains(sample_index, monkeypatch,
                                                                                     question, reply):
    import rag.answering

    model = _SlippingModel([reply, "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert ans.abstained and not ans.citations and ans.fallback is None


def test_asked_for_a_german_official_an_answer_naming_ukrainians_abstains(sample_index, monkeypatch):
    """holdout6 ou-06 (unanswerable): the Al Jazeera report says whom Blinken meets in Kyiv, not in Berlin."""
    import rag.answering

    model = _SlippingModel(["布林肯计划会见乌克兰总统泽连斯基和乌克兰外长德米特罗·库莱巴[1]。", "无"])
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("布林肯在德国计划会见哪位德国官员？", index=sample_index, llm="local")
    assert model.asked and ans.abstained and not ans.citations


@pytest.mark.parametrize("question, answer, lacking", [
    ("俄罗斯去年12月提出的两份安全保障协议草案具体是在12月几号公布的？", "2022年12月 [1]", True),  # holdout10 su-05
    ("布林肯哪天会见泽连斯基？", "周三[1]", False),
    ("布林肯和拉夫罗夫是哪一天在日内瓦会谈的？", "1月21日[1]", False),
    ("On what date did Blinken and Lavrov meet in Geneva?", "In January 2022 [1].", True),
    ("On what date did Blinken and Lavrov meet in Geneva?", "On January 21 [1].", False),
    ("Which day did the delegation visit Moscow?", "On the 2nd [1].", False),
    ("When did Blinken and Lavrov meet?", "In January 2022 [1].", False),  # "when" asks no day
])
def test_a_question_asking_for_the_day_needs_a_day_in_its_answer(question, answer, lacking):
    from rag.answering import lacks_the_day

    assert lacks_the_day(question, answer) is lacking


def test_the_month_the_question_gives_does_not_answer_which_day(sample_index, monkeypatch):
    """holdout10 su-05 (unanswerable): the Geneva report says the drafts were published last December, not on
    which day; the model answered 2022年12月, which the check of the answer's words and citation lets through."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("安全保障协议草案", "2022年12月[{n}]"), None))
    ans = rag.answering.ask("俄罗斯去年12月提出的两份安全保障协议草案具体是在12月几号公布的？", index=sample_index,
                            llm="local")
    assert ans.abstained and not ans.citations


def test_an_english_question_is_translated_by_the_local_model(sample_index):
    from rag.answering import chinese_question
    from rag.llm import chat_model

    timings = {}
    translation = chinese_question(chat_model(sample_index.config, "local"),
                                   "How long did the talks between Blinken and Lavrov in Geneva last?", timings)
    assert translation and "日内瓦" in translation and re.search("多长时间|多久", translation)
    assert not re.search(r"[A-Za-z]", translation) and timings["translate_question_s"] > 0


@pytest.mark.parametrize("question, translation, evidence", [
    # holdout10 s-12: ranked 4th without the translation (the model read three other sentences)
    ("According to Lavrov, what are certain countries constantly politicising?",
     "根据拉罗夫的说法，哪些国家经常政治化？", "政治化"),
    # holdout10 s-01: 4th without it, the model saw the talks of January 10-13 and gave up
    ("To whom did Russia present and publish its two draft security guarantee agreements last December?",
     "俄罗斯去年12月向谁提出并公布了两份安全保障协议草案？", "安全保障协议草案"),
])
def test_an_english_questions_translation_ranks_its_answer_first(sample_index, question, translation, evidence):
    """The translations are the local model's own, as `chinese_question` gave them in the memoized runs."""
    from rag.answering import CANDIDATE_HITS, ranked_with_translation
    from rag.extractive import rank_sentences
    from rag.prompting import build_passages

    hits = sample_index.search(question, k=CANDIDATE_HITS)
    vector = sample_index.embed_answer_query(question)
    views = [sample_index.sentence_vectors(h.chunk_id) for h in hits]

    def best(translated):
        if translated:
            return ranked_with_translation(sample_index, question, translation, hits, vector, sample_index.config,
                                           None, None)[0].text
        passages = build_passages(hits, views, vector, sample_index.config.prompt_chars)
        return rank_sentences(question, vector, passages)[0].text

    assert evidence not in best(False)
    assert evidence in best(True)


def test_a_failing_backend_fails_once_at_the_translation(sample_index, monkeypatch):
    """The translation is the first call for an English question: a backend that fails there answers
    extractively, visibly, without being asked (and waited for) again."""
    import rag.answering

    class Failing:
        calls = 0

        def stream(self, messages):
            Failing.calls += 1
            raise ConnectionError("connection refused")

    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (Failing(), None))
    monkeypatch.setattr(rag.answering, "TRANSLATE_BELOW_MARGIN", 1.0)  # however sure the English ranking is
    ans = rag.answering.ask("How long did the Geneva talks last?", index=sample_index, llm="local",
                            config=sample_index.config.with_overrides(rank_in_chinese=True))
    assert Failing.calls == 1 and ans.llm == "extractive" and "local backend failed" in ans.fallback
    assert not ans.abstained and "90分钟" in ans.citations[0].quote


def test_an_answer_about_the_talks_of_another_day_is_an_abstention(sample_index, monkeypatch):
    """holdout8 qu-05 (unanswerable): asked where the dialogues of January 10-13 were held, the model answered
    Switzerland from the Geneva talks of the 21st; the sentence on January 10-13 names no place."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "TRANSLATE_BELOW_MARGIN", 1.0)  # translated, as it was when found
    ranked_in_chinese = sample_index.config.with_overrides(rank_in_chinese=True)
    model = _PointingModel("瑞士日内瓦", "Switzerland [{n}]", "俄罗斯和北约在哪个城市举行了一次1月10日至13日的对话？")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("In which city were the January 10-13 dialogues between Russia and NATO held?",
                            index=sample_index, llm="local", config=ranked_in_chinese)
    assert ans.llm == "local" and ans.abstained and not ans.citations
    model = _PointingModel("瑞士日内瓦", "Geneva [{n}]", "布林肯和拉夫罗夫1月21日在哪个城市会面？")
    ans = rag.answering.ask("In which city did Blinken and Lavrov meet on January 21?", index=sample_index,
                            llm="local", config=ranked_in_chinese)
    assert ans.llm == "local" and not ans.abstained and "Geneva" in ans.text


def test_the_translation_is_asked_only_when_the_english_ranking_is_close(sample_index, monkeypatch):
    """A question whose best sentence stands out is not translated: the extra call costs ~2 s."""
    import rag.answering

    asked = []
    real = rag.answering.chinese_question
    monkeypatch.setattr(rag.answering, "chinese_question", lambda *a, **k: asked.append(a[1]) or real(*a, **k))
    config = sample_index.config.with_overrides(rank_in_chinese=True)
    for question in ("How long did Lavrov's talks with Blinken in Geneva last?",
                     "According to Lavrov, what are certain countries constantly politicising?"):
        rag.answering.ask(question, index=sample_index, llm="local", config=config)
    assert asked == ["According to Lavrov, what are certain countries constantly politicising?"]
    rag.answering.ask("What is the capital of France?", index=sample_index, llm="local", config=config)
    assert len(asked) == 1  # an abstention without the model is not translated either


def test_a_place_from_a_clause_about_something_else_is_an_abstention(sample_index, monkeypatch):
    """holdout10 su-07 (unanswerable): the report never says in which city the US delegation met the Russians
    on the 2nd; the model answered 库皮扬斯克, the town Putin invited foreign journalists to that day."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("库皮扬斯克", "库皮扬斯克[{n}]"), None))
    ans = rag.answering.ask("2日美国代表团是在俄罗斯哪座城市同俄方举行“和平计划”会谈的？", index=sample_index,
                            llm="local")
    assert ans.abstained and not ans.citations
    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("瑞士日内瓦", "日内瓦[{n}]"), None))
    ans = rag.answering.ask("美俄外长在哪里会谈？", index=sample_index, llm="local")
    assert not ans.abstained and "日内瓦" in ans.text


def test_a_first_name_cut_short_quotes_the_sentence_writing_it_in_full(sample_index, monkeypatch):
    """holdout14 x-04: asked for Baerbock's first name, the model wrote "Anna" for 安娜莱娜; the sentence with
    the whole name is quoted instead."""
    import rag.answering
    from rag.extractive import gives_the_first_name

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("贝尔伯克", "Anna [{n}]"), None))
    question = "What is the first name of German Foreign Minister Baerbock as given in the Al Jazeera report?"
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert not ans.abstained and ans.llm == "extractive" and "whole first name" in ans.fallback
    assert "安娜莱娜·贝尔伯克" in ans.citations[0].quote
    sentence = ans.citations[0].quote
    assert [gives_the_first_name(answer, question, sentence) for answer in ("Anna", "Annalena", "Lavrov")] == [
        False, True, False]


def test_a_chinese_answer_restating_the_question_around_its_answer_stands(sample_index, monkeypatch):
    """holdout14 x-15: "尚月认为，普京此番表态意在进一步警告和威慑欧洲。" restates the question but adds 欧洲,
    which the passage holds; it had been taken for an echo and withdrawn. The bare restatement still is one."""
    import rag.answering

    question = "尚月认为，普京此番表态意在进一步警告和威慑哪一方？"
    for reply, stands in (("尚月认为，普京此番表态意在进一步警告和威慑欧洲[{n}]。", True),
                          ("尚月认为，普京此番表态意在进一步警告和威慑[{n}]。", False)):
        model = _PointingModel("威慑欧洲", reply)
        monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend, model=model: (model, None))
        ans = rag.answering.ask(question, index=sample_index, llm="local")
        assert (not ans.abstained and ans.llm == "local" and "欧洲" in ans.text) if stands else "欧洲" not in ans.text


def test_a_quoted_name_in_the_sentence_before_the_cited_one_counts(sample_index, monkeypatch):
    """holdout14 x-10: the question quotes “全球数据安全倡议”; the answering sentence calls it 中方提出的倡议, the
    sentence before names it. The answer had been withdrawn ("its sentence does not say ...")."""
    import rag.answering

    monkeypatch.setattr(rag.answering, "_load_model",
                        lambda config, backend: (_PointingModel("数据安全领域国际准则", "数据安全领域[{n}]"), None))
    question = "2020年9月莫斯科会谈中，拉夫罗夫认为中方的“全球数据安全倡议”有利于推进哪个领域国际准则的制定？"
    ans = rag.answering.ask(question, index=sample_index, llm="local")
    assert not ans.abstained and "数据安全" in ans.text and "中方提出的倡议" in ans.citations[0].quote


def test_an_acronym_the_article_writes_in_full_is_named_by_it(sample_index, monkeypatch):
    """holdout14 x-09: "SCO" is 上合 in CC-CEDICT, 上海合作组织 in the article; the right answer had been
    withdrawn ("its article never names SCO"); and "China-Russia-India", a word of the question, had made the
    claim's words too many to be checked one by one."""
    import rag.answering

    reply = ("The SCO and China-Russia-India meetings sent a clear signal of upholding multilateralism and the "
             "authority of international law [{n}].")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (_PointingModel("国际法", reply), None))
    ans = rag.answering.ask("At the September 2020 Moscow talks, Wang Yi said the SCO and China-Russia-India meetings "
                            "sent a clear signal of upholding multilateralism and the authority of what?",
                            index=sample_index, llm="local")
    assert not ans.abstained and "international law" in ans.text and "国际法" in ans.citations[0].quote


def test_a_negated_answer_needs_a_negation_in_its_source(sample_index, monkeypatch):
    """holdout15 y-06: asked what Russia and the US did for the first time on the peace plan, the model answered
    that they "did not discuss" it, citing the sentence on that very talk, which negates nothing."""
    import rag.answering

    model = _PointingModel("美代表团访俄", 'According to the Russian side, Russia and the US did not discuss the '
                                      '"peace plan" during their talks on the 2nd.')  # its words, no marker
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask('According to the Russian side, what did Russia and the US do for the first time on '
                            'the "peace plan" during their talks on the 2nd?', index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
    # the same answer stands where its source says no: "无意" is "no intention"
    model = _PointingModel("无意与欧洲开战", "Russia has no intention of going to war with Europe [{n}].")
    ans = rag.answering.ask("What did Putin say Russia has no intention of doing with Europe?", index=sample_index,
                            llm="local")
    assert not ans.abstained and "no intention" in ans.text


def test_an_invented_name_after_an_initial_is_caught(sample_index, monkeypatch):
    """holdout16 zu-01 (unanswerable): asked who led the US side in the dialogues of January 10-13, the model
    named "John F. Kerry", whom no article names. Split after "F.", the claim began with "Kerry", which the name
    checks took for a capitalized first word; it went through, re-cited."""
    import rag.answering

    model = _PointingModel("欧洲安全与合作组织", "The US delegation led by Secretary of State John F. Kerry "
                                            "participated in the dialogue with Russia held between January 10 and "
                                            "13. [{n}]")
    monkeypatch.setattr(rag.answering, "_load_model", lambda config, backend: (model, None))
    ans = rag.answering.ask("Who led the US delegation in the dialogue with Russia held between January 10 and 13, "
                            "before the Blinken-Lavrov meeting in Geneva?", index=sample_index, llm="local")
    assert ans.abstained and not ans.citations
