"""Ranking parts on small arrays: ranks, falling scores, list order, year agreement, features."""
import numpy as np

from retrieval.search.evidence import year_agreement
from retrieval.search.fusion import falling_scores, rank_of
from retrieval.search.lists import stand_together
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
