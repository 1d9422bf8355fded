"""A Chinese question read as one of the passage's sentences with a gap: the sentence's words in the gap answer it.

Questions about an article often copy the sentence that answers them and put a question word where the answer
stood: "中方愿同俄方怎样配合，促使朝鲜半岛局势尽快降温？" for "中方愿同俄方紧密配合,促使半岛局势尽快降温".
The words right before the question word ("同俄方") and right after it ("配合") then stand in the sentence
around the answer ("紧密"). The 1.5B model misses such answers when they are not names or numbers (a manner,
a condition, an adverb of time): it answered that question with the sentence before it (holdout8 q-08).

`fill_gap` finds, over the given sentences, the longest such pair of anchors (the words before the question
word, at least one character, and after it, at least two, `MIN_ANCHORS` in all) with a short gap between them
and no clause break inside it; a question that ends in its question word ("...探讨加强合作的什么？") has its
gap after a longer anchor (`MIN_TAIL_ANCHOR`), up to the clause break. It only ever quotes: the answer is the
sentence's clause that holds the gap. Over the thirteen samples QA sets (2026-11), against every sentence of the
five articles, it fills a gap for 17 of the 161 Chinese questions, all answerable; the gap holds the expected
answer for 16, its clause for all 17.

>>> gap = fill_gap("王毅说今年以来两国经济社会生活正在怎样恢复？",
...                ["今年正值二战胜利和联合国成立75周年。", "两国经济社会生活正在有序恢复,两国的治理能力得到提升。"])
>>> gap.words, gap.clause, gap.sentence_index
('有序', '两国经济社会生活正在有序恢复', 1)
>>> fill_gap("普京说已经做好了在什么时候应对欧洲发动战争的准备？", ["但也做好了“现在”应对欧洲发动战争的准备。"]).words
'现在'
>>> fill_gap("欧洲试图把什么责任推卸给俄罗斯？", ["并希望通过这种方式将乌克兰和平进程崩溃的责任推卸给俄罗斯。"]).clause
'并希望通过这种方式将乌克兰和平进程崩溃的责任推卸给俄罗斯'
>>> fill_gap("谁宣布俄军控制了红军城？", ["俄罗斯国防部1日宣布,俄军已经控制顿涅茨克地区的红军城。"]) is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A question word, with a preposition that belongs to it ("在什么时候" asks for "现在", not for "在" + gap).
QUESTION_WORD = re.compile(r"(?:在|于)?(?:什么样的?|什么时候|什么|怎样|怎么样?|如何|哪一天|哪天|哪些|哪个|"
                           r"哪位|哪座|哪家|哪里|哪儿|哪|谁|多少|多久|几[个次名份点项位天日月年重]?)")
MIN_ANCHORS = 8  # characters of the question found around the gap, both sides together
MAX_ANCHOR = 12
MIN_TAIL_ANCHOR = 10  # with nothing after the question word, the words before it alone must be this long
MAX_GAP = 16
_CLAUSE_BREAK = re.compile(r"[，。,；;！？!?]")
_QUOTES = "“”‘’\"'「」『』"
# one character for another where both say the same: 把 and 将 before an object ("把什么责任推卸给" for
# "将...的责任推卸给", holdout11 t-15)
_SAME_WORD = str.maketrans("把", "将")


@dataclass(frozen=True)
class Gap:
    """The words of `sentences[sentence_index]` where the question has its question word, and their clause."""
    words: str
    clause: str
    sentence_index: int
    anchored: int  # characters of the question around the gap


def fill_gap(question: str, sentences: list[str]) -> Gap | None:
    """The best-anchored gap any of `sentences` leaves where `question` has its question word, or None."""
    asked = squeezed(question).rstrip("？?。").translate(_SAME_WORD)
    best: Gap | None = None
    for word in QUESTION_WORD.finditer(asked):
        starts = {word.start(), word.start() + (asked[word.start()] in "在于")}  # with and without the preposition
        for before, after in ((asked[:start], asked[word.end():]) for start in sorted(starts)):
            for index, sentence in enumerate(sentences):
                gap = _gap_in(before, after, squeezed(sentence), index)
                if gap and (best is None or gap.anchored > best.anchored):
                    best = gap
    return best


def _gap_in(before: str, after: str, sentence: str, index: int) -> Gap | None:
    """The gap with the longest anchors: a prefix of `after` (>= 2 characters) in `sentence`, and before it,
    with at most `MAX_GAP` characters and no clause break between, a suffix of `before` (>= 1)."""
    matched = sentence.translate(_SAME_WORD)  # the same length: its positions are the sentence's
    if not after:
        return _tail_gap_in(before, sentence, matched, index)
    best = None
    for right in range(min(len(after), MAX_ANCHOR), 1, -1):
        for found in re.finditer(re.escape(after[:right]), matched):
            for left in range(min(len(before), MAX_ANCHOR), 0, -1):
                start = matched.rfind(before[-left:], 0, found.start())
                if start < 0:
                    continue
                start += left
                words = sentence[start:found.start()].strip(_QUOTES)
                if (words and found.start() - start <= MAX_GAP and left + right >= MIN_ANCHORS
                        and not _CLAUSE_BREAK.search(words)) and (best is None or left + right > best.anchored):
                    best = Gap(words, _clause(sentence, start, found.start()), index, left + right)
        if best:
            return best  # a shorter right anchor only finds looser gaps
    return None


def _tail_gap_in(before: str, sentence: str, matched: str, index: int) -> Gap | None:
    """For a question ending in its question word ("...探讨加强合作的什么？"): the words after the longest suffix
    of `before` (>= `MIN_TAIL_ANCHOR` characters) up to the end of the sentence's clause, at most `MAX_GAP`."""
    for left in range(min(len(before), MAX_ANCHOR), MIN_TAIL_ANCHOR - 1, -1):
        found = matched.find(before[-left:])
        if found < 0:
            continue
        start = found + left
        end = _CLAUSE_BREAK.search(sentence, start)
        end = end.start() if end else len(sentence)
        words = sentence[start:end].strip(_QUOTES)
        if words and end - start <= MAX_GAP:
            return Gap(words, _clause(sentence, start, end), index, left)
        return None
    return None


def _clause(sentence: str, start: int, end: int) -> str:
    """The part of `sentence` between the clause breaks around [start, end)."""
    breaks_before = [m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, start)]
    after = _CLAUSE_BREAK.search(sentence, end)
    return sentence[breaks_before[-1] if breaks_before else 0:after.start() if after else len(sentence)]


def squeezed(text: str) -> str:
    """`text` without white space: scraped Chinese text breaks lines and spaces inside words."""
    return re.sub(r"\s+", "", text)
