from rag.conversation import looks_like_follow_up, standalone_question
from rag.language import detect_language, is_in_language

HISTORY = [("美俄外长在哪里会谈？", "在瑞士日内瓦[1]。")]


def test_detect_language():
    assert detect_language("How long did the Geneva talks last?") == "en"
    assert detect_language("他们在哪里见面？") == "zh"
    assert detect_language("NBC说了什么？") == "zh"


def test_language_check_ignores_quotes_and_markers():
    assert is_in_language("The articles say: “持续了约90分钟” [1]", "en")
    assert not is_in_language("会谈持续了约90分钟[1]。", "en")
    assert is_in_language("会谈持续了约90分钟[1]。", "zh")
    assert not is_in_language("The talks lasted 90 minutes [1].", "zh")
    # a bare number answers in any language ("美国提出的和平计划有多少点？" -> "28[1]")
    assert is_in_language("28[1]", "zh") and is_in_language("28 [1].", "en")
    assert not is_in_language("28 points [1].", "zh")


def test_follow_up_detection():
    assert looks_like_follow_up("他们在哪里见面？")
    assert looks_like_follow_up("How long did it last?")
    assert not looks_like_follow_up("王毅和拉夫罗夫2020年9月在莫斯科的会谈讨论了哪些议题？")


def test_no_history_or_standalone_question_is_unchanged():
    assert standalone_question("会谈持续了多久？", []) == "会谈持续了多久？"
    long_question = "王毅和拉夫罗夫2020年9月在莫斯科的会谈讨论了哪些议题？"
    assert standalone_question(long_question, HISTORY) == long_question


def test_rewrite_with_a_model_and_fallbacks():
    assert standalone_question("他们在哪里见面？", HISTORY, lambda p: "美俄外长在哪里见面？") == "美俄外长在哪里见面？"
    # a rewrite in the wrong language, an empty one, or a failing model fall back to prepending the last question
    assert standalone_question("他们在哪里见面？", HISTORY, lambda p: "Where did they meet?") == \
        "美俄外长在哪里会谈？ 他们在哪里见面？"
    assert standalone_question("他们在哪里见面？", HISTORY, lambda p: "") == "美俄外长在哪里会谈？ 他们在哪里见面？"

    def broken(prompt):
        raise RuntimeError("model down")

    assert standalone_question("他们在哪里见面？", HISTORY, broken) == "美俄外长在哪里会谈？ 他们在哪里见面？"
