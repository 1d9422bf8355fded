"""rag.transliteration: a foreign name in Latin letters found in Chinese text by its sound; and its use in
rag.citations (`foreign_names`, `unheard_names`)."""

import json
import re
from pathlib import Path

import pytest

from rag.citations import foreign_names, unheard_names
from rag.transliteration import latin_consonants, sounds_in

DATASETS = Path(__file__).resolve().parents[1] / "eval" / "datasets"

# every one of these is how the five sample articles write the name
HEARD = [("Blinken", "布林肯"), ("Trump", "特朗普"), ("Zelensky", "泽连斯基"), ("Kuleba", "库莱巴"),
         ("Stoltenberg", "斯托尔滕贝格"), ("Peskov", "佩斯科夫"), ("Umerov", "乌梅罗夫"), ("Hnatov", "赫纳托夫"),
         ("Alberque", "阿尔贝克"), ("Pokrovsk", "波克罗夫斯克"), ("Donbas", "顿巴斯"),
         ("Lavrov", "拉夫罗夫"), ("Dmitry", "德米特里"), ("Sergey", "谢尔盖"), ("Antony", "安东尼"),
         ("Scholz", "朔尔茨"), ("Kupiansk", "库皮扬斯克"), ("Ushakov", "乌沙科夫"), ("Baerbock", "贝尔伯克"),
         ("Annalena", "安娜莱娜")]


@pytest.mark.parametrize("name, chinese", HEARD)
def test_a_name_is_heard_in_its_transliteration_within_a_sentence(name, chinese):
    assert sounds_in(name, f"据报道,{chinese}3日在会谈后表示,双方将继续保持接触。")


@pytest.mark.parametrize("name, text", [
    ("Baerbock", "新华社莫斯科9月11日电 国务委员兼外长王毅在莫斯科同俄罗斯外长拉夫罗夫举行会谈。"),
    ("Ushakov", "本月10日至13日,围绕乌克兰等问题,俄罗斯曾与美国、北约、欧洲安全与合作组织举行对话。"),
    ("Stoltenberg", "北约秘书长吕特表示,北约内部尚未对乌克兰加入该联盟达成一致。"),
    ("Zelensky", "拉夫罗夫在记者会上说,此次会谈是应美方提议举行的,持续了约90分钟。"),
    ("Zelensky", "布林肯和拉夫罗夫在日内瓦举行会谈"),  # 在日内瓦举 sounds close, but cuts words apart
])
def test_a_name_is_not_heard_where_no_one_by_that_sound_is_named(name, text):
    assert sounds_in(name, text) is False


def test_short_names_are_not_judged():
    assert sounds_in("Rutte", "吕特") is None and sounds_in("Xi", "") is None
    assert latin_consonants("Sybiha") == "SP"


def test_foreign_names_are_the_capitalized_words_no_dictionary_gloss_has():
    assert foreign_names("Which Ukrainian officials did German Foreign Minister Baerbock meet in Kyiv?") == \
        ["Baerbock", "Kyiv"]
    assert foreign_names("Over 67% of NATO states back the PURL mechanism and the Indo-Pacific Cold War",
                         skip_first=False) == []


def test_names_of_a_question_are_judged_together():
    """红军城 is the article's translation of Krasnoarmeysk, not its sound; the question also names Pokrovsk."""
    source = "红军城(乌克兰称波克罗夫斯克)位于顿涅茨克地区"
    assert unheard_names("Where is the town Russia calls Krasnoarmeysk (Pokrovsk to Ukraine)?", source) == []
    assert unheard_names("Where is the town Russia calls Krasnoarmeysk?", source) == ["Krasnoarmeysk"]
    # an answer's names that the question already has are not judged again
    assert unheard_names("Baerbock met Lavrov [1].", "王毅同拉夫罗夫会谈", known="Did Baerbock meet Lavrov?") == []
    assert unheard_names("Ushakov led it [1].", "俄罗斯曾与美国举行对话", known="Who led the Russian side?") == \
        ["Ushakov"]


def _articles(sample_index):
    return {doc: sample_index.article_text(doc) for doc in {c.chunk.doc_id for c in sample_index.store.chunks}}


def test_every_answerable_english_question_is_heard_in_its_evidence_article(sample_index):
    """No false alarm over the ten QA sets: each foreign name of an answerable English question sounds in the
    article its evidence comes from."""
    articles = _articles(sample_index)
    judged = 0
    for path in sorted(DATASETS.glob("*.jsonl")):
        for item in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
            if re.search(r"[\u4e00-\u9fff]", item["question"]) or not item["answerable"]:
                continue
            if foreign_names(item["question"]):
                judged += 1
                for evidence in item["evidence"]:
                    assert unheard_names(item["question"], articles[evidence["doc"]]) == [], item["id"]
    assert judged >= 25, judged
