from rag.chunking import split_article, split_sentences
from rag.schema import Article


def _article(*paragraphs):
    return Article("news/a.txt", "标题", "2022-01-24", "新华社", list(paragraphs))


def test_one_chunk_per_paragraph_with_metadata_and_position():
    long_enough = "美国国务卿布林肯和俄罗斯外交部长拉夫罗夫21日在瑞士日内瓦举行会谈。"
    chunks = split_article(_article(long_enough, long_enough + "双方各自举行记者会。"), max_chars=200, min_chars=10)
    assert [c.text for c in chunks] == [long_enough, long_enough + "双方各自举行记者会。"]
    assert [c.position for c in chunks] == [0, 1]
    assert [c.chunk_id for c in chunks] == ["news/a.txt#0", "news/a.txt#1"]
    assert all((c.doc_id, c.title, c.date, c.source) == ("news/a.txt", "标题", "2022-01-24", "新华社") for c in chunks)


def test_long_paragraph_splits_at_sentence_ends_only():
    sentences = [f"第{i}句话讲了一件相当重要的事情。" for i in range(10)]
    chunks = split_article(_article("".join(sentences)), max_chars=50, min_chars=5)
    assert len(chunks) > 1
    assert all(len(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == "".join(sentences)
    assert all(c.text.endswith("。") for c in chunks)


def test_english_sentences_split_too():
    text = "The talks lasted about ninety minutes. Both sides held press conferences afterwards. " * 4
    chunks = split_article(_article(text.strip()), max_chars=100, min_chars=10)
    assert len(chunks) >= 3
    assert all(c.text.endswith(".") for c in chunks)


def test_initials_titles_and_short_months_end_no_sentence():
    text = "The U.S. delegation was led by John F. Kerry. Mr. Smith arrived on Jan. 10 in Geneva. It ended."
    assert split_sentences(text) == ["The U.S. delegation was led by John F. Kerry. ",
                                     "Mr. Smith arrived on Jan. 10 in Geneva. ", "It ended."]
    assert split_sentences("It was Plan B.\nThen C. Then.") == ["It was Plan B.\n", "Then C. Then."]


def test_sentence_without_end_is_cut_hard():
    chunks = split_article(_article("字" * 250), max_chars=100, min_chars=10)
    assert [len(c.text) for c in chunks] == [100, 100, 50]


def test_tiny_fragments_are_merged():
    body = "拉夫罗夫表示，俄罗斯没有入侵乌克兰的计划。美国和西方国家炒作乌克兰危机。"
    chunks = split_article(_article("承诺和努力", body, "(记者 聂晓阳)"), max_chars=200, min_chars=20)
    assert len(chunks) == 1
    assert chunks[0].text == f"承诺和努力\n{body}\n(记者 聂晓阳)"


def test_only_tiny_fragments_still_give_a_chunk():
    chunks = split_article(_article("短。"), max_chars=200, min_chars=20)
    assert [c.text for c in chunks] == ["短。"]


def test_empty_article_gives_no_chunks():
    assert split_article(_article("", "  "), max_chars=200, min_chars=20) == []


def test_split_sentences_keeps_closing_quotes():
    assert split_sentences("他说：“好。”然后走了！") == ["他说：“好。”", "然后走了！"]


def test_bad_limits_raise():
    import pytest

    with pytest.raises(ValueError, match="min_chars"):
        split_article(_article("x"), max_chars=10, min_chars=10)
