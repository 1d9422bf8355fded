"""Follow-up questions -> standalone questions, before retrieval.

"他们在哪里见面？" after a turn about Blinken and Lavrov means nothing to a retriever on its own.
A follow-up (it has a pronoun or demonstrative, or is very short) is rewritten by the chat model
with a short prompt; without a model, or when the rewrite looks wrong, the previous turn (question and
answer) is prepended, which is what retrieval needs most.

>>> looks_like_follow_up("How long did it last?")
True
>>> looks_like_follow_up("How long did the Geneva talks between Blinken and Lavrov last?")
False
>>> standalone_question("会谈持续了多久？", [("美俄外长在哪里会谈？", "在瑞士日内瓦[1]。")])
'美俄外长在哪里会谈？ 在瑞士日内瓦。 会谈持续了多久？'

A rewrite is kept only when it adds something and still asks what the follow-up asked (the same question
words: the 1.5B model once turned "What did she and Lavrov discuss?" into "Who did ... meet with Lavrov?"):

>>> asks_the_same("What did she and Lavrov discuss?", "Who did Annalena Baerbock meet with Lavrov?")
False
>>> asks_the_same("拉夫罗夫怎么评价这个倡议？", "拉夫罗夫怎么评价全球数据安全倡议？")
True
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.language import detect_language

_ANAPHORA_ZH = re.compile(r"他们|她们|它们|他|她|它|这次|那次|此次|该|这|那|其|上述|双方|此")
_ANAPHORA_EN = re.compile(r"\b(they|them|their|it|its|he|him|his|she|her|there|that|this|those|these|"
                          r"the meeting|the talks|the call)\b", re.I)

_MARKERS = re.compile(r"\[\d+\]")
# Question words by what they ask for; synonyms share a kind ("什么" and "哪些" both ask "what").
_QUESTION_KINDS = {
    "what": r"\bwhat\b|\bwhich\b|什么|哪些|哪个|哪项|哪份|哪家|哪座|哪种",
    "who": r"\bwho\b|\bwhom\b|\bwhose\b|谁|哪位|何人",
    "where": r"\bwhere\b|哪里|哪儿|何地|何处", "when": r"\bwhen\b|何时|什么时候|哪天|哪年|几月|几号",
    "how long": r"\bhow long\b|多久|多长时间", "how many": r"\bhow (?:many|much)\b|多少|几个|几份|几次",
    "why": r"\bwhy\b|为什么|为何", "how": r"\bhow\b(?! long| many| much)|怎么|怎样|如何",
}
_QUESTION_KIND_PATTERNS = {kind: re.compile(pattern, re.I) for kind, pattern in _QUESTION_KINDS.items()}

REWRITE_PROMPT = {
    "zh": "把最后的追问改写成一个不依赖上文、意思完整的问题，只输出改写后的问题。\n\n"
          "{history}\n追问：{question}\n完整问题：",
    "en": "Rewrite the follow-up as one standalone question that needs no earlier context. "
          "Output only the question.\n\n{history}\nFollow-up: {question}\nStandalone question:",
}


def looks_like_follow_up(question: str) -> bool:
    """A pronoun/demonstrative, or a question too short to name its subject."""
    if detect_language(question) == "zh":
        han = sum(1 for ch in question if "\u4e00" <= ch <= "\u9fff")
        return bool(_ANAPHORA_ZH.search(question)) or han <= 10
    return bool(_ANAPHORA_EN.search(question)) or len(question.split()) <= 6


def asks_the_same(question: str, rewritten: str) -> bool:
    """Whether `rewritten` is worded differently from `question` and asks for the same kinds of thing."""
    def kinds(text: str) -> set[str]:
        return {kind for kind, pattern in _QUESTION_KIND_PATTERNS.items() if pattern.search(text)}

    def squeeze(text: str) -> str:
        return re.sub(r"[\W_]+", "", text).lower()

    return squeeze(rewritten) != squeeze(question) and kinds(question) == kinds(rewritten)


def _history_text(history: list[tuple[str, str]], language: str, turns: int = 2) -> str:
    user, assistant = ("用户", "助手") if language == "zh" else ("User", "Assistant")
    lines = []
    for q, a in history[-turns:]:
        lines.append(f"{user}: {q}")
        answer = _MARKERS.sub("", a).strip()[:200]
        lines.append(f"{assistant}: {answer}")
    return "\n".join(lines)


def context_prepended(question: str, history: list[tuple[str, str]]) -> str:
    """The follow-up after the previous turn: what retrieval gets when no good rewrite is at hand.

    The previous answer (its first 100 characters, markers removed) names what "they"/"it" refer to: on
    samples_qa it moved "会谈持续了多久？" after "...在瑞士日内瓦" to the Geneva article (hybrid doc R@1 of the
    follow-ups). The answering model is then asked the follow-up itself (two questions in one confuse it).

    >>> context_prepended("How long did it last?", [("Where did Blinken and Lavrov meet?", "In Geneva [1].")])
    'Where did Blinken and Lavrov meet? In Geneva. How long did it last?'
    """
    asked, answered = history[-1][0].strip(), _MARKERS.sub("", history[-1][1]).strip()[:100]
    answered = re.sub(r"\s+([.。])", r"\1", answered)
    return " ".join(x for x in (asked, answered, question.strip()) if x)


def standalone_question(question: str, history: list[tuple[str, str]] | None,
                        rewrite: Callable[[str], str] | None = None) -> str:
    """The question to retrieve with. `rewrite(prompt) -> text` is a chat model call, or None."""
    if not history or not looks_like_follow_up(question):
        return question
    language = detect_language(question)
    fallback = context_prepended(question, history)
    if rewrite is None:
        return fallback
    try:
        prompt = REWRITE_PROMPT[language].format(history=_history_text(history, language), question=question)
        rewritten = rewrite(prompt).strip().splitlines()[0].strip() if rewrite else ""
    except Exception:  # a failing model must not lose the question; retrieval uses the fallback
        return fallback
    rewritten = re.sub(r"^(完整问题|Standalone question)\s*[:：]\s*", "", rewritten).strip("\"'“” ")
    if (not rewritten or len(rewritten) > 3 * len(fallback) or detect_language(rewritten) != language
            or not asks_the_same(question, rewritten)):
        return fallback
    return rewritten
