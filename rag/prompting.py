"""Hits -> numbered passages -> chat messages for the answering model.

Prompt tokens dominate latency on 2 CPU cores (~60 tokens/s before the first generated token, ~18 tokens/s
after), so the model sees only the few sentences the extractive ranker puts first (`focus_passages`), each
under its passage's number, title and date; citations still resolve to, and are checked against, the
whole passage.

>>> from rag.schema import Hit
>>> import numpy as np
>>> p = Passage(1, Hit("a#0", "a", "美俄外长会谈", "2022-01-24", "新华社", "会谈持续了约90分钟。", 1.0),
...             "会谈持续了约90分钟。", ["会谈持续了约90分钟。"], np.ones((1, 2)))
>>> print(format_passage(p))
[1] 《美俄外长会谈》 2022-01-24
会谈持续了约90分钟。
"""

from __future__ import annotations

import numpy as np

from rag.citations import Passage
from rag.extractive import ExtractedSentence
from rag.schema import Hit

ABSTAIN = {"zh": "资料中没有相关信息。", "en": "The articles don't say."}

# One system prompt for both languages: llama.cpp reuses the cached computation of an identical prefix.
# Worded so that the 1.5B model answers English questions over Chinese sources instead of giving up:
# "NOT FOUND only when no source is about the question" (an earlier "if the sources do not contain the
# answer" made it give up on most English questions).
SYSTEM = ("You are a news assistant. Read the numbered sources (Chinese news) and answer the question briefly, "
          "citing the source like [1]. When the question is in English, answer in English. Write NOT FOUND only "
          "when no source is about the question.")
NOT_FOUND = "NOT FOUND"

TRANSLATE = {"en": "Translate into English. Keep names, numbers and citation marks.\n{text}\nEnglish:",
             "zh": "翻译成中文，保留人名、数字和引用标记。\n{text}\n中文:"}

# The second look (`rag.answering.second_look`): one sentence, one question, the answer's own words or 无.
# In Chinese for both languages: the sentence is Chinese, and the 1.5B model picks Chinese words out of it
# far more reliably than it says yes or no ("是" to 44 of 49 candidate sentences, right or wrong).
SPAN = "句子：{sentence}\n问题：{question}\n从句子中摘出回答问题的原文词语。如果句子没有回答这个问题，只写“无”。"
NO_SPAN = "无"

# An English question in Chinese, for choosing the sentences the model sees (`rag.answering.chinese_question`).
TRANSLATE_QUESTION = "把这个英文问题翻译成中文，人名用中文通用译名，只写译文。\n{text}\n中文:"

QUESTION_LABEL = {"zh": ("资料", "问题", "用中文简短回答"), "en": ("Sources", "Question", "Answer in English")}


def select_sentences(sentences: list[str], vectors: np.ndarray, question_vector: np.ndarray,
                     budget: int) -> str:
    """The sentences most similar to the question, in reading order, within `budget` characters."""
    if not sentences:
        return ""
    order = np.argsort(-(vectors @ question_vector)) if len(vectors) == len(sentences) else range(len(sentences))
    chosen: list[int] = []
    used = 0
    for i in order:
        if chosen and used + len(sentences[i]) > budget:
            continue
        chosen.append(int(i))
        used += len(sentences[i])
        if used >= budget:
            break
    return "".join(sentences[i] for i in sorted(chosen))


def build_passages(hits: list[Hit], sentences_of: list[tuple[list[str], np.ndarray]], question_vector: np.ndarray,
                   budget_chars: int) -> list[Passage]:
    """Number the hits 1..n and cut each to its best sentences; `sentences_of` holds each hit's sentences and
    their vectors (`rag.index.Index.sentence_vectors`)."""
    passages = []
    per_passage = max(60, budget_chars // max(1, len(hits)))
    for n, (hit, (sentences, sentence_vectors)) in enumerate(zip(hits, sentences_of, strict=True), start=1):
        shown = select_sentences(sentences, sentence_vectors, question_vector, per_passage)
        passages.append(Passage(n, hit, shown, sentences, sentence_vectors))
    return passages


def focus_passages(ranked: list[ExtractedSentence], sentences: int) -> list[Passage]:
    """The passages of the `sentences` best-ranked sentences, renumbered 1..m, each showing only those sentences.

    Rank order: the 1.5B model leans on the first passages. A passage keeps all its sentences and vectors,
    so citations are still checked against the whole passage.
    """
    chosen: dict[int, tuple[Passage, list[int]]] = {}
    for candidate in ranked[:sentences]:
        chosen.setdefault(id(candidate.passage), (candidate.passage, []))[1].append(candidate.index)
    focused = []
    for n, (passage, indexes) in enumerate(chosen.values(), start=1):
        shown = "".join(passage.sentences[i] for i in sorted(indexes))
        focused.append(Passage(n, passage.hit, shown, passage.sentences, passage.vectors))
    return focused


def format_passage(passage: Passage) -> str:
    """`[n]`, the article's title and date, then the text. Each passage names its article, even right after
    another passage of the same article: leaving the repeat out saved ~4% of prompt time but changed 6 of 60
    answers on samples_qa, for the worse (one invented answer more)."""
    hit = passage.hit
    header = " ".join(x for x in (f"《{hit.title}》" if hit.title else None, hit.date) if x)
    return f"[{passage.n}] {header}\n{passage.text}"


def build_messages(question: str, passages: list[Passage], language: str) -> list[tuple[str, str]]:
    """(role, content) pairs: the fixed system prompt (cached by the runtime), then sources + question."""
    label_passages, label_question, label_answer = QUESTION_LABEL[language]
    body = "\n".join(format_passage(p) for p in passages)
    user = f"{label_passages}:\n{body}\n{label_question}: {question}\n"
    user += f"{label_answer}:"
    return [("system", SYSTEM), ("user", user)]


def build_span_messages(question: str, sentence: str) -> list[tuple[str, str]]:
    """Ask which words of `sentence` answer `question` (or 无): a short prompt of its own, no system prompt.

    >>> build_span_messages("布林肯哪天会见泽连斯基？", "他将于周三会见泽连斯基。")[0][1].splitlines()[0]
    '句子：他将于周三会见泽连斯基。'
    """
    return [("user", SPAN.format(sentence=sentence, question=question))]


def build_question_translation_messages(question: str) -> list[tuple[str, str]]:
    """Ask for an English `question` in Chinese: the same system prompt (its cached computation is reused).

    >>> build_question_translation_messages("How long did the talks last?")[1][1].splitlines()[1]
    'How long did the talks last?'
    """
    return [("system", SYSTEM), ("user", TRANSLATE_QUESTION.format(text=question))]


def build_translation_messages(answer: str, language: str) -> list[tuple[str, str]]:
    """Ask for `answer` in `language`: the same system prompt (its cached computation is reused), then the text.

    >>> build_translation_messages("持续了约90分钟[1]。", "en")[1][1].splitlines()[1]
    '持续了约90分钟[1]。'
    """
    return [("system", SYSTEM), ("user", TRANSLATE[language].format(text=answer))]
