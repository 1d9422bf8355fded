"""rag.crosslingual: Chinese keywords for English questions, from CC-CEDICT glosses."""

from rag.crosslingual import (
    TRANSLATIONS_PER_PHRASE,
    asked_dates,
    base_forms,
    chinese_keywords,
    gloss_index,
    place_names,
    translations,
)
from rag.retrieval import keyword_query
from vectorstore.keyword import tokenize


def test_names_and_phrases_get_their_chinese_words():
    words = chinese_keywords("Where was the NATO foreign ministers' meeting held in Brussels?")
    assert {"北约", "布鲁塞尔"} <= set(words)
    assert "日内瓦" in chinese_keywords("How long did the talks in Geneva last?")
    # a possessive and a plural are looked up as the word itself
    assert "俄罗斯" in chinese_keywords("Russia's troops") and "会谈" in chinese_keywords("talks")


def test_inflected_words_are_looked_up_by_their_base_forms():
    # CC-CEDICT glosses "country", "to discuss", "to hold", "foreign minister": the question says it otherwise
    assert translations("countries")[0] == "国家" and "讨论" in translations("discussed")
    assert "举行" in translations("held") and "外长" in translations("foreign ministers")
    assert "许诺" in translations("pledged") and "会谈" in translations("talks")
    assert {"国家", "讨论", "举行"} <= set(chinese_keywords("Which countries discussed it, and where was it held?"))
    # words that only look inflected stay as they are; a word CC-CEDICT glosses as written is not changed
    assert base_forms("press") == [] and base_forms("status") == [] and base_forms("analysis") == []
    assert translations("news") and translations("news") == [word for word, _ in gloss_index()["news"]]


def test_british_spellings_are_looked_up_as_cc_cedict_spells_them():
    assert "邻居" in translations("neighbour") and "中心" in translations("centre")
    assert translations("labours") and translations("four") == translations("four")  # "four" is no "*our" word
    # a word glossed as written keeps its own glosses
    assert translations("hour") == [word for word, _ in gloss_index()["hour"]]


def test_stop_words_alone_bring_nothing_and_each_phrase_brings_at_most_two():
    assert chinese_keywords("What did they say about it?") == []
    assert chinese_keywords("") == [] and chinese_keywords("会谈持续了多久？") == []
    for phrase in ("initiative", "security", "talks", "Moscow"):
        assert 1 <= len(chinese_keywords(phrase)) <= TRANSLATIONS_PER_PHRASE, phrase


def test_the_gloss_index_keeps_the_head_of_each_gloss():
    glosses = gloss_index()
    assert ("莫斯科", False) in glosses["moscow"]  # from "Moscow, capital of Russia"
    assert ("倡议", True) in glosses["suggest"]  # from "to suggest"
    assert glosses["russia"][0] == ("俄罗斯", True)  # an exact gloss before "Russia, China and North Korea"
    assert all(len(word) >= 2 for word, _ in glosses["moscow"])


def test_only_english_queries_are_expanded():
    assert keyword_query("日内瓦会谈") == tokenize("日内瓦会谈")
    english = keyword_query("talks in Geneva")
    assert english[:2] == tokenize("talks in Geneva") and "日内瓦" in english


def test_english_dates_become_the_chinese_ways_of_writing_them():
    def days(question, sentence):
        return [bool(p.search(sentence)) for p in asked_dates(question)]

    assert days("Who spoke on the 3rd?", "北约外长会3日在布鲁塞尔举行") == [True]
    assert days("Who spoke on the 3rd?", "北约外长会13日在布鲁塞尔举行") == [False]
    assert days("What happened on January 21?", "两国外长21日在日内瓦会谈") == [True]
    assert days("What happened on 21 January?", "两国外长21日在日内瓦会谈") == [True]
    assert days("Whom did he meet on Wednesday?", "他将于周三在基辅会见泽连斯基") == [True]
    assert asked_dates("What happened in 2020?") == [] and asked_dates("他们3日说了什么？") == []


def test_places_come_from_the_dictionary_glosses():
    places = place_names()
    assert {"都柏林", "爱尔兰", "日内瓦", "布鲁塞尔", "莫斯科", "德国"} <= places  # cities and their countries
    assert not {"拉夫罗夫", "普京", "北约", "总统", "新华社"} & places
