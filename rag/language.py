"""Which language a text is in: Chinese ("zh") or English ("en"), by script.

A question is Chinese when Han characters make up at least 30% of its letters; short Latin names
inside a Chinese sentence ("NBC", "PURL") do not flip it, nor do Chinese names quoted in English.

>>> detect_language("How long did the Geneva talks last?")
'en'
>>> detect_language("美俄外长在哪里会谈？")
'zh'
>>> detect_language("What did NBC say about 阿尔贝克?")
'en'
>>> han_ratio("abc中文")
0.4
"""

from __future__ import annotations

import re

# each kind of quote or bracket up to its own closing mark: a quote may hold brackets ("“...电(记者张骁)当地...”")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」|『[^』]*』|《[^》]*》|\([^)]*\)|（[^）]*）")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def han_ratio(text: str) -> float:
    """Share of Han characters among letters (Han + Latin); 0.0 for text without letters."""
    han = sum(1 for ch in text if _is_han(ch))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return han / (han + latin) if han + latin else 0.0


def detect_language(text: str) -> str:
    """'zh' or 'en' (the two languages the project answers in)."""
    return "zh" if han_ratio(text) >= 0.3 else "en"


def is_in_language(answer: str, language: str) -> bool:
    """Whether `answer` reads as `language`, ignoring quoted passages and citation markers.

    An English answer may quote the Chinese source in quotes or brackets; outside them it must be English.

    >>> is_in_language('The talks lasted about 90 minutes [1].', "en")
    True
    >>> is_in_language('会谈持续了约90分钟 [1].', "en")
    False
    >>> is_in_language('The talks were held in 日内瓦 “日内瓦” [1].', "en")
    True
    >>> is_in_language('The article says: “莫斯科9月11日电(记者张骁)当地时间9月11日,王毅举行会谈。” [1]', "en")
    True

    Numbers and punctuation alone ("28[1]。") belong to no language, so they read as either.

    >>> is_in_language('28[1]。', "zh"), is_in_language('28 [1].', "en")
    (True, True)
    """
    unquoted = _unquoted(answer)
    if not re.search(r"[^\W\d_]", answer):  # no letter of any script
        return True
    ratio = han_ratio(unquoted)
    return ratio < 0.3 if language == "en" else ratio >= 0.3 or han_ratio(answer) >= 0.3


def slipped_chinese(answer: str) -> str:
    """The Han characters of an English `answer` outside quotes, brackets and citation markers: Chinese words
    the model slipped into an English sentence ("full of cold战思维"), which `is_in_language` lets pass while
    the rest is English. `rag.answering` has such an answer translated, and keeps the translation if it has none.

    >>> slipped_chinese("Lavrov said it is full of cold战思维 [1]."), slipped_chinese("Held in Geneva (日内瓦) [1].")
    ('战思维', '')
    """
    return "".join(ch for ch in _unquoted(answer) if _is_han(ch))


def _unquoted(answer: str) -> str:
    """`answer` without its quoted passages and citation markers."""
    return _QUOTED.sub(" ", re.sub(r"\[\d+\]", " ", answer))
