"""Follow-up questions -> standalone questions, before retrieval.

"他们在哪里见面？" after a turn about Blinken and Lavrov means nothing to a retriever on its own.
A follow-up (it has a pronoun or demonstrative, or is very short) is rewritten by the chat model
with a short prompt; without a model, or when the rewrite looks wrong, the previous user question is
prepended, which is what retrieval needs most.

>>> looks_like_follow_up("How long did it last?")
True
>>> looks_like_follow_up("How long did the Geneva talks between Blinken and Lavrov last?")
False
>>> standalone_question("会谈持续了多久？", [("美俄外长在哪里会谈？", "在瑞士日内瓦[1]。")])
'美俄外长在哪里会谈？ 会谈持续了多久？'
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.language import detect_language

_ANAPHORA_ZH = re.compile(r"他们|她们|它们|他|她|它|这次|那次|此次|该|这|那|其|上述|双方|此")
_ANAPHORA_EN = re.compile(r"\b(they|them|their|it|its|he|him|his|she|her|there|that|this|those|these|"
                          r"the meeting|the talks|the call)\b", re.I)

_MARKERS = re.compile(r"\[\d+\]")

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


def _history_text(history: list[tuple[str, str]], language: str, turns: int = 2) -> str:
    user, assistant = ("用户", "助手") if language == "zh" else ("User", "Assistant")
    lines = []
    for q, a in history[-turns:]:
        lines.append(f"{user}: {q}")
        answer = _MARKERS.sub("", a).strip()[:200]
        lines.append(f"{assistant}: {answer}")
    return "\n".join(lines)


def standalone_question(question: str, history: list[tuple[str, str]] | None,
                        rewrite: Callable[[str], str] | None = None) -> str:
    """The question to retrieve with. `rewrite(prompt) -> text` is a chat model call, or None."""
    if not history or not looks_like_follow_up(question):
        return question
    language = detect_language(question)
    fallback = f"{history[-1][0].strip()} {question.strip()}"
    if rewrite is None:
        return fallback
    try:
        prompt = REWRITE_PROMPT[language].format(history=_history_text(history, language), question=question)
        rewritten = rewrite(prompt).strip().splitlines()[0].strip() if rewrite else ""
    except Exception:  # a failing model must not lose the question; retrieval uses the fallback
        return fallback
    rewritten = re.sub(r"^(完整问题|Standalone question)\s*[:：]\s*", "", rewritten).strip("\"'“” ")
    if not rewritten or len(rewritten) > 3 * len(fallback) or detect_language(rewritten) != language:
        return fallback
    return rewritten
