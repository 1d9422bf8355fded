import pytest

from rag.dedup import DuplicateFinder, jaccard, normalize_for_dedup, shingles

BASE = "双方在会谈结束后各自举行记者会。拉夫罗夫在记者会上说,此次“有益和坦诚的”会谈是应美方提议举行的,持续了约90分钟。"


def test_exact_duplicate_after_normalisation():
    d = DuplicateFinder()
    d.add("a", BASE)
    # full-width punctuation, extra spaces, different quotes: still the same text
    assert d.find("  " + BASE.replace(",", "，").replace("“", '"') + "  ") == "a"


def test_near_duplicate_with_a_small_edit():
    d = DuplicateFinder(0.9)
    d.add("a", BASE)
    edited = BASE.replace("约90分钟", "约九十分钟")
    assert 0.8 < jaccard(shingles(BASE), shingles(edited)) < 1
    assert DuplicateFinder(0.8).find(edited) is None  # empty finder
    d08 = DuplicateFinder(0.8)
    d08.add("a", BASE)
    assert d08.find(edited) == "a"


def test_different_text_is_not_a_duplicate():
    d = DuplicateFinder()
    d.add("a", BASE)
    assert d.find("北约外长会于3日在布鲁塞尔召开,美国国务卿鲁比奥罕见缺席。") is None


def test_remove_forgets():
    d = DuplicateFinder()
    d.add("a", BASE)
    d.remove("a")
    assert d.find(BASE) is None
    assert len(d) == 0
    d.remove("never-added")  # no error


def test_normalize():
    assert normalize_for_dedup("Ａ b，Ｃ。") == "abc"


def test_threshold_validated():
    with pytest.raises(ValueError, match="threshold"):
        DuplicateFinder(0)


def test_threshold_one_means_identical_texts_only():
    d = DuplicateFinder(threshold=1.0)
    d.add("c1", "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。")
    assert d.find("美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈!") == "c1"  # same after normalising
    assert d.find("美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行了会谈。") is None


def test_many_texts_sharing_sentences_are_checked_quickly():
    """Paragraphs recombined from the same sentences share sketch buckets; the size filter keeps it fast."""
    import time

    import numpy as np

    sentences = [f"第{i}句话讲的是一件不同的事情，编号{i * 7919 % 1000}。" for i in range(200)]
    rng = np.random.default_rng(0)
    d = DuplicateFinder(threshold=0.9)
    started = time.perf_counter()
    for n in range(3000):
        text = "".join(sentences[i] for i in rng.integers(0, 200, rng.integers(2, 8)))
        if d.find(text) is None:
            d.add(f"p{n}", text)
    assert time.perf_counter() - started < 30
    assert len(d) > 2500
