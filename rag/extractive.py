"""The extractive backend: no LLM, the answer is the passage sentence that best answers the question.

Each sentence of the retrieved passages is scored by its embedding similarity to the question, how many
of the question's keywords (jieba tokens) it contains, whether it holds the kind of answer the question
asks for (a duration for "多久/how long", a number for "多少/how many", a date for "何时/when"), and the
rank of its passage, and, in a conversation, whether it comes from the article the previous turn was about:
    score = cosine + KEYWORD_WEIGHT * keyword share + ANSWER_TYPE_WEIGHT * type match + RANK_WEIGHT / rank
            + FOCUS_WEIGHT * (from the conversation's article) + KIND_WEIGHT * (names the asked kind or action)
            + DATE_WEIGHT * (names the day an English question asks about).
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

from rag.citations import ROLES, SIDES, Passage, han_bigram_recall
from rag.crosslingual import asked_action, asked_dates, asked_kind, place_names, translations
from vectorstore.keyword import tokenize

KEYWORD_WEIGHT = 0.15  # share of the question's (idf-weighted) keywords in the sentence
CONTEXT_WEIGHT = 0.05  # ... in the sentence's passage and title: the topic, when the sentence omits it
ANSWER_TYPE_WEIGHT = 0.06
# An English "which/what <kind>" or "what did ... <verb>?" question: a sentence naming that kind or action in
# Chinese ("anniversary" -> 周年, "discuss" -> 讨论, via CC-CEDICT) is about what is asked. English keywords
# match no Chinese tokens, so without this the "75周年" sentence ranked below the one that only shares the
# question's speaker (samples_qa a003-05), and "双方讨论了..." 6th for "What did she and Lavrov discuss?" (a001-07).
KIND_WEIGHT = 0.06
DATE_WEIGHT = 0.06  # names the day an English question asks about ("on the 2nd" -> 2日)
RANK_WEIGHT = 0.04
# A follow-up ("会谈持续了多久？" after a question about the Geneva talks) is about the article of the previous
# turn: without this, the "近5个小时" of another article's talks outranked Geneva's "约90分钟" by 0.016.
FOCUS_WEIGHT = 0.05
EARLIER_TURN_SHARE = 0.5

COUNT_QUESTION = re.compile(r"多少|几[个次名份点项位]|how many|how much", re.I)
_NUMERAL = r"(?:\d+(?:\.\d+)?|[一两二三四五六七八九十百千万半几数]+)"
# (question pattern, what an answer sentence must contain); jieba POS tags stand in for places and people
# (and CC-CEDICT's places, `rag.crosslingual.place_names`, for the foreign ones jieba tags as people).
ANSWER_TYPES: list[tuple[re.Pattern, re.Pattern | str]] = [
    (re.compile(r"多久|多长时间|期限|how long|what period|how many (minutes|hours|days|weeks)", re.I),
     re.compile(_NUMERAL + r"\s*(?:个)?(?:分钟|小时|钟头|天|周|星期|个月)|[一两二三四五六七八九十半数几]+年|"
                r"minutes|hours|days|weeks")),
    (COUNT_QUESTION,
     re.compile(r"\d|[一二两三四五六七八九十百千万亿数]+\s*[个次名份点项位万亿]")),
    # "when" asks for a time at the start, after "and", or before its verb; not in "...when he phoned Lavrov?"
    (re.compile(r"何时|什么时候|哪天|哪一天|几月|几号|哪年|哪一年|^\s*when\b|\band when\b|"
                r"\bwhen (?:did|does|do|was|were|is|are|will|would|has|have|had)\b|what date|what day|which day|"
                r"what year|which year", re.I),
     re.compile(r"\d+\s*[月日号]|\d{4}\s*年|周[一二三四五六日]|星期[一二三四五六日天]|[上下本今去明]月|当天|次日")),
    (re.compile(r"哪里|在哪(?!一?天|年|个月)|何地|哪座城市|哪个城市|哪个国家|哪国|\bwhere\b|"
                r"which (city|country|place)", re.I), "ns"),
    (re.compile(r"谁|哪位|\bwho\b|\bwhom\b", re.I), "nr"),
]
# Words that say what kind of answer is wanted, not what it is about: no weight as keywords.
_QUESTION_WORDS = frozenset("何时 哪家 哪位 哪些 哪个 哪座 哪一 哪天 哪一天 多久 多长 长时间 多长时间 时间 "
                            "怎么 怎样 如何 什么 是不是 时候 哪方 方面 一方 long many much according "
                            "said say says".split())
# Below this score the backend abstains. English questions over Chinese text score lower (cross-lingual
# cosines sit around 0.76-0.83 where Chinese ones sit around 0.89-0.95); set on eval/datasets/samples_qa.jsonl.
# Scores of unanswerable on-topic questions overlap answerable ones: similarity alone cannot abstain well.
# An LLM, which abstains by itself, is asked from `rag.answering.MODEL_MIN_SCORE` on.
MIN_SCORE = {"zh": 0.97, "en": 0.81}


@dataclass
class ExtractedSentence:
    passage: Passage
    index: int
    score: float
    typed: bool = False  # holds the kind of answer the question asks for (or the question asks no kind)

    @property
    def text(self) -> str:
        return self.passage.sentences[self.index]


def answer_types(question: str) -> list[re.Pattern | str]:
    """What an answer sentence must contain for `question` (empty: any sentence may answer)."""
    return [answer for asks, answer in ANSWER_TYPES if asks.search(question)]


def has_answer_type(sentence: str, wanted: list[re.Pattern | str]) -> bool:
    """Whether `sentence` holds every wanted kind of answer ("when and where" needs a date and a place)."""
    tags = None
    for kind in wanted:
        if isinstance(kind, re.Pattern):
            if not kind.search(sentence):
                return False
            continue
        if tags is None:
            import jieba.posseg

            pairs = jieba.posseg.lcut(sentence)
            tags = {flag for _, flag in pairs} | ({"ns"} if any(w in place_names() for w, _ in pairs) else set())
        if not any(tag.startswith(kind) for tag in tags) and not (kind == "nr" and _PEOPLE.search(sentence)):
            return False
    return True


# "谁/who" is answered by a name, or by the people a role or group names: "留待各国领导人最终决定" answers
# "...将留待谁最终决定？" (holdout5 n-15), and jieba tags 领导人 a common noun.
# A role before 会 names a meeting (北约外长会), not people.
_PEOPLE = re.compile(f"(?:{'|'.join(ROLES + ('领导人', '官员', '人士', '专家', '代表团'))})(?!会)")


# Chinese news shortens names in headlines and questions: 美俄外长 are 美国国务卿 and 俄罗斯外交部长 in the
# article's own words. A keyword made of these short forms is in a sentence that spells out every piece:
# without this, "美俄外长在哪里会谈？" ranked the NATO sentence with 外长会 and 俄美会谈 above the Geneva one.
SHORT_FORMS = {full[0]: (full, side) for full, side in SIDES.items() if full[0] not in "日印"} | {
    "欧": ("欧洲", "欧盟", "欧方"), "外长": ("外交部长", "国务卿"), "防长": ("国防部长",)}
SPELLED_OUT_SHARE = 0.5  # a keyword found spelled out counts half: in a follow-up, the earlier turn's 美俄外长
# at full weight lifted the Geneva dateline above the sentence that answers "会谈持续了多久？"
_SHORT_ALONE = frozenset("美俄乌德欧") | {"外长", "防长"}  # 中, 法 and 英 alone are more often other words


def spells_out(keyword: str, sentence: str) -> bool:
    """Whether `sentence` spells out every short form `keyword` is made of (`SHORT_FORMS`).

    >>> spells_out("俄外长", "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫在日内瓦举行会谈")
    True
    >>> spells_out("俄外长", "在2日俄美会谈结束后,北约外长会3日在布鲁塞尔如期举行")
    False
    >>> spells_out("中俄", "王毅说，中方愿同俄方加强协作"), spells_out("中", "中国")
    (True, False)
    """
    pieces, rest = [], keyword
    while rest:
        piece = next((short for short in (rest[:2], rest[:1]) if short in SHORT_FORMS), None)
        if piece is None:
            return False
        pieces.append(piece)
        rest = rest[len(piece):]
    if len(pieces) == 1 and keyword not in _SHORT_ALONE:
        return False
    return all(any(full in sentence for full in SHORT_FORMS[piece]) for piece in pieces)


def keyword_weights(question: str, texts: list[str]) -> dict[str, float]:
    """The question's keywords, each weighted by its rarity among `texts`: log(1 + N / (1 + df))."""
    keywords = {t for t in tokenize(question) if t not in _QUESTION_WORDS}
    tokenized = [set(tokenize(t)) for t in texts]
    n = max(1, len(tokenized))
    return {k: float(np.log1p(n / (1 + sum(k in t for t in tokenized)))) for k in keywords}


def rank_sentences(question: str, question_vector: np.ndarray, passages: list[Passage],
                   asked: str | None = None, focus_doc: str | None = None,
                   translation: str | None = None) -> list[ExtractedSentence]:
    """Every sentence of `passages`, best answer first (the formula is in the module docstring).

    `asked` is the turn the user typed when `question` is its standalone rewrite: the kind of answer
    wanted comes from it ("会谈持续了多久？" wants a duration, whatever the earlier turn asked).
    `focus_doc` is the article a conversation is about: its sentences get `FOCUS_WEIGHT` more.
    `translation` is an English question in Chinese (`rag.answering.chinese_question`): its words are keywords
    too, which English words never are in a Chinese sentence; the kind of answer wanted still comes from the
    English question.
    """
    all_sentences = [s for p in passages for s in p.sentences]
    weights = keyword_weights(f"{question} {translation or ''}", all_sentences)
    if asked:  # a follow-up asks its own words; the earlier turn's, prepended or rewritten in, say what about
        own = set(tokenize(f"{asked} {translation or ''}"))
        weights = {k: w if k in own else EARLIER_TURN_SHARE * w for k, w in weights.items()}
    total = sum(weights.values()) or 1.0
    wanted = answer_types(asked or question)
    asked_words = [asked_kind(asked or question), asked_action(asked or question)]
    kind_words = [chinese for word in asked_words if word for chinese in translations(word)]
    dates = asked_dates(asked or question)
    ranked = []
    for passage in passages:
        if not passage.sentences:
            continue
        cosines = passage.vectors @ question_vector
        context_text = f"{passage.hit.title or ''} {passage.hit.text}"
        context = set(tokenize(context_text))
        in_context = max(sum(w if k in context else SPELLED_OUT_SHARE * w * spells_out(k, context_text)
                             for k, w in weights.items()) / total,
                         han_bigram_recall(translation or question, passage.hit.title or ""))
        for i, sentence in enumerate(passage.sentences):
            tokens = set(tokenize(sentence))
            overlap = sum(w if k in tokens else SPELLED_OUT_SHARE * w * spells_out(k, sentence)
                          for k, w in weights.items()) / total
            typed = has_answer_type(sentence, wanted)
            score = (float(cosines[i]) + KEYWORD_WEIGHT * overlap + CONTEXT_WEIGHT * in_context
                     + ANSWER_TYPE_WEIGHT * (typed and bool(wanted)) + RANK_WEIGHT / passage.n
                     + KIND_WEIGHT * any(word in sentence for word in kind_words)
                     + DATE_WEIGHT * any(date.search(sentence) for date in dates)
                     + FOCUS_WEIGHT * (focus_doc is not None and passage.hit.doc_id == focus_doc))
            ranked.append(ExtractedSentence(passage, i, score, typed))
    return sorted(ranked, key=lambda s: -s.score)


def best_sentence(question: str, question_vector: np.ndarray, passages: list[Passage],
                  asked: str | None = None) -> ExtractedSentence | None:
    """The highest-scoring sentence over all passages (None when there are no sentences)."""
    ranked = rank_sentences(question, question_vector, passages, asked)
    return ranked[0] if ranked else None


def full_name_sentence(question: str, ranked: list[ExtractedSentence]) -> ExtractedSentence | None:
    """For "What is the first name of Kuleba?": the best-ranked sentence that writes the named person in full,
    given name and surname joined by "·" (德米特罗·库莱巴), or None. Chinese news gives a foreigner's full name
    at first mention; the 1.5B model, asked for the first name in English, wrote "Kuleba" or NOT FOUND (holdout11
    t-03, holdout12 v-03). The surname is found by its sound (`rag.transliteration.sounding_spans`).

    >>> from rag.citations import Passage
    >>> from rag.schema import Hit
    >>> text = "他将在基辅会见乌克兰外长德米特罗·库莱巴。"
    >>> passage = Passage(1, Hit("d#0", "d.txt", "t", None, None, text, 1.0), text, [text], np.ones((1, 2)))
    >>> sentence = ExtractedSentence(passage, 0, 0.9)
    >>> full_name_sentence("What is the first name of Foreign Minister Kuleba?", [sentence]) is sentence
    True
    >>> full_name_sentence("What is the title of Kuleba?", [sentence]) is None
    True
    """
    if not _FIRST_NAME.search(question):
        return None
    return next((candidate for candidate in ranked if _first_name_ends(question, candidate.text)), None)


def _first_name_ends(question: str, sentence: str) -> list[int]:
    """Where first names end in `sentence`: at the "·" before a surname `question` names (found by its sound)."""
    from rag.citations import NAME_RUN
    from rag.transliteration import judged, sounding_spans

    surnames = [word for run in NAME_RUN.findall(question) for word in run.split() if judged(word)]
    return [start - 1 for name in surnames for start, _ in sounding_spans(name, sentence)
            if start > 1 and sentence[start - 1] in _NAME_DOTS]


def gives_the_first_name(answer: str, question: str, sentence: str) -> bool:
    """Whether `answer` gives the whole first name that `sentence` writes before the surname `question` names
    (see `full_name_sentence`): some word of it sounds like all of that name. The 1.5B model answered "Anna"
    for 安娜莱娜·贝尔伯克 (holdout14 x-04); a name too short to tell by its sound does not count either.

    >>> q, s = "What is the first name of Baerbock?", "德国外交部长安娜莱娜·贝尔伯克表示"
    >>> gives_the_first_name("Anna [1].", q, s), gives_the_first_name("Annalena [1].", q, s)
    (False, True)
    """
    from rag.transliteration import sounding_spans

    # the answer's name must end where the first name does, at the dot: "Anna" ends inside 安娜莱娜
    return any(end == dot for dot in _first_name_ends(question, sentence)
               for word in re.findall(r"[A-Za-z][A-Za-z'-]+", answer)
               for _, end in sounding_spans(word, sentence[:dot]))


_FIRST_NAME = re.compile(r"\b(?:first|given|christian) name\b", re.I)
_NAME_DOTS = "·•・."


def template_answer(sentence: str, language: str, title: str | None, date: str | None) -> str:
    """The quoted sentence, framed in the question's language, cited as [1].

    In English, quotes inside the quoted title or sentence become single quotes, so that the quote closes
    where it should (and the language check sees only English outside it):

    >>> template_answer('此次“有益和坦诚的”会谈持续了约90分钟。', "en", '谈“和平计划”', "2025-12-04")
    'According to “谈‘和平计划’” (2025-12-04), the article says: “此次‘有益和坦诚的’会谈持续了约90分钟。” [1]'
    """
    if language == "zh":
        prefix = (f"据《{title}》" if title else "据报道") + (f"（{date}）" if date else "")
        return f"{prefix}：{sentence.rstrip('。！？!?')}[1]。"
    where = " ".join(x for x in (f"“{_inner(title)}”" if title else None, f"({date})" if date else None) if x)
    return f"According to {where or 'the article'}, the article says: “{_inner(sentence)}” [1]"


def _inner(text: str) -> str:
    return text.replace("“", "‘").replace("”", "’").replace('"', "'")
