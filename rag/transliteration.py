"""Whether a foreign name, written in Latin letters, stands in a Chinese text: by its sound.

CC-CEDICT knows few of the people in the news (Blinken, Baerbock, Zelensky, Stoltenberg, Ushakov are not in
it), so a name check by dictionary (`rag.citations.names_missing`) cannot tell whether an article mentions
them. Chinese news writes such names by sound, one character per syllable: Baerbock 贝尔伯克 (bei-er-bo-ke),
Ushakov 乌沙科夫 (wu-sha-ke-fu). Both spellings are reduced to their consonants, in classes that
transliteration keeps apart (b/p, d/t, g/k, f/v, l/r, m/n, s-like sounds), vowels and h dropped; the
name stands in the text when some run of its characters has nearly the same consonants
(`difflib` ratio >= `MIN_RATIO`, at most `MAX_LENGTH_GAP` more or fewer, the same first one), and
begins and ends where jieba's words do.
The characters' readings come from pypinyin.

A name of fewer than `MIN_CONSONANTS` consonants (Xi, Rutte) is not judged: too many runs would match.

>>> sounds_in("Baerbock", "德国外交部长安娜莱娜·贝尔伯克与俄罗斯外交部长谢尔盖·拉夫罗夫举行了会谈")
True
>>> sounds_in("Baerbock", "国务委员兼外长王毅在莫斯科同俄罗斯外长拉夫罗夫举行会谈")
False
>>> sounds_in("Ushakov", "3日,俄总统助理乌沙科夫与俄总统新闻秘书佩斯科夫分别披露了会谈的内容"), sounds_in("Rutte", "")
(True, None)
"""

from __future__ import annotations

import functools
import re
from difflib import SequenceMatcher

MIN_RATIO = 0.75
MAX_LENGTH_GAP = 1  # consonants more or fewer: at 2, "Zelensky" was heard in 上说 (shang shuo)
MIN_CONSONANTS = 3
MAX_NAME_CHARACTERS = 8  # 斯托尔滕贝格 is six

# Latin spelling -> consonant classes: P (b p), T (d t), K (g k c q), F (f v), L (l r), N (m n), S (s z x j,
# sh ch zh ts); vowels, h, w and y are dropped. Digraphs first.
_LATIN_DIGRAPHS = [("sch", "S"), ("sh", "S"), ("ch", "S"), ("zh", "S"), ("ts", "S"), ("tz", "S"), ("th", "T"),
                   ("ph", "F"), ("ck", "K"), ("kh", "K"), ("gh", ""), ("qu", "K"), ("ce", "Se"), ("ci", "Si")]
_LATIN = {"b": "P", "p": "P", "d": "T", "t": "T", "g": "K", "k": "K", "c": "K", "q": "K", "f": "F", "v": "F",
          "l": "L", "r": "L", "m": "N", "n": "N", "s": "S", "z": "S", "x": "S", "j": "S", "S": "S", "T": "T",
          "F": "F", "K": "K"}
# pinyin initials and finals -> the same classes; a final -n or -ng is N, the syllable er (尔) stands for r.
_PINYIN_INITIALS = [("zh", "S"), ("ch", "S"), ("sh", "S"), ("b", "P"), ("p", "P"), ("d", "T"), ("t", "T"),
                    ("g", "K"), ("k", "K"), ("f", "F"), ("l", "L"), ("r", "L"), ("m", "N"), ("n", "N"),
                    ("z", "S"), ("c", "S"), ("s", "S"), ("j", "S"), ("q", "S"), ("x", "S"), ("h", ""), ("w", ""),
                    ("y", "")]


def latin_consonants(name: str) -> str:
    """The consonant classes of a Latin-letter `name`.

    >>> latin_consonants("Baerbock"), latin_consonants("Stoltenberg"), latin_consonants("Ushakov")
    ('PLPK', 'STLTNPLK', 'SKF')
    """
    text = re.sub(r"(.)\1", r"\1", name.lower())
    for digraph, sound in _LATIN_DIGRAPHS:
        text = text.replace(digraph, sound)
    return "".join(_LATIN.get(ch, "") for ch in text)


@functools.lru_cache(maxsize=8192)
def character_consonants(character: str) -> str:
    """The consonant classes of one Chinese character's first reading (its pinyin without tone).

    >>> [character_consonants(c) for c in "贝尔伯克"], character_consonants("京")
    (['P', 'L', 'P', 'K'], 'SN')
    """
    from pypinyin import Style, lazy_pinyin

    syllable = lazy_pinyin(character, style=Style.NORMAL, errors="ignore")
    if not syllable or not re.fullmatch(r"[a-zü]+", syllable[0].replace("v", "ü")):
        return ""
    syllable = syllable[0]
    if syllable == "er":
        return "L"
    initial = next(((sound, len(spelling)) for spelling, sound in _PINYIN_INITIALS if syllable.startswith(spelling)),
                   ("", 0))
    final = "N" if syllable.endswith(("n", "ng")) and len(syllable) > initial[1] + 1 else ""
    return initial[0] + final


def judged(name: str) -> bool:
    """Whether `name` is long enough to be told by its sound: `MIN_CONSONANTS` consonants or more."""
    return len(latin_consonants(name)) >= MIN_CONSONANTS


def sounds_in(name: str, text: str) -> bool | None:
    """Whether some run of `text`'s Chinese characters sounds like `name`; None when `name` is too short to
    judge (see `judged`)."""
    return bool(sounding_spans(name, text, first=True)) if judged(name) else None


@functools.lru_cache(maxsize=64)
def heard_runs(text: str) -> tuple[tuple[int, tuple[str, ...], frozenset[int]], ...]:
    """Each run of `text`'s Chinese characters: (its offset, each character's consonants, the offsets within it
    where jieba's words begin or end). Computed once per text: every name of a question or answer is looked
    for in the same article."""
    import jieba

    runs = []
    for run in re.finditer(r"[\u4e00-\u9fff]+", text):
        bounds = [0]  # a name is whole words: 在日内瓦举 (zai-ri-nei-wa-ju) is not Zelensky
        for word in jieba.cut(run.group(0)):
            bounds.append(bounds[-1] + len(word))
        runs.append((run.start(), tuple(character_consonants(ch) for ch in run.group(0)), frozenset(bounds)))
    return tuple(runs)


def sounding_spans(name: str, text: str, first: bool = False) -> list[tuple[int, int]]:
    """(start, end) of the runs of `text` that sound like `name` (the first only, with `first`); none for a
    name too short to judge.

    >>> text = "外交部长安娜莱娜·贝尔伯克与拉夫罗夫会谈"
    >>> [text[a:b] for a, b in sounding_spans("Baerbock", text)]
    ['贝尔伯克']
    """
    if not judged(name):
        return []
    wanted = latin_consonants(name)
    spans = []
    for offset, sounds, bounds in heard_runs(text):
        start = 0
        while start < len(sounds):
            if start not in bounds:
                start += 1
                continue
            heard, found, best = "", None, 0.0
            for end in range(start, min(len(sounds), start + MAX_NAME_CHARACTERS)):
                heard += sounds[end]
                if len(heard) > len(wanted) + MAX_LENGTH_GAP:
                    break
                if end + 1 in bounds and abs(len(heard) - len(wanted)) <= MAX_LENGTH_GAP and heard[:1] == wanted[:1]:
                    ratio = SequenceMatcher(None, heard, wanted).ratio()
                    if ratio >= MIN_RATIO and ratio > best:  # the closest run: 贝尔伯克, not 贝尔伯 or 贝尔伯克与
                        found, best = end + 1, ratio
            if found is None:
                start += 1
                continue
            spans.append((offset + start, offset + found))
            if first:
                return spans
            start = found
    return spans
