"""Ranking parts on small arrays: ranks, falling scores, list order, year agreement, features."""
import numpy as np
import pytest

from retrieval.search.evidence import year_agreement
from retrieval.search.fusion import falling_scores, rank_of
from retrieval.search.lists import merge_siblings, run_of, stand_together
from retrieval.search.question import understand


def test_rank_of_keeps_valid_positive_rows_within_depth():
    scores = np.array([0.5, 0.9, 0.0, 0.7, 0.8])
    valid = np.array([True, True, True, True, False])
    assert rank_of(scores, valid, 2).tolist() == [-1, 0, -1, 1, -1]


def test_shown_scores_fall_with_rank():
    ranked = falling_scores([{"score": 2.0}, {"score": 2.5}, {"score": 1.0}, {"score": 1.2}])
    assert [p["score"] for p in ranked] == [2.0, 2.0, 1.0, 1.0]


def test_list_parts_stand_together_without_demoting_the_best():
    hits = [{"start": 300, "id": "best"}, {"start": 100, "id": "a"}, {"start": 500, "id": "b"}, {"start": 200, "id": "c"}]
    assert [h["id"] for h in stand_together(hits)] == ["best", "b", "a", "c"]  # the list goes on after the best


def test_a_section_whose_part_ranked_above_it_takes_the_parts_place():
    """A passage and the section it belongs to never both appear, and neither is lost: a whole section
    ranked below its own part replaces the part; a part ranked below its whole is dropped."""
    part = {"source": "r.txt", "start": 612, "end": 726, "heading_path": ["（一）问题及表现", "二、主体责任不清"],
            "text": "二、主体责任不清。", "score": 3.0}
    whole = {"source": "r.txt", "start": 88, "end": 726, "heading_path": ["（一）问题及表现"],
             "text": "（一）问题及表现……由于思想观念还没有转换过来……二、主体责任不清。", "score": 2.0}
    other = {"source": "s.txt", "start": 0, "end": 50, "heading_path": ["一、成绩"], "text": "一、成绩", "score": 2.5}
    shown = merge_siblings(None, [part, other, whole], 800, 5)
    assert [(p["source"], p["start"], p["end"]) for p in shown] == [("r.txt", 88, 726), ("s.txt", 0, 50)]
    assert shown[0]["text"] == whole["text"] and shown[0]["score"] == 3.0
    assert merge_siblings(None, [whole, other, part], 800, 5) == [whole, other]


def test_a_run_of_outermost_sections_holds_those_that_play_one_role_around_the_ranked_ones():
    def chunk(heading, role, start):
        return {"heading_path": [heading] if heading else [], "section_type": role, "start": start, "id": start}

    opening, a, a2, b, c, problem = (chunk("", "overview", 0), chunk("（一）甲", "work", 10), chunk("（一）甲", "work", 20),
                                     chunk("（二）乙", "work", 30), chunk("（三）丙", "work", 40), chunk("（四）问题", "problem", 50))
    chunks = [opening, a, a2, b, c, problem]
    assert run_of(chunks, {"（二）乙", "（三）丙"}, "work") == [a, a2, b, c]  # the list whole, its first section's two chunks
    assert run_of(chunks, {"（二）乙"}, "work") == []  # one section is no list
    between = [opening, a, {**b, "section_type": "problem"}, c, problem]
    assert run_of(between, {"（一）甲", "（三）丙"}, "work") == []  # another role comes between them


def test_list_and_work_questions_see_their_lists_whole_and_how_many_questions_do_not():
    from retrieval.search.lists import shown_whole
    from retrieval.search.question import understand

    for question in ("意识形态工作存在哪些问题？", "2022年上半年工业园区意识形态工作怎么抓的？", "下一步有哪些打算？"):
        assert shown_whole(understand(question)), question
    for question in ("全年发展了多少名党员？", "“双谈心”制度是什么？"):
        assert not shown_whole(understand(question)), question


def test_year_agreement_reads_what_a_section_is_about():
    # rows: 2026 report review (2025), 2026 report plan (2026), 2025 report review (2024), 2025 report plan (2025)
    years_from = np.array([2025, 2026, 2024, 2025])
    years_to = np.array([2025, 2026, 2024, 2025])
    report = np.array([2026, 2026, 2025, 2025])
    fact = understand("2025年粮食产量是多少?", 2026)
    assert year_agreement(fact, years_from, years_to, report).tolist() == [True, False, False, True]
    named = understand("2025年政府工作报告提出的目标是多少?", 2026)
    assert year_agreement(named, years_from, years_to, report).tolist() == [False, False, True, True]
    same = understand("2025年政府工作报告提出当年的目标是多少?", 2026)
    assert year_agreement(same, years_from, years_to, report).tolist() == [False, False, False, True]
    none = understand("粮食产量是多少?", 2026)
    assert not year_agreement(none, years_from, years_to, report).any()
    # 今年 / 去年 / 明年 that no report anchors count from each row's own report year, as its writer did: a
    # government report of Y plans 今年 (Y) and reviews 去年; none of these plans its 明年
    assert understand("明年打算怎么做?").relative == {1} and not understand("明年打算怎么做?", 2026).relative
    assert year_agreement(understand("今年打算怎么做?"), years_from, years_to, report).tolist() == [0, 1, 0, 1]
    assert year_agreement(understand("去年做了什么?"), years_from, years_to, report).tolist() == [1, 0, 1, 0]
    assert not year_agreement(understand("明年打算怎么做?"), years_from, years_to, report).any()


def test_a_year_inside_a_longer_span_gets_part_credit():
    # rows: "2025年和十四五" review (2021–2025), "2024年工作回顾" (2024), "十五五" plan (2026–2030)
    years_from, years_to = np.array([2021, 2024, 2026]), np.array([2025, 2024, 2030])
    report = np.array([2026, 2025, 2026])
    credit = year_agreement(understand("2024年粮食产量?", 2026), years_from, years_to, report)
    assert credit.tolist() == [0.5, 1.0, 0.0]
    credit = year_agreement(understand("2025年粮食产量?", 2026), years_from, years_to, report)
    assert credit.tolist() == [1.0, 0.0, 0.0]


def test_sentence_coverage_counts_a_concept_once_whichever_word_says_it():
    from retrieval.search.evidence import sentence_coverage
    from retrieval.text import Concept

    concepts = [Concept(("入党", "发展党员"), ("发展", "党员")), Concept(("同志",), ())]
    idf = {"入党": 8.0, "发展党员": 6.0, "发展": 0.5, "党员": 4.0, "同志": 2.0}
    synonym_only = sentence_coverage("全年发展党员3名。", concepts, idf)
    both_words = sentence_coverage("发展党员2名，1名列为入党积极分子。", concepts, idf)
    assert synonym_only == both_words == 0.8  # the concept's weight (8) once, of 8 + 2
    assert sentence_coverage("党员干部参加学习。", concepts, idf) == 0.4  # a part says a part: 党员 (4) of 10
    assert sentence_coverage("党员很多。同志们好。", concepts, idf) == 0.4  # best single sentence, not the sum


def test_a_how_many_question_is_answered_only_by_a_sentence_with_the_figure():
    import re

    from retrieval.search.evidence import sentence_coverage
    from retrieval.text import Concept

    concepts, idf = [Concept(("粮食",), ()), Concept(("总产量",), ())], {"粮食": 1.0, "总产量": 1.0}
    figure = re.compile(r"\d+亿斤")
    assert sentence_coverage("粮食总产量连年丰收。煤炭产能1.4亿吨。", concepts, idf, figure) == 0.0
    assert sentence_coverage("粮食总产量达76.28亿斤。", concepts, idf, figure) == 1.0
    assert sentence_coverage("粮食总产量连年丰收。", concepts, idf) == 1.0  # not a how-many question


def test_row_features_name_role_agreement_and_report_aggregates():
    from retrieval.search.evidence import Evidence
    from retrieval.search.features import ROW_FEATURES, Scores, row_features

    q = understand("意识形态工作存在哪些问题?", 2024)
    n = 3  # rows: a problem section, a plan section of the same report, a work section of another
    ev = Evidence(roles=["problem"], implied=False, role_heading=np.array([True, False, False]),
                  role_paragraph=np.array([False, False, False]), unit=np.zeros(n, bool), year=np.zeros(n),
                  recent=np.zeros(n, bool))
    scores = Scores(np.array([0.8, 0.9, 0.0], np.float32), np.array([0.0, 3.0, 6.0]), np.array([1, 0, -1]), np.array([-1, 1, 0]))
    x = dict(zip(ROW_FEATURES, row_features(scores, ev, q, np.array(["problem", "plan", "work"]), np.array(["a", "a", "b"])).T))
    assert x["role_heading"].tolist() == [1, 0, 0] and x["role_other"].tolist() == [0, 1, 1]
    assert x["asks_role"].tolist() == [1, 1, 1] and x["asks_list"].tolist() == [1, 1, 1]
    assert x["dense_rr"].tolist() == [0.5, 1.0, 0.0] and x["keyword"].tolist() == [0.0, 0.5, 1.0]
    assert x["report_rows"].tolist() == [2 / 3, 2 / 3, 1 / 3] and x["report_dense"].tolist() == [np.float32(0.9)] * 2 + [0.0]


def test_text_features_read_the_sentence_the_title_and_the_year():
    from retrieval.search.features import TEXT_FEATURES, text_features

    q = understand("2024年全年发展了多少名党员?", 2024)
    idf = {t: 1.0 for c in q.concepts for t in c.members}
    rows = [{"text": "2024年，全年发展党员12名。", "heading_path": ["一、组织建设"], "title": "党建工作总结", "item": None},
            {"text": "加强党员教育管理。", "heading_path": ["二、下步打算", "（一）"], "title": "党员工作述职报告", "item": "一是"}]
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, idf, lambda source: frozenset()).T))
    assert x["states_quantity"].tolist() == [1, 0] and x["year_in_text"].tolist() == [1, 0]
    assert x["coverage"][0] > x["coverage"][1] and x["title_coverage"][1] > 0
    assert x["depth"].tolist() == [1, 2] and x["item"].tolist() == [0, 1]
    assert x["asks_unit_type"].tolist() == [0, 0]


def test_a_shortlist_leaning_to_one_genre_more_than_the_corpus_lifts_that_genre_s_rows():
    from retrieval.search.features import TEXT_FEATURES, text_features
    from retrieval.search.genre import genre_lift

    # a corpus of 97 government rows in 100; a shortlist of 18 rows, 8 of them party-building
    government = np.array([True] * 10 + [False] * 8)
    lift = genre_lift(government, 0.97)
    assert lift[-1] > 2 and lift[0] < 0  # party-building is ~15 times likelier here than in the corpus
    assert abs(genre_lift(np.array([True] * 97 + [False] * 3), 0.97)).max() < 1e-9  # a shortlist mixed like the corpus
    assert not genre_lift(government, 0.0).any() and not genre_lift(government, 1.0).any()  # one genre: nothing
    assert len(genre_lift(government[:0], 0.5)) == 0
    q = understand("同级监督怎么落实的?", 2024)
    idf = {t: 1.0 for c in q.concepts for t in c.members}
    rows = [{"text": "落实同级监督。", "heading_path": [], "title": "", "item": None, "source": s, "kind": k}
            for s, k in (("a", "述职报告"), ("b", "政府工作报告"), ("c", None))]
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, idf, lambda source: frozenset(), None, 0.97).T))
    assert x["genre_lift"][0] == x["genre_lift"][2] > 0 > x["genre_lift"][1]  # a report of no kind is party-building
    assert not dict(zip(TEXT_FEATURES, text_features(rows, q, idf, lambda source: frozenset()).T))["genre_lift"].any()


def test_each_genre_s_rows_are_weighed_by_that_genre_s_idf():
    """A word common in government reports and rare in party-building ones ("机制") weighs little for the
    government row and much for the party-building row that leaves it unsaid; no government IDF: one
    IDF weighs both alike."""
    from retrieval.search.features import TEXT_FEATURES, text_features

    q = understand("党建督查机制是怎样的?", 2024)
    words = {t for c in q.concepts for t in c.members}
    party_idf = {t: 4.0 for t in words}
    government_idf = {t: 0.1 if t == "机制" else 4.0 for t in words}
    rows = [{"text": "党建督查常态化。", "heading_path": [], "title": "", "item": None, "source": s, "kind": k}
            for s, k in (("a", "述职报告"), ("b", "政府工作报告"))]
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, party_idf, lambda source: frozenset(), None, 0.5, government_idf).T))
    assert x["coverage"][0] == pytest.approx(2 / 3) and x["coverage"][1] == pytest.approx(8 / 8.1)
    assert x["text_coverage"].tolist() == x["coverage"].tolist()
    same = dict(zip(TEXT_FEATURES, text_features(rows, q, party_idf, lambda source: frozenset(), None, 0.5).T))
    assert same["coverage"][0] == same["coverage"][1] == pytest.approx(2 / 3)


def test_the_kind_of_unit_asked_is_read_against_each_report_s():
    from retrieval.search.features import TEXT_FEATURES, text_features

    q = understand("镇里党员学习强国日均积分多少?", 2024)
    idf = {t: 1.0 for c in q.concepts for t in c.members}
    rows = [{"text": "全镇党员日人均分均超过40分。", "heading_path": [], "title": "", "item": None, "source": s}
            for s in ("town", "city", "unknown")]
    types = {"town": frozenset({"镇"}), "city": frozenset({"市", "机关"}), "unknown": frozenset()}
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, idf, types.get).T))
    assert x["asks_unit_type"].tolist() == [1, 1, 1]
    assert x["unit_type"].tolist() == [1, 0, 0] and x["unit_type_other"].tolist() == [0, 1, 0]


def test_a_report_of_the_unit_named_is_never_about_another_kind():
    """"上海2024年新增专精特新企业多少家？": 企业 is the topic, 上海 the unit; the Shanghai report is not
    "about another kind of unit" though it is about a city, while another city's report still is."""
    import numpy as np

    from retrieval.search.features import TEXT_FEATURES, text_features

    q = understand("上海2024年新增专精特新企业多少家？", 2025)
    assert "企业" in q.unit_types
    idf = {t: 1.0 for c in q.concepts for t in c.members}
    rows = [{"text": "新增专精特新企业2115家。", "heading_path": [], "title": "", "item": None, "source": s}
            for s in ("shanghai", "zhejiang")]
    types = {"shanghai": frozenset({"市"}), "zhejiang": frozenset({"省"})}
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, idf, types.get, np.array([True, False])).T))
    assert x["unit_type_other"].tolist() == [0, 1]


def test_a_report_about_every_kind_of_unit_asked_agrees_more_than_one_about_some():
    from retrieval.search.features import TEXT_FEATURES, text_features

    q = understand("县局支部书记明年抓党建准备从哪几方面入手?", 2023)  # 县 and 局
    idf = {t: 1.0 for c in q.concepts for t in c.members}
    rows = [{"text": "强化第一责任人意识。", "heading_path": [], "title": "", "item": None, "source": s}
            for s in ("county bureau", "city bureau", "city organ")]
    types = {"county bureau": frozenset({"县", "局"}), "city bureau": frozenset({"市", "局"}),
             "city organ": frozenset({"市", "机关"})}
    x = dict(zip(TEXT_FEATURES, text_features(rows, q, idf, types.get).T))
    assert x["unit_type"].tolist() == [1, 0.5, 0] and x["unit_type_other"].tolist() == [0, 0, 1]
