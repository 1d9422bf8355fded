"""Hits -> numbered passages -> chat messages for the answering model.

Prompt tokens dominate latency on 2 CPU cores (~70-100 tokens/s before the first generated token),
so each passage is cut to the sentences most similar to the question (their vectors are already in
the index), within a total character budget; the title, date and source stay in the header.

>>> from rag.schema import Hit
>>> import numpy as np
>>> p = Passage(1, Hit("a#0", "a", "美俄外长会谈", "2022-01-24", "新华社", "会谈持续了约90分钟。", 1.0),
...             "会谈持续了约90分钟。", ["会谈持续了约90分钟。"], np.ones((1, 2)))
>>> print(format_passage(p))
[1] 《美俄外长会谈》 2022-01-24 新华社
会谈持续了约90分钟。
"""

from __future__ import annotations

import numpy as np

from rag.citations import Passage
from rag.schema import Hit

ABSTAIN = {"zh": "资料中没有相关信息。", "en": "The articles don't say."}

SYSTEM = {
    "zh": "你是新闻问答助手。根据给出的资料，用中文简短回答问题（一两句话），每句话后面标注所依据的资料编号，如[1]。"
          "答案通常就在资料里，请仔细查找；只有资料完全没有提到时，才回答：资料中没有相关信息。",
    "en": "You answer questions about Chinese news articles from the numbered passages. Answer in English in one or "
          "two short sentences and put the number of the passage you used after each sentence, like [1]. The "
          "answer is usually in the passages, so read them carefully; only if they do not mention it at all, "
          "reply: The articles don't say.",
}

QUESTION_LABEL = {"zh": ("资料", "问题", "回答"), "en": ("Passages", "Question", "Answer in English")}


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


def build_passages(hits: list[Hit], views: list[tuple[list[str], np.ndarray]], question_vector: np.ndarray,
                   budget_chars: int) -> list[Passage]:
    """Number the hits 1..n and cut each to its best sentences; `views` are the index's chunk views."""
    passages = []
    per_passage = max(60, budget_chars // max(1, len(hits)))
    for n, (hit, (texts, vectors)) in enumerate(zip(hits, views, strict=True), start=1):
        sentences, sentence_vectors = (texts[1:], vectors[1:]) if len(texts) > 1 else (texts, vectors)
        shown = select_sentences(sentences, sentence_vectors, question_vector, per_passage)
        passages.append(Passage(n, hit, shown, sentences, sentence_vectors))
    return passages


def format_passage(passage: Passage) -> str:
    hit = passage.hit
    header = " ".join(x for x in (f"《{hit.title}》" if hit.title else None, hit.date, hit.source) if x)
    return f"[{passage.n}] {header}\n{passage.text}"


def build_messages(question: str, passages: list[Passage], language: str,
                   reminder: str | None = None) -> list[tuple[str, str]]:
    """(role, content) pairs: a fixed system prompt (cached by the runtime) and the passages + question."""
    label_passages, label_question, label_answer = QUESTION_LABEL[language]
    body = "\n\n".join(format_passage(p) for p in passages)
    user = f"{label_passages}:\n{body}\n\n{label_question}: {question}\n"
    if reminder:
        user += f"{reminder}\n"
    user += f"{label_answer}:"
    return [("system", SYSTEM[language]), ("user", user)]
