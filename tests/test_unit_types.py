"""The kinds of unit questions and reports are about (data/unit_types.txt, retrieval/search/unit_types.py)."""
import pytest

from retrieval.search.unit_types import asked_types, report_types
from retrieval.text import normalize, normalize_question, tab_rows

ROWS = tab_rows("unit_types.txt")


@pytest.mark.parametrize("kind,naming,own,example,look_alike", ROWS, ids=[r[0] for r in ROWS])
def test_each_row_reads_its_example_and_not_its_look_alike(kind, naming, own, example, look_alike):
    assert kind in asked_types(normalize_question(example)), example
    assert kind not in asked_types(normalize_question(look_alike)), look_alike


def test_a_report_is_about_the_kinds_its_title_names_or_it_speaks_of_as_itself():
    text = normalize("一年来，我镇坚持党建引领，全镇21个村党组织……各村开展主题党日。乡村振兴取得成效。")
    assert report_types("", text) == {"镇"}  # "各村" and "乡村" are other units and words, not itself
    assert report_types(normalize("某县教育局2019年党建述职报告"), "") == {"县", "局"}
    assert report_types(normalize("2023年党建工作总结"), normalize("加强党的建设，推动高质量发展。")) == frozenset()


def test_a_party_group_s_report_speaks_of_its_group_as_itself():
    # a 党组 (an organ's leading party group) is a kind of unit too: named bare at a clause's start
    assert report_types("", normalize("今年以来，党组始终坚持以习近平新时代中国特色社会主义思想为指导")) == {"党组"}
    assert report_types(normalize("2023党组党建工作总结"), "") == {"党组"}
    assert report_types("", normalize("加强基层党组织建设。国务院党组部署……")) == frozenset()  # 党组织; another's group
    assert asked_types(normalize_question("党组织生活会开了几次")) == frozenset()


def test_a_street_s_office_is_the_street():
    assert report_types("", normalize("自五月份开始，我办事处按照区委部署……")) == {"街道"}
    assert asked_types(normalize_question("办事处创先争优第一阶段开了几次动员会")) == {"街道"}


def test_levels_named_in_a_row_are_not_a_report_speaking_of_itself():
    # a district's report citing the meetings of every level above it
    cited = normalize("根据区委工作安排……认真学习贯彻落实省、市意识形态相关会议，全国全省全市宣传部长会议精神。")
    assert report_types("", cited) == frozenset()
    assert report_types("", normalize("全市全县党员干部……")) == frozenset()
    assert report_types("", normalize("全市全面推进基层党建……")) == {"市"}  # 全面 is no level: the city speaks of itself


def test_a_question_names_no_kind_when_it_names_none():
    assert asked_types(normalize_question("意识形态工作存在哪些问题？")) == frozenset()
    assert asked_types(normalize_question("乡镇2022年意识形态工作有哪些风险？")) == {"乡", "镇"}


def test_a_word_names_only_kinds_of_unit_when_their_names_leave_at_most_one_character():
    from retrieval.search.unit_types import kinds_only

    assert kinds_only(normalize("县局")) == {"县", "局"}
    assert kinds_only(normalize("镇里")) == {"镇"}
    assert kinds_only(normalize("市直机关")) == {"市", "机关"}
    assert kinds_only(normalize("乡党委")) == frozenset()  # 党委 is named too
    assert kinds_only(normalize("教育局")) == frozenset()  # an education bureau, not any 局
    assert kinds_only(normalize("支部书记")) == frozenset()
