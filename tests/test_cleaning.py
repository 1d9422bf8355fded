"""Tests of rag/cleaning.py: the five sample pages paragraph by paragraph, metadata, HTML and Markdown
input, boilerplate rules, and the removal of spam spliced into sentences (004)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cleaning import _date_value, _find_date, _reference_bigrams, _remove_spliced_spam, clean_article
from rag.loading import read_document

ARTICLES = Path(__file__).resolve().parents[1] / "rag" / "data" / "articles"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED: dict[str, list[str]] = json.loads(
    (FIXTURES / "expected_paragraphs.json").read_text(encoding="utf-8")
)
CMRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"

METADATA = {
    "000_830f0738273cd064.txt": ("美俄外长在日内瓦举行会谈", "2022-01-24", "新华社"),
    "001_6bf945a0421c093c.txt": (
        "乌克兰危机：美国和大西洋支持基辅与莫斯科坚持其立场", "2022-01-19", "Aljazeera 半岛网"
    ),
    "002_5d068dcc93838670.txt": ("中俄就当前国际和地区问题进行战略沟通", "2017-04-15", "外交部网站"),
    "003_5949a7f0c870655c.txt": ("王毅同俄罗斯外长拉夫罗夫举行会谈", "2020-09-12", "新华网"),
    "004_686a690c1eedcf70.txt": ("美与俄乌分头谈“和平计划” 却缺席北约外长会", None, None),
}

# Strings that must not survive anywhere in a page's paragraphs.
JUNK_EVERYWHERE = ["版权", "ICP", "免责声明", "相 关 新 闻", "相关新闻", "新闻推荐", "资讯快递", "[详细]",
                   "新闻编辑", "责任编辑", "您现在的位置", "您所在的位置", "打印本页", "扫一扫", "•"]
JUNK = {
    "000_830f0738273cd064.txt": ["焦作网免责声明", "本网所有稿件", "转载稿件", "申领稿酬", "(记者 聂晓阳)",
                                 "聂晓阳", "李洋", "网站首页", "上一条新闻", "举报电话", "更新时间",
                                 "焦作日报"],
    "001_6bf945a0421c093c.txt": ["承诺和努力", "对话和准备", "headimg", "<p>", "</figure>", "---"],
    "002_5d068dcc93838670.txt": ["中俄宣布2017年两军将举行第二次反导演习", "天水在线", "博 客", "播 客",
                                 "娱 乐", "社 会", "最 新 图 片", "郁金香", "人民的名义", "来源"],
    "003_5949a7f0c870655c.txt": ["相关链接", "王毅:打造各方普遍接受的全球数据安全规则",
                                 "王毅谈中俄未来四大合作方向",
                                 "天水市", "研究发现印度5月份", "垂钓掠影", "仝卓", "新华网评"],
    "004_686a690c1eedcf70.txt": ["庆阳市某某搬家培训学校", "点击进入专题", "石室锦官中学", "福岛第一核电站",
                                 "懂球帝", "班主任技能大赛", "泰晤士", "神十八", "台媒", "△",
                                 "谈“和平计划” 美与俄谈完再邀乌赴美",
                                 "北约外长开会聊俄乌", "俄称控制红军城 乌方否认", "(责任编辑:时尚)"],
}


@pytest.fixture(scope="module")
def articles():
    out = {}
    for name in EXPECTED:
        text, kind = read_document(ARTICLES / name, 10_000_000)
        out[name] = clean_article(text, name, kind)
    return out


# ----------------------------------------------------------------------------------------- sample pages


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_body_paragraph_exactly_once_and_nothing_else(articles, name):
    got = articles[name].paragraphs
    for paragraph in EXPECTED[name]:
        assert got.count(paragraph) == 1, paragraph
    assert [p for p in got if p not in EXPECTED[name]] == []
    assert got == EXPECTED[name]  # and in reading order


def test_paragraph_counts(articles):
    counts = {name[:3]: len(a.paragraphs) for name, a in articles.items()}
    assert counts == {"000": 8, "001": 21, "002": 6, "003": 11, "004": 30}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_junk_lines_are_gone(articles, name):
    text = "\n".join(articles[name].paragraphs)
    for junk in JUNK_EVERYWHERE + JUNK[name]:
        assert junk not in text, junk
    assert not any(p.startswith(("·", "•", "-")) for p in articles[name].paragraphs)  # link-list bullets
    assert "克服分歧" not in articles[name].paragraphs  # 001's sub-heading (the phrase itself is in the body)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata(articles, name):
    article = articles[name]
    assert (article.title, article.date, article.source) == METADATA[name]
    assert article.doc_id == name


def test_article_json_shape(articles):
    d = articles["000_830f0738273cd064.txt"].to_dict()
    assert list(d) == ["doc_id", "title", "date", "source", "paragraphs"]
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


def test_paragraphs_are_normalised(articles):
    for article in articles.values():
        for p in article.paragraphs:
            assert p == p.strip()
            assert not any(bad in p for bad in ("  ", "\xa0", "\n", "\t", "\u3000"))


def test_004_has_no_year_so_no_date(articles):
    article = articles["004_686a690c1eedcf70.txt"]
    assert article.date is None
    assert any("3日" in p for p in article.paragraphs)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="html, markdown, text"):
        clean_article("x", "x.pdf", "pdf")


# --------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("更新时间:2022-1-24 16:49:13\xa0\xa0来源:新华社", "2022-01-24"),
        ("(2017/4/15 8:53:12)  来源:外交部网站   打印本页", "2017-04-15"),
        ("(2020/9/12 8:51:18)  来源: 新华网", "2020-09-12"),
        ("2022年1月21日 10:00", "2022-01-21"),
        ("Published January 21, 2022", "2022-01-21"),
        ("21 Jan 2022", "2022-01-21"),
        ("3日,俄总统助理乌沙科夫", None),
        ("12月30日,外交部发言人", None),
        ("2022-13-45", None),
        ("", None),
    ],
)
def test_find_date(text, iso):
    assert _find_date(text) == iso


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("Wed, 19 Jan 2022 02:23:51 GMT", "2022-01-19"),
        ("Wed, 19 Jan 2022 23:59:00 -0500", "2022-01-19"),  # the date written, no time-zone shift
        ("2022-01-19", "2022-01-19"),
        (None, None),
        ("someday", None),
        (20220119, None),
    ],
)
def test_date_value(value, iso):
    assert _date_value(value) == iso


def test_yaml_date_objects():
    import datetime

    assert _date_value(datetime.date(2022, 1, 19)) == "2022-01-19"
    assert _date_value(datetime.datetime(2022, 1, 19, 2, 23)) == "2022-01-19"


# -------------------------------------------------------------------------------------- plain text rules

_PAGE = """网站首页 新闻 国内 国际
您现在的位置:首页 > 国际新闻 > 正文
两国外长举行会谈
更新时间:2021-3-5 10:00:00    来源:新华社

  新华社北京3月5日电 两国外长5日在北京举行会谈,双方就双边关系交换了意见。

  双方同意加强合作,推动两国关系继续向前发展。

△两国外长在会谈前握手

(记者 张三)
新闻编辑:李四
  • 上一条新闻:
  • 本网免责声明:
    本网所有稿件,未经许可不得转载。

两国外长举行会谈
2021-3-5 10:00:00    来源:新华社
  新华社北京3月5日电 两国外长5日在北京举行会谈,双方就双边关系交换了意见。
  双方同意加强合作,推动两国关系继续向前发展。
相 关 新 闻
·某地举行春季运动会(图)·某市召开工作会议
-
总台记者当地时间11月2日获悉,某核电站宣布已将设备抓取的残渣移出至安全壳外,这是事故发生以来首次。这是一条很长的无关预告
...[详细]
-
版权所有:某某日报社 豫ICP备12345678号
"""


def test_plain_text_page():
    article = clean_article(_PAGE, "page.txt")
    assert (article.title, article.date, article.source) == ("两国外长举行会谈", "2021-03-05", "新华社")
    assert article.paragraphs == [
        "新华社北京3月5日电 两国外长5日在北京举行会谈,双方就双边关系交换了意见。",
        "双方同意加强合作,推动两国关系继续向前发展。",
        "两国外长在会谈前握手",
    ]


def test_sub_headings_are_dropped_and_list_items_kept():
    page = ("中俄外长会谈要点\n"
            "会谈在莫斯科举行,双方讨论了多项议题,要点包括:\n"
            "会谈持续时长:近5个小时;\n"
            "进一步加强协作;\n"
            "会谈前景 双方将保持接触\n"
            "双方同意在总统助理层面保持接触,并将继续推进相关工作。\n")
    assert clean_article(page, "a.txt").paragraphs == [
        "会谈在莫斯科举行,双方讨论了多项议题,要点包括:",
        "会谈持续时长:近5个小时;",
        "进一步加强协作;",
        "双方同意在总统助理层面保持接触,并将继续推进相关工作。",
    ]


def test_english_plain_text_with_hard_wrapped_lines():
    page = ("Home | World | Business | Sport\n"
            "Blinken and Lavrov meet in Geneva\n"
            "Published: January 21, 2022 Source: Reuters\n\n"
            "US Secretary of State Antony Blinken and Russian Foreign Minister Sergei\n"
            "Lavrov met in Geneva on Friday for talks that lasted about 90 minutes.\n\n"
            "The two sides agreed to continue talking.\n\n"
            "Copyright 2022 Example News. All rights reserved.\n")
    article = clean_article(page, "en.txt")
    assert article.title == "Blinken and Lavrov meet in Geneva"
    assert (article.date, article.source) == ("2022-01-21", "Reuters")
    assert article.paragraphs == [
        "US Secretary of State Antony Blinken and Russian Foreign Minister Sergei Lavrov met in Geneva on "
        "Friday for talks that lasted about 90 minutes.",
        "The two sides agreed to continue talking.",
    ]


def test_page_without_body_keeps_its_title():
    article = clean_article("标题一行\n\n首页 新闻 国际\n", "t.txt")
    assert article.title == "标题一行" and article.paragraphs == []


# ------------------------------------------------------------------------------------------------ html


def test_html_page_through_trafilatura():
    text, kind = read_document(FIXTURES / "news_page.html", 1_000_000)
    assert kind == "html"
    article = clean_article(text, "news_page.html", kind)
    assert article.title == "王毅同俄罗斯外长拉夫罗夫举行会谈"
    assert (article.date, article.source) == ("2020-09-12", "新华网")
    assert article.paragraphs == [
        "新华社莫斯科9月11日电 当地时间9月11日，国务委员兼外长王毅在莫斯科同俄罗斯外长拉夫罗夫举行会谈。",
        "王毅祝贺俄方作为主席国成功举行上海合作组织外长会及中俄印外长会晤，对外发出坚持多边主义的明确信号。",
        "王毅强调，网络与信息安全是中俄以及国际合作的重要领域。中方日前提出“全球数据安全倡议”，"
        "目的就是响应各方在数据安全领域的普遍关切。",
        "9月11日，王毅在莫斯科同拉夫罗夫举行会谈。",
        "拉夫罗夫表示，俄方积极评价中方提出的“全球数据安全倡议”，愿同中方深化战略协作。",
        "会谈后，两国外长共同会见了记者。",
    ]
    joined = "\n".join(article.paragraphs)
    for junk in ("首页", "搜索", "您现在的位置", "数据安全规则", "版权所有", "ICP", "责任编辑", "分享到",
                 "关于我们", "dataLayer", "数据安全\n"):
        assert junk not in joined


def test_html_page_without_a_date_gets_none_not_the_copyright_year():
    text = (FIXTURES / "news_page.html").read_text(encoding="utf-8")
    text = text.replace('<meta property="article:published_time" content="2020-09-12T08:51:18+08:00">', "")
    text = text.replace('<span class="time">2020-09-12 08:51</span> ', "")
    article = clean_article(text, "nodate.html", "html")
    assert article.date is None and article.source == "新华网"


def test_html_site_name_is_the_source_without_a_source_line():
    text = (FIXTURES / "news_page.html").read_text(encoding="utf-8").replace("来源：新华网", "")
    assert clean_article(text, "x.html", "html").source == "示例新闻网"


# -------------------------------------------------------------------------------------------- markdown


def test_markdown_front_matter_and_markdown_body():
    text = """---
title: "Blinken to visit Kyiv"
date: 2022-01-18
author: [Jane Doe, John Roe]
---

# Blinken to visit Kyiv

![a photo](https://example.com/a.jpg)

US Secretary of State Antony **Blinken** will travel to
[Kyiv](https://example.com/kyiv) on Wednesday.

## Background

- Russia has massed troops near Ukraine.
- NATO says its door stays open.

> "We want diplomacy," Blinken said.
"""
    article = clean_article(text, "post.md", "markdown")
    assert (article.title, article.date) == ("Blinken to visit Kyiv", "2022-01-18")
    assert article.source == "Jane Doe"
    assert article.paragraphs == [
        "US Secretary of State Antony Blinken will travel to Kyiv on Wednesday.",
        "Russia has massed troops near Ukraine.",
        "NATO says its door stays open.",
        '"We want diplomacy," Blinken said.',
    ]


def test_markdown_chinese_lines_join_without_spaces_and_broken_yaml_is_ignored():
    text = "---\ntitle: [unclosed\n---\n# 标题\n\n第一行正文，\n第二行正文。\n"
    article = clean_article(text, "a.md", "markdown")
    assert article.title == "标题" and article.paragraphs == ["第一行正文，第二行正文。"]


def test_markdown_html_body_drops_headings_keeps_captions():
    text = ("---\ntitle: 标题\ndate: Wed, 19 Jan 2022 02:23:51 GMT\n---\n<div><h3>小标题</h3><p>第一段。</p>"
            "<figure><img src='a.jpg' alt>图片说明（社交网站）</figure><script>var x = 1;</script>"
            "<p>第二段。</p></div>")
    article = clean_article(text, "a.txt", "markdown")
    assert article.date == "2022-01-19"
    assert article.paragraphs == ["第一段。", "图片说明（社交网站）", "第二段。"]


# ------------------------------------------------------------------------------------------ spliced spam

TITLE = "美与俄乌分头谈“和平计划” 却缺席北约外长会"
SPAM_2 = ("3日,头谈俄总统助理乌沙科夫与俄总统新闻秘书佩斯科夫分别披露了一部分俄美会谈的却缺内容。"
          "乌方也公布消息称,席北收到了再次赴美磋商“和平计划”的约外邀请。")
CLEAN_2 = ("3日,俄总统助理乌沙科夫与俄总统新闻秘书佩斯科夫分别披露了一部分俄美会谈的内容。"
           "乌方也公布消息称,收到了再次赴美磋商“和平计划”的邀请。")


def r(paragraphs: list[str]) -> list[str]:
    """Spam removal with the title of 004."""
    return _remove_spliced_spam(paragraphs, TITLE)


def _raw_004_paragraphs() -> list[str]:
    lines = (ARTICLES / "004_686a690c1eedcf70.txt").read_text(encoding="utf-8").split("\n")
    return [line for line in lines[1:38] if line.strip()]


@pytest.mark.parametrize(
    ("spam", "clean"),
    [
        (SPAM_2, CLEAN_2),
        ("在2日美代表团访俄并同俄方进行有关“和平计划”的却缺会谈后,俄总统助理乌沙科夫与俄总统新闻秘书佩斯科夫于3日多次就"
         "这次会谈进行了说明,席北并通报了部分会谈内容。约外",
         "在2日美代表团访俄并同俄方进行有关“和平计划”的会谈后,俄总统助理乌沙科夫与俄总统新闻秘书佩斯科夫于3日多次就"
         "这次会谈进行了说明,并通报了部分会谈内容。"),
        ("双方会谈的却缺内容。席北乌方也收到了约外邀请。", "双方会谈的内容。乌方也收到了邀请。"),
    ],
)
def test_cut_title_pieces_leave_single_sentences(spam, clean):
    assert _remove_spliced_spam([spam], TITLE) == [clean]


@pytest.mark.parametrize(
    "sentence",
    [
        "阿尔贝克表示,他记得上一次缺席北约外长会的美国国务卿还是在2003年的科林·鲍威尔。",
        "按美方的说法,美俄的这次会谈“深入且富有成效”。",
        "与美俄之间“没有达成折中方案”的会谈结果一致,乌总统泽连斯基也强调,俄乌之间的“和平协议”不会有简单的解决方案。",
        "近期,美国为推进其所谓解决俄乌冲突的美俄“和平计划”,分别与乌克兰和俄罗斯进行了会谈。",
        "俄总统普京此前曾就美国提出的“28点和平计划”表态称,该内容可以作为未来协议的基础。",
        "在本次北约外长会召开的前一天,吕特表示,目前北约内部尚未对乌克兰加入该联盟达成一致。",
        "然而一直积极推进“和平计划”的美国,其国务卿鲁比奥却罕见缺席。",
    ],
)
def test_legitimate_occurrences_survive_next_to_spam(sentence):
    # The spammed paragraph proves the page is spammed; the legitimate sentence must stay as it is.
    assert _remove_spliced_spam([SPAM_2, sentence], TITLE) == [CLEAN_2, sentence]


def test_word_like_pieces_go_only_where_the_paragraph_is_spammed():
    spammed = ("与此同时,和平计划北约外长会于3日在布鲁塞尔召开。"
               "美俄然而一直积极推进“和平计划”的乌分美国,其国务卿鲁比奥却罕见缺席。头谈")
    clean = ("与此同时,北约外长会于3日在布鲁塞尔召开。"
             "然而一直积极推进“和平计划”的美国,其国务卿鲁比奥却罕见缺席。")
    untouched = "按美方的说法,美俄的这次会谈“深入且富有成效”。"
    assert _remove_spliced_spam([SPAM_2, spammed, untouched], TITLE) == [CLEAN_2, clean, untouched]


def test_quoted_word_like_piece_stays_in_a_spammed_paragraph():
    spammed = "近期,和平计划美国为推进其所谓解决俄乌冲突的美俄“和平计划”,分别与乌克兰和俄罗斯进行了会谈。乌分"
    clean = "近期,美国为推进其所谓解决俄乌冲突的美俄“和平计划”,分别与乌克兰和俄罗斯进行了会谈。"
    assert _remove_spliced_spam([SPAM_2, spammed], TITLE) == [CLEAN_2, clean]


def test_repeated_foreign_phrase_goes_everywhere():
    paragraphs = ["双方会谈的却缺内容。席北乌方也收到了约外邀请。庆阳市某某搬家培训学校",
                  "综合当前俄方公布的庆阳市某某搬家培训学校内容,本次会谈的要点包括:"]
    assert _remove_spliced_spam(paragraphs, TITLE) == ["双方会谈的内容。乌方也收到了邀请。",
                                                       "综合当前俄方公布的内容,本次会谈的要点包括:"]


def test_repeated_on_topic_phrase_stays():
    paragraphs = ["双方会谈的却缺内容。席北乌方也收到了约外邀请。北约外长会议",
                  "北约外长会议于3日举行。"]
    assert _remove_spliced_spam(paragraphs, TITLE)[1] == "北约外长会议于3日举行。"


def test_the_whole_004_page_is_despammed():
    raw = _raw_004_paragraphs()
    cleaned = _remove_spliced_spam(raw, TITLE)
    expected = EXPECTED["004_686a690c1eedcf70.txt"]
    assert cleaned[:3] == expected[:3]
    assert cleaned[4] == expected[3] and cleaned[5] == expected[4]  # cleaned[3] is a sub-heading line
    assert not any(junk in p for p in cleaned for junk in ("乌分", "头谈", "却缺", "庆阳市"))


def test_sentences_without_spam_are_unchanged(articles):
    for article in articles.values():
        assert _remove_spliced_spam(article.paragraphs, article.title) == article.paragraphs


def test_a_lone_short_form_of_the_title_is_not_spam():
    paragraphs = ["清军南下,成栋率所部降清。", "明军溃败,成栋与数骑出逃。"]
    assert _remove_spliced_spam(paragraphs, "李成栋 (明朝)") == paragraphs


def test_a_lone_piece_is_not_enough():
    sentence = "3日,头谈俄总统助理乌沙科夫披露了会谈内容。"
    assert _remove_spliced_spam([sentence], TITLE) == [sentence]


def test_no_title_no_change():
    assert _remove_spliced_spam([SPAM_2], None) == [SPAM_2]


@pytest.mark.skipif(not CMRC.is_file(), reason="shared/benchmarks/cmrc2018 not present")
def test_no_false_alarm_on_cmrc2018_articles():
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    changed = [a["title"] for a in data
               if _remove_spliced_spam(ps := [p["context"] for p in a["paragraphs"]], a["title"]) != ps]
    assert changed == []


def test_word_like_piece_in_a_spammed_paragraph_is_judged_by_its_junctions():
    # 却缺, 席北 and 乌分 mark the cut points, so 美俄 (before 乌分) was a piece too. "。美俄然而": 俄然 never
    # occurs in fluent text while "。然" does -> spliced; "美俄的这次会谈": ",的" is not fluent -> kept.
    spliced = r(["双方会谈的却缺内容。席北乌方表示同意。美俄然而美国一直积极推进。乌分"])
    kept = r(["双方会谈的却缺内容。按美方的说法,美俄的这次会谈“深入且富有成效”。席北乌分"])
    assert spliced == ["双方会谈的内容。乌方表示同意。然而美国一直积极推进。"]
    assert kept == ["双方会谈的内容。按美方的说法,美俄的这次会谈“深入且富有成效”。"]


def test_reference_character_pairs():
    pairs = _reference_bigrams()
    assert len(pairs) > 100_000 and all(len(p) == 2 for p in list(pairs)[:1000])
    assert {",美", "。然", "的内"} <= pairs and not {"划美", "俄然"} & pairs
