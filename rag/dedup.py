"""Exact and near-duplicate detection for chunks, so that a passage syndicated by several sites
(or repeated inside one page) is stored and retrieved once.

Two texts are near-duplicates when the Jaccard similarity of their character 4-gram sets, after
normalising width, case, white space and punctuation, is at least the threshold (0.9 by default).
Candidates are found with a bottom-k MinHash sketch: texts with Jaccard >= 0.9 share one of their
4 smallest shingle hashes with high probability, so only those pairs are compared exactly.

>>> d = DuplicateFinder(threshold=0.9)
>>> d.add("c1", "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。")
>>> d.find("美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈!")
'c1'
>>> d.find("北约外长会于3日在布鲁塞尔召开。") is None
True
"""

from __future__ import annotations

import unicodedata
import zlib

SHINGLE = 4
SKETCH = 4


def normalize_for_dedup(text: str) -> str:
    """NFKC, lower case, without white space and punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZCS")


def shingles(text: str) -> frozenset[int]:
    """crc32 hashes of the character 4-grams of the normalised text (the text itself if shorter)."""
    norm = normalize_for_dedup(text)
    if len(norm) <= SHINGLE:
        return frozenset([zlib.crc32(norm.encode())])
    return frozenset(zlib.crc32(norm[i : i + SHINGLE].encode()) for i in range(len(norm) - SHINGLE + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class DuplicateFinder:
    """Remembers texts by key and answers "is this text a (near-)duplicate of one of them?"."""

    def __init__(self, threshold: float = 0.9):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._exact: dict[str, str] = {}  # normalised text -> key
        self._norm_of: dict[str, str] = {}  # key -> normalised text
        self._shingles: dict[str, frozenset[int]] = {}
        self._buckets: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._shingles)

    def add(self, key: str, text: str) -> None:
        norm = normalize_for_dedup(text)
        self._exact.setdefault(norm, key)
        self._norm_of[key] = norm
        sh = shingles(text)
        self._shingles[key] = sh
        for h in sorted(sh)[:SKETCH]:
            self._buckets.setdefault(h, set()).add(key)

    def remove(self, key: str) -> None:
        sh = self._shingles.pop(key, None)
        if sh is None:
            return
        for h in sorted(sh)[:SKETCH]:
            self._buckets.get(h, set()).discard(key)
        norm = self._norm_of.pop(key)
        if self._exact.get(norm) == key:
            del self._exact[norm]

    def find(self, text: str) -> str | None:
        """Key of a stored text that `text` duplicates, or None."""
        norm = normalize_for_dedup(text)
        if norm in self._exact:
            return self._exact[norm]
        sh = shingles(text)
        best, best_key = 0.0, None
        candidates = set().union(*(self._buckets.get(h, set()) for h in sorted(sh)[:SKETCH]))
        for key in sorted(candidates):
            score = jaccard(sh, self._shingles[key])
            if score > best:
                best, best_key = score, key
        return best_key if best >= self.threshold else None
