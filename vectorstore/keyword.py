"""Keyword search: jieba word segmentation + BM25 (bm25s).

Chinese has no spaces, so a whitespace tokenizer turns a sentence into one "word"; jieba's search-mode
segmentation (`lcut_for_search`) emits words and their sub-words ("日内瓦会谈" -> 日内, 内瓦, 日内瓦, 会谈),
which lets both short and long query words match. English words pass through lowercased.

>>> tokenize("美国国务卿布林肯在日内瓦")[:3]
['美国', '国务', '国务卿']
>>> kw = KeywordIndex.build([tokenize("日内瓦会谈"), tokenize("北约外长会")])
>>> int(kw.scores(tokenize("日内瓦")).argmax())
0
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

import bm25s
import jieba
import numpy as np

jieba.setLogLevel(logging.WARNING)

# Function words that match almost every passage; BM25's idf would mostly discount them anyway, but
# dropping them keeps short queries ("他们在哪里见面") from being dominated by 的/在/了.
STOPWORDS = frozenset(
    "的 了 在 是 和 与 及 或 也 就 都 而 并 等 这 那 之 其 对 为 以 于 将 把 被 从 向 到 由 中 上 下 "
    "吗 呢 吧 啊 么 什么 哪里 哪 谁 多少 如何 怎么 怎样 为什么 是否 有 没有 个 次 "
    "a an the of to in on at for by with and or is are was were be been what which who whom when where "
    "why how did do does that this these those it its as from".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba search-mode tokens without punctuation, spaces or stopwords."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens = []
    for token in jieba.lcut_for_search(text):
        token = token.strip()
        if not token or token in STOPWORDS:
            continue
        if all(unicodedata.category(ch)[0] in "PSZC" for ch in token):
            continue
        tokens.append(token)
    return tokens


class KeywordIndex:
    """BM25 (Lucene variant) over pre-tokenized passages; row `i` is chunk row `i`."""

    def __init__(self, retriever: bm25s.BM25 | None, size: int):
        self._retriever = retriever
        self.size = size

    def __len__(self) -> int:
        return self.size

    @classmethod
    def build(cls, tokens_per_passage: list[list[str]]) -> KeywordIndex:
        if not tokens_per_passage:
            return cls(None, 0)
        retriever = bm25s.BM25()
        # Empty passages still need a row so that rows stay aligned with the dense index.
        corpus = [tokens or ["\u2205"] for tokens in tokens_per_passage]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(corpus))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no token is known)."""
        if self._retriever is None or not query_tokens:
            return np.zeros(self.size, dtype="float32")
        return np.asarray(self._retriever.get_scores(query_tokens), dtype="float32")

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size").write_text(str(self.size))
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        size = int((folder / "size").read_text())
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)
