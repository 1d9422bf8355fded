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
