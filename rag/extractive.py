"""The extractive backend: no LLM, the answer is the passage sentence that best answers the question.

Each sentence of the retrieved passages is scored by its embedding similarity to the question, how many
of the question's keywords (jieba tokens) it contains, whether it holds the kind of answer the question
asks for (a duration for "多久/how long", a number for "多少/how many", a date for "何时/when"), and the
rank of its passage:
    score = cosine + KEYWORD_WEIGHT * keyword share + ANSWER_TYPE_WEIGHT * type match + RANK_WEIGHT / rank.
The best sentence is the answer, cited; below `MIN_SCORE` the backend abstains. It is also the
fallback when an LLM fails, so it must never invent: it only ever quotes.

>>> template_answer("会谈持续了约90分钟。", "zh", "美俄外长会谈", "2022-01-24")
'据《美俄外长会谈》（2022-01-24）：会谈持续了约90分钟[1]。'
>>> template_answer("会谈持续了约90分钟。", "en", "美俄外长会谈", "2022-01-24")
'According to “美俄外长会谈” (2022-01-24), the article says: “会谈持续了约90分钟。” [1]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.citations import Passage
from vectorstore.keyword import tokenize

KEYWORD_WEIGHT = 0.15
ANSWER_TYPE_WEIGHT = 0.05
RANK_WEIGHT = 0.04
# (question pattern, what an answer sentence must contain)
ANSWER_TYPES = [
    (re.compile(r"多久|多长时间|how long", re.I),
     re.compile(r"\d+\s*(分钟|小时|个小时|天|周|个月|年)|[一两二三四五六七八九十半]+(分钟|小时|个小时|天|周|个月|年)|"
                r"minutes|hours|days|weeks")),
    (re.compile(r"多少|几[个次名份]|how many|how much", re.I),
     re.compile(r"\d|[一二两三四五六七八九十百千万亿]+[个次名份国]")),
    (re.compile(r"何时|什么时候|哪天|哪一天|几月|when|what date|what day", re.I),
     re.compile(r"\d+\s*[月日]|\d{4}\s*年|[上下本今去明]月|\d+日")),
]
# Below this score the backend abstains. English questions over Chinese text score lower (cross-lingual
# cosines sit around 0.76-0.83 where Chinese ones sit around 0.89-0.95); set on eval/datasets/samples_qa.jsonl.
# Scores of unanswerable on-topic questions overlap answerable ones: similarity alone cannot abstain well.
MIN_SCORE = {"zh": 0.97, "en": 0.81}


@dataclass
class ExtractedSentence:
    passage: Passage
    index: int
    score: float

    @property
    def text(self) -> str:
        return self.passage.sentences[self.index]


def best_sentence(question: str, question_vector: np.ndarray, passages: list[Passage]) -> ExtractedSentence | None:
    """The highest-scoring sentence over all passages (None when there are no sentences)."""
    keywords = set(tokenize(question))
    wanted = [answer for asks, answer in ANSWER_TYPES if asks.search(question)]
    best: ExtractedSentence | None = None
    for passage in passages:
        if not passage.sentences:
            continue
        cosines = passage.vectors @ question_vector
        for i, sentence in enumerate(passage.sentences):
            overlap = len(keywords & set(tokenize(sentence))) / len(keywords) if keywords else 0.0
            typed = any(pattern.search(sentence) for pattern in wanted)
            score = (float(cosines[i]) + KEYWORD_WEIGHT * overlap + ANSWER_TYPE_WEIGHT * typed
                     + RANK_WEIGHT / passage.n)
            if best is None or score > best.score:
                best = ExtractedSentence(passage, i, score)
    return best


def template_answer(sentence: str, language: str, title: str | None, date: str | None) -> str:
    """The quoted sentence, framed in the question's language, cited as [1]."""
    if language == "zh":
        prefix = (f"据《{title}》" if title else "据报道") + (f"（{date}）" if date else "")
        return f"{prefix}：{sentence.rstrip('。！？!?')}[1]。"
    where = " ".join(x for x in (f"“{title}”" if title else None, f"({date})" if date else None) if x)
    return f"According to {where or 'the article'}, the article says: “{sentence}” [1]"
