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

import math
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
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class DuplicateFinder:
    """Remembers texts by key and answers "is this text a (near-)duplicate of one of them?"."""

    def __init__(self, threshold: float = 0.9):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._exact: dict[str, str] = {}  # normalised text -> key
        self._norm_of: dict[str, str] = {}  # key -> normalised text
        self._shingles: dict[str, frozenset[int]] = {}
        self._buckets: dict[tuple[int, int], set[str]] = {}  # (sketch hash, size class) -> keys

    def __len__(self) -> int:
        return len(self._shingles)

    def add(self, key: str, text: str) -> None:
        norm = normalize_for_dedup(text)
        self._exact.setdefault(norm, key)
        self._norm_of[key] = norm
        sh = shingles(text)
        self._shingles[key] = sh
        for bucket in self._bucket_keys(sh, neighbours=False):
            self._buckets.setdefault(bucket, set()).add(key)

    def _bucket_keys(self, sh: frozenset[int], neighbours: bool) -> list[tuple[int, int]]:
        """Buckets of a shingle set: its sketch hashes x its size class (x the adjacent classes, to look up).

        Jaccard >= t needs sizes within a factor t of each other, so a text only meets texts of its own
        or an adjacent size class: recombined paragraphs that share sentences do not all become candidates.
        """
        width = -math.log(self.threshold) if self.threshold < 1 else 1.0
        size_class = int(math.log(max(1, len(sh))) / width)
        classes = (size_class - 1, size_class, size_class + 1) if neighbours else (size_class,)
        return [(h, c) for h in sorted(sh)[:SKETCH] for c in classes]

    def remove(self, key: str) -> None:
        sh = self._shingles.pop(key, None)
        if sh is None:
            return
        for bucket in self._bucket_keys(sh, neighbours=False):
            self._buckets.get(bucket, set()).discard(key)
        norm = self._norm_of.pop(key)
        if self._exact.get(norm) == key:
            del self._exact[norm]

    def find(self, text: str) -> str | None:
        """Key of a stored text that `text` duplicates, or None."""
        norm = normalize_for_dedup(text)
        if norm in self._exact:
            return self._exact[norm]
        if self.threshold >= 1.0:  # only identical texts are duplicates
            return None
        sh = shingles(text)
        best, best_key = 0.0, None
        candidates = set().union(*(self._buckets.get(b, set()) for b in self._bucket_keys(sh, neighbours=True)))
        for key in sorted(candidates):
            other = self._shingles[key]
            # |A & B| / |A | B| <= min / max of the sizes: most candidates fail this without a set operation
            if min(len(sh), len(other)) < self.threshold * max(len(sh), len(other)):
                continue
            score = jaccard(sh, other)
            if score > best:
                best, best_key = score, key
        return best_key if best >= self.threshold else None
