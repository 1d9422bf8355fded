import numpy as np

from rag.citations import Passage
from rag.extractive import ExtractedSentence
from rag.prompting import build_messages, focus_passages
from rag.schema import Hit


def _passage(chunk_id, doc_id, title, sentences):
    hit = Hit(chunk_id, doc_id, title, "2022-01-24", "新华社", "".join(sentences), 1.0)
    return Passage(0, hit, hit.text, sentences, np.ones((len(sentences), 2), dtype="float32"))


def test_prompt_passages_in_rank_order_each_under_its_article():
    geneva_a = _passage("g#0", "g.txt", "美俄外长在日内瓦举行会谈", ["会谈在日内瓦举行。", "会谈持续了约90分钟。"])
    geneva_b = _passage("g#3", "g.txt", "美俄外长在日内瓦举行会谈", ["俄方将在收到回应后决定下一步行动。"])
    nato = _passage("n#1", "n.txt", "北约外长会", ["北约外长会于3日在布鲁塞尔召开。"])
    ranked = [ExtractedSentence(geneva_a, 1, 0.9, True), ExtractedSentence(nato, 0, 0.8, True),
              ExtractedSentence(geneva_b, 0, 0.7, True), ExtractedSentence(geneva_a, 0, 0.6, True)]
    focused = focus_passages(ranked, 3)
    assert [(p.n, p.hit.chunk_id) for p in focused] == [(1, "g#0"), (2, "n#1"), (3, "g#3")]
    assert [p.text for p in focused] == [s.text for s in ranked[:3]]
    assert focused[0].sentences == geneva_a.sentences  # citations are checked against the whole passage
    system, user = (content for _, content in build_messages("会谈持续了多久？", focused, "zh"))
    assert user.count("《美俄外长在日内瓦举行会谈》 2022-01-24") == 2 and user.count("《北约外长会》") == 1
    assert user.index("[1]") < user.index("[2]") < user.index("[3]") < user.index("问题: 会谈持续了多久？")
    assert "NOT FOUND" in system
