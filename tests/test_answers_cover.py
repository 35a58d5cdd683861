"""Issue 21, part 3: direct answers that answer more questions without misleading — lists a review
paragraph states, topics a report's title or opening says, the thing a how-many question counts,
targets read from the clause that states the figure — and a strict scorer (unit tier, no model)."""
import re

import pytest

from retrieval.text import data_rows
from test_web_units import passage

REVIEW = ("一、2025年工作回顾 › （十）统筹发展和安全", "work")
PROBLEMS = ("我们也清醒看到，全区经济社会发展面临的困难仍然不少：内需增长动能不足，投资增长承压；产业转型升级偏慢，"
            "一些企业经营困难；民生领域还有不少弱项。对这些问题，我们一定高度重视、努力解决。")
ROLE_FOUND = {"dense": {}, "keyword": {}, "role": True, "quantity": False, "roles_asked": ["problem"]}


def _review(text, why=ROLE_FOUND, **kw):
    return passage(section=REVIEW[0], section_type=REVIEW[1], title="2026年广西壮族自治区政府工作报告",
                   text="各位代表！过去一年成绩来之不易。\n" + text, why=why, **kw)


# --- lists -------------------------------------------------------------------------------------


def test_a_review_paragraph_that_states_problems_answers_with_its_clauses():
    from retrieval.answer.direct import list_items

    items = list_items("全区经济社会发展还面临哪些困难？", [_review(PROBLEMS)])
    assert [q.text for q in items] == ["内需增长动能不足，投资增长承压；", "产业转型升级偏慢，一些企业经营困难；", "民生领域还有不少弱项"]
    assert all(q.text in PROBLEMS for q in items)  # verbatim, the closing words left out
    # no role found by the searcher, or no colon-or-cue opening: no list
    assert list_items("全区经济社会发展还面临哪些困难？", [_review(PROBLEMS, why={**ROLE_FOUND, "role": False})]) == []
    # without a colon, the list starts after the clause holding the role's wording
    no_colon = "我们清醒地认识到，区域发展不平衡问题依然突出；经济增长基础尚不稳固；改革系统性不够，等等。"
    assert [q.text for q in list_items("存在哪些问题？", [_review(no_colon)])] == [
        "区域发展不平衡问题依然突出；", "经济增长基础尚不稳固；", "改革系统性不够，等等。"]


CLOSING = ("过去一年，虽然有成绩，但在抓党建工作创新、抓难点问题突破等方面还有一定不足。"
           "2024年，我将坚持以党的建设高质量发展带动中心工作高质量提升。")


def test_a_closing_paragraph_stating_the_shortfalls_in_one_sentence_answers_with_it():
    from retrieval.answer.direct import list_items

    def work(text, why=ROLE_FOUND):
        return passage(title="市局党组书记2023年履行全面从严治党主体责任情况报告", section="四、加强党风廉政建设",
                       text="一是加强政治监督。签订承诺书。\n" + text, why=why)

    question = "市局党组书记在履行主体责任的报告里承认了哪些不足？"
    assert [q.text for q in list_items(question, [work(CLOSING)])] == [CLOSING.split("。")[0] + "。"]
    # a first sentence that only announces them: the next one states them
    announced = "同时，我们也清醒地看到，还存在不少问题。党建创新不够，督导力度不强，等等。我们一定正视困难。"
    assert [q.text for q in list_items(question, [work(announced)])] == ["党建创新不够，督导力度不强，等等。"]
    # ...and when the next one only closes the paragraph, nothing
    assert list_items(question, [work("同时，我们也清醒地看到，还存在不少问题。我们一定正视困难，认真加以解决。")]) == []
    # a topic neither the sentence nor its place says: nothing
    assert list_items("市局党组书记在意识形态工作上承认了哪些不足？", [work(CLOSING)]) == []
    # the searcher found no role in the passage: nothing
    assert list_items(question, [work(CLOSING, why={**ROLE_FOUND, "role": False})]) == []


def test_a_numbered_item_stating_a_cause_is_not_a_cause_list():
    from retrieval.answer.direct import list_items

    item = passage(section="二、存在主要问题及原因", section_type="problem",
                   why={**ROLE_FOUND, "roles_asked": ["cause"]},
                   text="(三）表率强度不够。我对党员了解不够全面，从客观上讲，个人精力有限；时间主要用于重点工作；从主观上讲，认识不足。")
    assert list_items("存在问题的原因是什么？", [item]) == []


CAUSED = ("（一）对党建工作认识还不够。客观上由于业务繁忙，导致党务工作上花费的精力少。\n"
          "(二)对党员的教育、管理、监督不够。由于主观上管理意识不强，致使个别党员放松了思想改造，不思进取。\n"
          "(三）表率强度不够。我对党员了解不够全面。\n")


def test_a_cause_question_naming_its_problem_is_answered_by_that_items_cause_sentence():
    from retrieval.answer.direct import list_items

    problems = passage(section="二、存在主要问题及原因", section_type="problem", why=ROLE_FOUND, text=CAUSED)
    items = list_items("个别党员不思进取、放松思想改造，原因出在哪？", [problems])
    assert [q.text for q in items] == ["由于主观上管理意识不强，致使个别党员放松了思想改造，不思进取。"]
    # the one item naming the problem gives no cause: nothing
    assert list_items("表率强度为什么不够？", [problems]) == []
    # no item, or more than one, names the problem: nothing
    assert list_items("纪检监察工作为什么滞后？", [problems]) == []
    assert list_items("党务工作和党员管理为什么不到位，原因是什么？", [problems]) == []
    # a report about another kind of unit than the one asked: nothing
    other = {**problems, "why": {**ROLE_FOUND, "other_unit_type": True}}
    assert list_items("县局个别党员不思进取、放松思想改造，原因出在哪？", [other]) == []
    # only the top passage's report is read
    top = passage(section="一、主要工作", section_type="work", text="全年开展学习12次。", source="乙.txt")
    assert list_items("个别党员不思进取、放松思想改造，原因出在哪？", [top, {**problems, "rank": 2}]) == []


def test_a_passage_that_is_one_item_gives_its_own_cause_and_the_item_saying_most_of_the_problem_answers():
    """_causes_given: the body of a passage headed by an item ("（一）…") is that item; of two items
    that say the topic, the one saying more of it answers; "走过场" is said as "流于形式" (data/paraphrases.txt)."""
    from retrieval.answer.direct import list_items

    item = passage(section="一、存在问题 › （一）思想认识不到位。", section_type="problem", why=ROLE_FOUND, text=(
        "（一）思想认识不到位。\n表现：有的党委落实党风廉政建设主体责任重部署轻检查，述廉评廉流于形式。"
        "由于思想观念还没有真正转换过来，致使落实主体责任的思路不清。\n"
        "二、主体责任不清。\n表现：有的党委把落实党风廉政建设责任制看成纪检组织的事。\n"))
    question = "党风廉政主体责任落实走过场的根源是什么"
    assert [q.text for q in list_items(question, [item])] == ["由于思想观念还没有真正转换过来，致使落实主体责任的思路不清。"]
    # both items say the topic alike: nothing
    alike = {**item, "text": item["text"].replace("述廉评廉流于形式", "述廉评廉不实")}
    assert list_items(question, [alike]) == []


def test_the_topic_may_be_said_by_the_report_title_or_its_opening():
    from retrieval.answer.direct import list_items

    items = "一是理论学习的转化效果不彻底。\n二是政治风险的洞察能力不敏锐。\n"
    p = passage(title="镇党委领导班子2025年度民主生活会对照检查材料", section="一、存在的主要问题 › （一）提高政治能力方面",
                section_type="problem", text="（一）提高政治能力方面\n" + items)
    question = "镇党委班子民主生活会在政治能力上查摆了什么问题"
    assert [q.text for q in list_items(question, [p])] == ["一是理论学习的转化效果不彻底。", "二是政治风险的洞察能力不敏锐。"]
    # a report whose title is a file name: its opening among the top passages says what the title would
    untitled = {**p, "title": "16_gongwk_zhen_dangwei"}
    assert list_items(question, [untitled]) == []
    opening = passage(rank=2, title=untitled["title"], section="", section_type="overview",
                      text="根据上级党委关于召开2025年度民主生活会的统一部署，镇党委领导班子深入查摆问题。")
    assert len(list_items(question, [untitled, opening])) == 2
    # the opening of another report says nothing about this one
    assert list_items(question, [untitled, {**opening, "source": "乙.txt"}]) == []


def test_a_topic_narrower_than_the_list_picks_out_its_items_by_their_quoted_words():
    from retrieval.answer.direct import list_items

    p = passage(section="二、存在主要问题及原因", section_type="problem",
                text="（一）对党建工作认识还不够。业务繁忙。\n（二）对党员的教育管理不够。意识不强。\n（三）表率强度不够。作为支部书记，没有起到表率作用。\n")
    items = list_items("支部书记在表率作用方面有什么问题？", [p])
    assert [q.text for q in items] == ["（三）表率强度不够。作为支部书记，没有起到表率作用。"]
    assert list_items("纪检监察方面有什么问题？", [p]) == []  # no item says it


def test_of_one_reports_lists_the_items_saying_the_whole_topic_answer_before_items_missing_a_concept():
    """One concept of four may go unsaid (``_said``), but not when another list of the same report
    says them all: "学习借鉴" of a list on 谋划 is not the 学习的系统性 asked."""
    from retrieval.answer.direct import list_items

    near = passage(section="二、存在问题 › （四）思考谋划还有薄弱环节", section_type="problem",
                   text="一是创造性开展工作的能力有待提升。\n二是个别基层党组织书记研究新问题不够深，学习借鉴先进经验较少。\n")
    whole = passage(rank=2, section="二、存在问题 › （一）理论学习还不够系统深入", section_type="problem",
                    text="一是中心组集体学习的方式比较多。\n二是个别基层党组织学习的系统性还不够强，自学还不够经常。\n")
    question = "个别基层党组织学习的系统性方面还有哪些不足？"
    assert [q.text for q in list_items(question, [near, whole])] == ["二是个别基层党组织学习的系统性还不够强，自学还不够经常。"]
    # alone, the near list still answers: a concept may go unsaid when nothing says them all
    assert [q.text for q in list_items(question, [near])] == ["二是个别基层党组织书记研究新问题不够深，学习借鉴先进经验较少。"]


def test_a_list_comes_only_from_the_report_of_the_first_passage_playing_the_role():
    from retrieval.answer.direct import list_items

    truncated = passage(section="三、存在问题", section_type="problem", text="三、存在问题\n一是部分驻区单位对社区党建")
    other = passage(rank=2, source="乙.txt", section="二、存在问题", section_type="problem", text="一是学习不深。二是载体不多。")
    assert list_items("社区党建存在什么问题？", [truncated, other]) == []


def test_one_item_whose_line_ends_without_a_stop_answers_when_the_passage_goes_on_after_it():
    """A web copy runs an item's heading into its body and drops the stop at the line's end; another
    line after it shows the copy did not cut it there. At the passage's end nothing shows that."""
    from retrieval.answer.direct import list_items

    item = "(一)职工思想动态掌握不够全面虽然坚持谈心谈话制度,但对职工八小时以外缺乏管理措施"
    question = "局党委在职工思想动态掌握方面存在哪些问题？"
    p = passage(section="二、存在的问题 › (二)意", section_type="problem", text=f"二、存在的问题\n{item}\n(二)意")
    assert [q.text for q in list_items(question, [p])] == [item]
    cut = passage(section="二、存在的问题", section_type="problem", text=f"二、存在的问题\n{item}")
    assert list_items(question, [cut]) == []


def test_which_questions_get_items_not_a_figure():
    from retrieval.answer.direct import direct_answer

    p = passage(section="三、原因分析", section_type="cause", text="一是理想信念有所动摇。二是群众观念有所淡化。另有3条意见。")
    answer = direct_answer("问题根源剖析有哪几条？", [p])
    assert answer.kind == "list" and [q.text for q in answer.quotes] == ["一是理想信念有所动摇。", "二是群众观念有所淡化。另有3条意见。"]


# --- figures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("question, sentence, section_type, quoted", [
    # target wording beside the figure, in another clause, does not make it a target
    ("广西2024年粮食产量是多少？", "初步预计，全区地区生产总值增长4.2%左右，粮食产量280.76亿斤。", "work", True),
    # ...but wording leading it in before a colon does
    ("广西2024年粮食产量是多少？", "主要预期目标是：粮食产量280亿斤。", "work", False),
    # a target word inside a result phrase
    ("宁夏2025年粮食总产量是多少？", "粮食总产量达76.28亿斤，超额完成国家下达任务。", "work", True),
    ("党组中心组学习开展了多少次？", "制定年度党组中心组学习计划，今年已开展中心组学习12次。", "work", True),
    # the thing counted must be named: another crop's output is not the grain output
    ("广西2024年粮食产量是多少？", "食糖产量连续33个榨季排全国第一，水果产量连续7年排全国第一。", "work", False),
    ("宁夏2025年粮食总产量是多少？", "粮食产量达76.28亿斤。", "work", True),  # "产量" names "总产量"
    # the thing counted comes after the quantity word when it is there
    ("基层党组织开了多少次学习会？", "基层党组织召开学习会178次。", "work", True),
    ("基层党组织开了多少次学习会？", "基层党组织开展主题活动40余次。", "work", False),
    # a measure word the searcher does not count
    ("2021年书记上了几节专题党课？", "书记累计上专题党课12节。", "work", True),
    # a level asked is not answered by how much it moved; a change asked is, and "提高到" states a level
    ("甘肃2025年森林覆盖率是多少？", "完成造林2214.54万亩，森林覆盖率提高1.64个百分点。", "work", False),
    ("甘肃2025年森林覆盖率提高了多少？", "完成造林2214.54万亩，森林覆盖率提高1.64个百分点。", "work", True),
    ("甘肃2025年森林覆盖率是多少？", "森林覆盖率达到12.58%，提高1.64个百分点。", "work", True),
    ("甘肃2025年森林覆盖率是多少？", "森林覆盖率提高到12.58%。", "work", True),
    ("2025年城镇新增就业多少人？", "城镇新增就业37.6万人。", "work", True),
    # a rate asked is a percentage, never an amount
    ("2014年赤字率是多少？", "全年财政赤字13500亿元，比上年增加1500亿元。", "work", False),
    ("2014年赤字率是多少？", "财政赤字有所增加，但赤字率稳定在2.1%。", "work", True),
])
def test_figure_sentence_names_the_thing_counted_and_reads_result_or_target_from_its_clause(question, sentence, section_type, quoted):
    from retrieval.answer.direct import figure_sentence

    why = {"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "year": True, "unit": True}
    p = passage(text=sentence, section_type=section_type, why=why, title="政府工作报告", section="一、工作回顾", year=None)
    assert (figure_sentence(question, [p]) is not None) == quoted


@pytest.mark.parametrize("question, data_years, quoted", [
    ("天津2026年农村规模化供水覆盖率多少？", [2026, 2026], True),  # the plan of the year asked: a target is all there is
    ("天津2026年农村规模化供水覆盖率是多少？", [2026, 2027], False),  # it plans other years too
    ("天津2025年农村规模化供水覆盖率多少？", [2026, 2026], False),  # another year
    ("天津2026年农村规模化供水覆盖率提高了多少？", [2026, 2026], False),  # asks what was done: data/answer_cues.txt done
])
def test_a_plan_for_the_year_asked_answers_with_its_target(question, data_years, quoted):
    """A figure question naming a year and no target, whose passage is the plan section of that year
    and no other ("三、2026年重点工作"): its report holds no result of that year, so the target answers."""
    from retrieval.answer.direct import figure_sentence

    why = {"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "year": True, "unit": True}
    p = passage(text="实施农村供水提升工程，农村规模化供水覆盖率提高到90%。", section_type="plan", why=why,
                title="2026年天津市政府工作报告", section="三、2026年重点工作", year=2026, data_years=data_years)
    assert (figure_sentence(question, [p]) is not None) == quoted


def test_a_question_naming_a_report_takes_its_result_first_and_its_target_when_no_result_answers():
    """"2025年…政府工作报告里X是多少？" asks what the report states, in either part: the review's result
    answers first; without one, the plan's target does. A question asking what was done never gets a target."""
    from retrieval.answer.direct import figure_sentence

    why = {"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "year": True, "unit": True}
    title = "2025年浙江省政府工作报告"
    plan = passage(text="提质升级700个乡镇（街道）应急消防管理站。", section_type="plan", why=why, title=title,
                   section="三、2025年主要任务", year=2025, data_years=[2025, 2025])
    review = passage(rank=2, text="全年提质升级乡镇（街道）应急消防管理站650个。", section_type="work", why=why, title=title,
                     section="一、2024年工作回顾", year=2025, data_years=[2024, 2024])
    question = "2025年浙江政府工作报告里应急消防管理站提质升级有多少个？"
    assert figure_sentence(question, [plan]).text.startswith("提质升级700个")
    assert figure_sentence(question, [plan, review]).text.startswith("全年提质升级")
    assert figure_sentence("2025年浙江政府工作报告里应急消防管理站提质升级了多少个？", [plan]) is None


# --- the vocabulary ----------------------------------------------------------------------------


def test_answer_cues_are_known_kinds_and_valid_patterns():
    kinds = {"target", "frame", "closing", "result", "which", "measure", "list_role", "because", "change", "changed", "done", "parts",
             "reporter", "measured", "honours", "honoured", "basis"}
    rows = data_rows("answer_cues.txt")
    assert {kind for kind, *_ in rows} == kinds and all(len(row) == 2 for row in rows)
    for kind, value in rows:
        if kind in ("target", "closing", "result", "which", "measure", "because", "change", "changed", "done", "parts",
                    "reporter", "measured", "honours", "honoured", "basis"):
            re.compile(value)
    assert {value for kind, value in rows if kind == "list_role"} <= {"problem", "cause", "plan", "work", "highlight"}


def test_a_time_frame_only_frames_a_question():
    """"一年来", "近年来" say over what time, as "全年" does (data/answer_cues.txt frame): no item need say them."""
    from retrieval.answer.direct import asked_concepts

    for question, kept in (("乡党委书记一年来抓党建具体做了哪些事？", "党建"), ("县直机关近年来党建工作有哪些特点？", "县直机关")):
        words = {w for c in asked_concepts(question) for w in c.words}
        assert kept in words and not words & {"一年", "近年", "近年来"}, question


def test_a_level_word_only_frames_a_question():
    """"省直" / "县直" say at which level the unit reporting sits, as "全省" says where (data/answer_cues.txt
    frame): a plan's items never say it, and a report need not name its own level in its title."""
    from retrieval.answer.direct import asked_concepts, list_items

    words = {w for c in asked_concepts("省直党组2023年党建工作总结里，下步打算列了哪几条") for w in c.words}
    assert "党组" in words and "省直" not in words
    plan = passage(title="2023党组党建工作总结及下一步工作计划", section="四、下步打算", section_type="plan", year=2023,
                   text="四、下步打算\n（一）压紧压实责任。坚决扛起管党治党责任。\n（二）夯实理论武装。把学习作为首要政治任务。\n")
    assert [q.text for q in list_items("省直党组2023年党建工作总结里，下步打算列了哪几条", [plan])] == [
        "（一）压紧压实责任。坚决扛起管党治党责任。", "（二）夯实理论武装。把学习作为首要政治任务。"]
    # a level said with its organ is a name the report's place must say ("县直机关" of a 县直机关 report)
    assert "县直机关" in {w for c in asked_concepts("县直机关下步打算列了哪几条") for w in c.words}


@pytest.mark.parametrize("sentence, gives_cause", [
    ("由于主观上管理意识不强，致使个别党员放松了思想改造。", True),
    ("客观上由于业务繁忙，导致党务工作上花费的精力少。", True),
    ("究其原因，主要是思想认识不到位。", True),
    ("问题的根源在于责任没有压实。", True),
    ("个别党员放松了思想改造，不思进取。", False),  # the problem itself
    ("全年开展学习12次，原文件已下发。", False),  # "原" of another word
])
def test_because_cues_find_the_sentences_giving_a_cause(sentence, gives_cause):
    from retrieval.answer.direct import _because

    assert bool(_because(sentence)) == gives_cause


# --- the scorer --------------------------------------------------------------------------------


def _one_report(text, heading_path):
    chunks = [{"text": text, "start": 0, "end": len(text), "heading_path": heading_path}]
    return lambda source: (text, chunks)


def test_scorer_judges_a_list_stated_in_a_paragraph_on_that_paragraph():
    from retrieval.eval.answers import list_right
    from retrieval.answer.direct import Quote

    text = "过去一年，粮食产量280亿斤。\n" + PROBLEMS
    q = {"question": "面临哪些困难？", "kind": "problem", "gold": [{"doc": "甲.txt", "span": "内需增长动能不足"}],
         "items": [{"doc": "甲.txt", "span": "内需增长动能不足"}, {"doc": "甲.txt", "span": "产业转型升级偏慢"}]}
    ps = [passage(text=text, start=0, end=len(text))]
    report = _one_report(text, ["一、工作回顾"])
    assert list_right([Quote("内需增长动能不足，投资增长承压；", 1), Quote("民生领域还有不少弱项", 1)], ps, q, report)
    # the same heading section, but outside the paragraph that states the list: wrong
    assert not list_right([Quote("内需增长动能不足，投资增长承压；", 1), Quote("粮食产量280亿斤。", 1)], ps, q, report)
    # with one gold span, the section by headings is the region
    single = {**q, "items": []}
    assert list_right([Quote("粮食产量280亿斤。", 1)], ps, single, report)


def test_scorer_wants_each_item_whole_inside_the_gold_section():
    from retrieval.eval.answers import list_right
    from retrieval.answer.direct import Quote

    text = "二、存在问题\n一是学习不深。二是载体不多。\n三、下步打算\n一是加强学习。"
    chunks = [{"text": text[:22], "start": 0, "end": 22, "heading_path": ["二、存在问题"]},
              {"text": text[22:], "start": 22, "end": len(text), "heading_path": ["三、下步打算"]}]
    q = {"question": "存在哪些问题？", "kind": "problem", "gold": [{"doc": "甲.txt", "span": "学习不深"}]}
    ps = [passage(text=text, start=0, end=len(text))]
    report = lambda source: (text, chunks)  # noqa: E731
    assert list_right([Quote("一是学习不深。", 1), Quote("二是载体不多。", 1)], ps, q, report)
    assert not list_right([Quote("二是载体不多。\n三、下步打算", 1)], ps, q, report)  # runs into the next section


# --- what tells the items of a list apart -------------------------------------------------------


GRID = ("(一)建立健全网格体系。全镇共划分综合网格154个。\n(二)不断完善工作机制。建立“网格吹哨”机制。\n"
        "(三)探索创新服务方式。推行“网格员+志愿者”上门服务。")


def test_what_only_one_item_says_picks_that_item_out_of_the_list():
    from retrieval.answer.direct import list_items

    p = passage(title="网格化在社区党建中作用与探索", section="二、主要做法", text=GRID)
    # the title says all of the question but 服务方式, which only the third item says
    assert [q.text for q in list_items("网格化在社区党建中作用与探索在服务方式方面采取了哪些措施？", [p])] == [
        "(三)探索创新服务方式。推行“网格员+志愿者”上门服务。"]
    # a question the title and heading say whole is answered by the whole list
    assert len(list_items("网格化在社区党建中作用与探索采取了哪些做法？", [p])) == 3
    # an item that says the telling word of another report's topic is not picked
    other = passage(title="2009年政府工作报告", section="三、2009年主要任务", text=GRID)
    assert list_items("2009年镇委科学发展观分析检查阶段在服务方式方面做了哪些事？", [other]) == []


def test_a_figure_counts_the_thing_its_own_clause_names():
    from retrieval.answer.direct import figure_sentence

    elsewhere = passage(title="2023年中共徐庄镇委员会巡察整改进展情况的通报", section="一、整改工作基本情况",
                        text="区委巡察组进驻后，镇党委召开专题会议5次，研究反馈问题整改工作。")
    assert figure_sentence("2023年徐庄镇区委巡察组共反馈问题有多少个？", [elsewhere]) is None
    stated = {**elsewhere, "text": elsewhere["text"] + "区委巡察组共反馈问题4个，已全部完成整改。"}
    assert figure_sentence("2023年徐庄镇区委巡察组共反馈问题有多少个？", [stated]).text == "区委巡察组共反馈问题4个，已全部完成整改。"


def test_a_figure_in_a_documents_name_states_nothing():
    from retrieval.answer.direct import figure_sentence

    p = passage(title="2023年中共徐庄镇委员会巡察整改进展情况的通报", section="一、整改工作基本情况",
                text="镇党委制定印发了《巡察徐庄村等5个村党组织反馈问题整改落实方案》，并明确整改责任人。")
    assert figure_sentence("2023年徐庄镇巡察组共反馈问题有多少个？", [p]) is None


def test_the_word_right_before_what_is_counted_is_never_the_one_let_go():
    """"就业专项资金有多少亿元": 就业 names which fund; a sentence on another fund (中小企业发展专项资金) does not
    answer, though it says three of the four concepts (one may be missing when four or more are)."""
    from retrieval.answer.direct import figure_sentence

    other = "中央财政用于中小企业发展专项资金106亿元。"
    asked = "中央财政用于就业专项资金423亿元。"
    p = passage(title="2010年政府工作报告", section="一、2009年工作回顾", text=other, year=2010)
    question = "2010年政府工作报告里中央财政就业专项资金有多少亿元？"
    assert figure_sentence(question, [p]) is None
    assert figure_sentence(question, [{**p, "text": other + asked}]).text == asked
    # "平均每年实际增长": 实际 names which growth; the nominal one does not answer
    growth = {**p, "text": "社会消费品零售总额平均每年增长10.6％。"}
    assert figure_sentence("2001年政府工作报告里社会消费品零售总额平均每年实际增长是多少？", [growth]) is None
    assert figure_sentence("2001年政府工作报告里社会消费品零售总额平均每年增长是多少？", [growth]) is not None
    # it must be named, not only said in part: "收入" of 人均可支配收入 does not name 财政收入
    income = {**p, "text": "城镇居民人均可支配收入达到10493元，扣除价格因素，增长9.6%。全国财政收入增长19.9%。"}
    assert figure_sentence("2006年政府工作报告里财政收入增长是多少？", [income]).text == "全国财政收入增长19.9%。"


def test_which_one_is_answered_by_an_ordinal_and_a_document_owns_its_article():
    """"公司法第几条" asks which article: "第十九条" answers, a count of articles does not, and the
    document named before it is what the article belongs to."""
    from retrieval.answer.direct import figure_sentence

    cited = "《中华人民共和国公司法》第十九条规定:在公司中,设立中国共产党的组织,开展党的活动。"
    counted = "修订后的公司法共有十三章二百一十九条,其中有关党组织的规定有3条。"
    p = passage(title="县非公有制企业党建工作调研报告", section="二、主要问题", text=counted + cited)
    assert figure_sentence("县非公企业党建调研引用了公司法第几条", [p]).text == cited
    assert figure_sentence("县非公企业党建调研引用了公司法第几条", [{**p, "text": counted}]) is None
    # how many is still a count, and a figure inside a document's name still states nothing
    assert figure_sentence("公司法有关党组织的规定有几条", [{**p, "text": counted}]).text == counted
    assert figure_sentence("公司法有关党组织的规定有几条", [{**p, "text": cited}]) is None


def test_a_figure_has_the_magnitude_asked():
    from retrieval.answer.direct import figure_sentence

    p = passage(title="2026年海南省政府工作报告", section="一、2025年工作回顾",
                text="旅游消费持续回暖。接待入境游客150万人次，增长35.2%。")
    assert figure_sentence("2025年海南接待入境游客有多少亿人次？", [p]) is None  # "150万人次" is not counted in 亿
    assert figure_sentence("2025年海南接待入境游客有多少万人次？", [p]).text == "接待入境游客150万人次，增长35.2%。"
    trillions = {**p, "text": "全年财政收入4.5万亿元。"}
    assert figure_sentence("2025年海南全年财政收入多少亿元？", [trillions]).text == "全年财政收入4.5万亿元。"


def test_a_score_is_said_by_a_figure_in_its_own_unit():
    """data/answer_cues.txt ``measured``, data/counted.txt: "日均积分多少" is stated "日人均分均超过40分" —
    the sentence need not say 积分; a figure in another unit, or a sentence off the topic, does not answer."""
    from retrieval.answer.direct import figure_sentence

    p = passage(title="2023年某镇意识形态工作责任制落实情况", section="一、工作开展情况 › （二）加强理论学习",
                text="召开理论学习中心组学习会10场次。充分运用学习强国平台，全镇党员日人均分均超过40分。",
                why={"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "unit_type": True})
    question = "2023年镇里党员学习强国日均积分多少？"
    assert figure_sentence(question, [p]).text == "充分运用学习强国平台，全镇党员日人均分均超过40分。"
    assert figure_sentence(question, [{**p, "text": "充分运用学习强国平台，全镇党员日均学习40分钟。"}]) is None
    assert figure_sentence(question, [{**p, "text": "镇文化站举办书画比赛，评委打分最高95分。"}]) is None  # off the topic
    assert figure_sentence("2023年镇里党员学习强国学习了多少次？", [p]) is None  # 次 is not asked as a score


def test_one_item_answers_when_its_section_plays_the_role_asked_by_its_heading():
    from retrieval.answer.direct import list_items

    why = {**ROLE_FOUND, "roles_asked": ["problem"]}
    p = passage(title="某镇软弱涣散基层党组织专项整治工作汇报", section="三、存在的问题", section_type="problem", why=why,
                text="三、存在的问题\n一是基层党组织的作用和功能“弱化”。部分基层党组织存在着不适应新形势的问题。")
    assert [q.text for q in list_items("镇软弱涣散党组织专项整治汇报查出什么问题？", [p])] == ["一是基层党组织的作用和功能“弱化”。"]
    # the heading of the passage itself is no item
    heading_only = {**p, "text": "三、存在的问题\n与上级要求相比，仍然存在一定的差距：党建基础还不够牢固。"}
    assert list_items("镇软弱涣散党组织专项整治汇报查出什么问题？", [heading_only]) == []
    # a section that plays another role gives no single item
    work = {**p, "section": "二、工作开展情况", "section_type": "work", "text": "一是召开专题会议。传达文件精神。"}
    assert list_items("镇软弱涣散党组织专项整治汇报查出什么问题？", [work]) == []


def test_a_second_item_alone_answers_only_a_question_that_names_it():
    from retrieval.answer.direct import list_items

    why = {**ROLE_FOUND, "roles_asked": ["work", "highlight"]}
    p = passage(title="2022年乡镇意识形态工作分析研判报告", section="一、意识形态工作总体情况", section_type="work", why=why,
                text="二是压实工作责任，建强舆论阵地。严格责任分工，把意识形态工作纳入干部考核。")
    # "二是" says its list has more items, ranked elsewhere: it is no answer to the whole list …
    assert list_items("意识形态工作采取了哪些措施？", [p]) == []
    # … but it is to a question naming what only it says
    assert [q.text for q in list_items("意识形态工作在舆论阵地方面采取了哪些措施？", [p])] == [p["text"]]
    # a first item alone still answers the whole list (the rest is not in the report: a web copy cut off)
    first = {**p, "text": p["text"].replace("二是", "一是")}
    assert [q.text for q in list_items("意识形态工作采取了哪些措施？", [first])] == [first["text"]]


def test_two_words_the_question_says_side_by_side_pick_out_the_item_saying_them_together():
    from retrieval.answer.direct import list_items

    why = {**ROLE_FOUND, "roles_asked": ["work", "highlight"]}
    opening = passage(title="村党支部工作总结", section="", section_type="overview", why=why, source="c.txt",
                      text="一年来，我村在村领导班子和广大党员中开展学习教育活动。")
    p = passage(title="村党支部工作总结", section="一、努力开创我村村级组织建设工作", section_type="work", why=why,
                source="c.txt", text="一、努力开创我村村级组织建设工作\n1、加强班子建设，解决“有人管事”的问题。\n"
                                     "2、发展壮大集体经济实力，解决“有钱办事”问题。")
    # 班子 is said by the opening, 建设 by the heading: only "班子建设" side by side tells item 1 apart
    assert [q.text for q in list_items("村党支部在班子建设方面采取了哪些措施？", [p, opening])] == [
        "1、加强班子建设，解决“有人管事”的问题。"]
    # the two words apart in the question pick nothing out: the section's items answer
    assert len(list_items("村党支部在班子和组织建设方面采取了哪些措施？", [p, opening])) == 2


def test_a_lead_stating_its_list_with_a_count_answers_when_the_items_below_it_are_fewer():
    from retrieval.answer.direct import list_items

    lead = ("在分析检查阶段，镇委注重做好了征求意见、找准问题等方面工作，重点开展了召开领导班子专题民主生活会、"
            "形成领导班子分析检查报告、组织群众评议三个环节的工作。\n")
    items = "一是认真组织召开了镇委领导班子民主生活会。会上查摆问题。\n二是精心组织撰写了镇委领导班子分析检查报告。"
    p = passage(title="深入学习实践科学发展观第二阶段工作小结", section="", section_type="overview", text=lead + items,
                why={**ROLE_FOUND, "roles_asked": ["work", "highlight"]})
    question = "2009年镇委分析检查阶段做了哪几件事"
    assert [q.text for q in list_items(question, [p])] == [
        "重点开展了召开领导班子专题民主生活会", "形成领导班子分析检查报告", "组织群众评议"]
    # all three items below it: they answer, with their substance
    whole = {**p, "text": p["text"] + "\n三是认真组织开展了群众评议测评工作。发放测评表。"}
    assert [q.text for q in list_items(question, [whole])] == [
        "一是认真组织召开了镇委领导班子民主生活会。", "二是精心组织撰写了镇委领导班子分析检查报告。", "三是认真组织开展了群众评议测评工作。"]
    # a count that is not the number of parts states no list
    loose = {**p, "text": p["text"].replace("三个环节", "四个环节")}
    assert [q.text for q in list_items(question, [loose])] == [
        "一是认真组织召开了镇委领导班子民主生活会。", "二是精心组织撰写了镇委领导班子分析检查报告。"]


def test_a_list_one_sentence_states_in_a_row_answers_a_question_naming_its_kind_of_part():
    from retrieval.answer.direct import kind_asked, list_items

    opening = ("按照xxx小学党支部2022年度组织生活会的计划安排,着重从发挥政治引领作用、贯彻落实上级党组织工作部署、"
               "定期开展党的组织生活、联系服务群众、改进工作作风等方面,对我支部全体党员进行了广泛的意见征求,"
               "深刻查摆了问题不足和具体表现。")
    p = passage(title="学校党支部班子2022年度组织生活会班子对照检查材料", section="", section_type="overview",
                text=opening, year=2022, why={**ROLE_FOUND, "roles_asked": ["work", "highlight"]})
    question = "小学党支部2022年组织生活会征求意见围绕哪几方面"
    assert kind_asked(question) == "方面" and kind_asked("查了哪几类问题") == "类" and kind_asked("有哪些问题") is None
    assert [q.text for q in list_items(question, [p])] == [  # the first part without "着重从"
        "发挥政治引领作用", "贯彻落实上级党组织工作部署", "定期开展党的组织生活", "联系服务群众", "改进工作作风"]
    assert all(q.text in opening for q in list_items(question, [p]))
    # a count after "等" is read too ("等五个方面")
    counted = {**p, "text": opening.replace("等方面", "等五个方面")}
    assert len(list_items(question, [counted])) == 5
    # another kind of part, two parts only, or two such sentences: no list
    assert list_items("小学党支部2022年组织生活会征求意见围绕哪几个领域", [p]) == []
    two_parts = {**p, "text": opening.replace("贯彻落实上级党组织工作部署、定期开展党的组织生活、联系服务群众、", "")}
    assert list_items(question, [two_parts]) == []
    twice = {**p, "text": opening + "下一步将从加强学习、严格管理、改进作风等方面抓好整改。"}
    assert list_items(question, [twice]) == []
    # a sentence that does not say what was asked about answers nothing
    assert list_items("小学党支部2022年主题党日围绕哪几方面", [p]) == []


def test_a_plan_question_leaves_out_who_reports_and_a_problem_question_does_not():
    from retrieval.answer.direct import list_items

    plans = ("三、下一步工作思路和措施\n（一）强化第一责任人意识，形成齐抓共管的党建工作格局。切实担负起职责。"
             "\n（二）抓认识、筑体系，切实加强党建工作和党组织自身建设。坚持把党建工作摆在首位。")
    p = passage(title="无标题报告（2022 年 · 一年来，在县委的正确领导下…）", section="三、下一步工作思路和措施",
                section_type="plan", text=plans, year=2022, why={**ROLE_FOUND, "roles_asked": ["plan"], "unit_type": True})
    assert [q.text for q in list_items("县局支部书记明年抓党建准备从哪几方面入手？", [p])] == [
        "（一）强化第一责任人意识，形成齐抓共管的党建工作格局。", "（二）抓认识、筑体系，切实加强党建工作和党组织自身建设。"]
    # the same items as problems: the question may be about the 书记 himself, and no item says him
    problems = {**p, "section": "二、存在问题", "section_type": "problem", "text": plans.replace("三、下一步工作思路和措施", "二、存在问题"),
                "why": {**ROLE_FOUND, "roles_asked": ["problem"], "unit_type": True}}
    assert list_items("县局支部书记抓党建存在哪些问题？", [problems]) == []


def test_a_problem_sections_lead_listing_shortfalls_in_one_sentence_answers_with_them():
    from retrieval.answer.direct import list_items

    lead = ("三、存在的问题及下一步打算\n一年来，机关党的建设工作虽然取得了一些成绩，但与上级的要求相比，仍然存在一定的差距："
            "党建基础还不够牢固，面对新形势新任务，党务干部能力还有待进一步提升，推动党建和业务工作融合发展方面办法还不够多，"
            "成效还不明显。对此，机关党委将着力补齐工作短板。")
    p = passage(title="党委书记抓党建工作述职报告", section="三、存在的问题及下一步打算", section_type="problem",
                text=lead, why={**ROLE_FOUND, "roles_asked": ["problem"]})
    question = "机关党建跟上级要求比还差在哪些地方？"
    assert [q.text for q in list_items(question, [p])] == [
        "党建基础还不够牢固", "面对新形势新任务，党务干部能力还有待进一步提升", "推动党建和业务工作融合发展方面办法还不够多", "成效还不明显。"]
    # a clause that states no shortfall after the last one that does: no list ("……有待提升，全年召开会议5次。")
    loose = {**p, "text": lead.replace("成效还不明显。", "全年召开会议5次。")}
    assert list_items(question, [loose]) == []
    # the same sentence under a plan asked for is no problem list
    assert list_items("机关党建下一步有什么打算？", [{**p, "why": {**ROLE_FOUND, "roles_asked": ["plan"]}}]) == []


def test_no_direct_answer_from_a_report_about_another_kind_of_unit():
    from retrieval.answer.direct import figure_sentence

    p = passage(title="某镇党建工作总结", section="一、主要工作", text="全年发展党员3名，按期转正党员4名。",
                why={"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "other_unit_type": True})
    assert figure_sentence("某镇全年发展党员多少名？", [p]) is None  # the searcher found the report about another kind
    same = {**p, "why": {**p["why"], "other_unit_type": False}}
    assert figure_sentence("某镇全年发展党员多少名？", [same]).text == "全年发展党员3名，按期转正党员4名。"


def test_a_kind_of_unit_the_question_names_is_said_by_a_report_about_that_kind():
    from retrieval.answer.direct import figure_sentence

    why = {"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], "other_unit_type": False}
    p = passage(title="党委书记抓党建工作述职报告", section="二、特色亮点做法",
                text="进一步完善了《党建工作责任制度》等15项党组织相关规章制度。", why={**why, "unit_type": False})
    question = "县局支部完善了几项党组织规章制度？"  # one concept of five may go unsaid: 县局 and 支部 are two
    assert figure_sentence(question, [p]) is None
    about = {**p, "why": {**why, "unit_type": True}}  # the searcher found the report about a 县 and a 局 ("我县", "本局")
    assert figure_sentence(question, [about]).text == p["text"]


def test_of_the_sentences_stating_a_figure_the_one_saying_most_of_the_question_is_quoted():
    from retrieval.answer.direct import figure_sentence

    p = passage(title="“学四史 悟初心”主题实践活动工作总结", section="一、整体工作情况",
                text="在讲的方面，局党组班子成员深入基层党组织讲党课5人次，辐射13个学校。基层党组织书记讲党课73人次。")
    assert figure_sentence("基层党组织书记讲党课多少人次？", [p]).text == "基层党组织书记讲党课73人次。"


def test_a_heading_is_quoted_once_though_two_passages_hold_it():
    from retrieval.answer.direct import _same_item

    assert _same_item("（九）更大力度推动民生持续改善", "（九）更大力度推动民生持续改善努力让就业更充分。")
    assert not _same_item("（六）坚持城乡融合发展", "（七）坚持以高品质生活为引领")


def test_an_item_is_quoted_without_the_headings_above_it():
    from retrieval.answer.direct import list_items

    why = {**ROLE_FOUND, "roles_asked": ["plan"]}
    first = passage(title="2022年抓党建工作情况述职", section="三、下一步工作思路和措施 › （一）强化第一责任人意识，形成齐抓共管的党建工作格局",
                    section_type="plan", why=why,
                    text="三、下一步工作思路和措施\n（一）强化第一责任人意识，形成齐抓共管的党建工作格局。切实担负起党建第一责任人的职责。")
    second = passage(rank=2, title=first["title"], section="三、下一步工作思路和措施 › （二）加强党员队伍建设",
                     section_type="plan", why=why, text="（二）加强党员队伍建设。严把党员入口关。")
    assert [q.text for q in list_items("2022年抓党建工作情况述职下一步有什么打算？", [first, second])] == [
        "（一）强化第一责任人意识，形成齐抓共管的党建工作格局", "（二）加强党员队伍建设"]


PROBLEM_ITEMS = ("（五）全面从严治党还需久久为功。一是作风建设还要持续用力。个别干部深入基层调研少。"
                 "二是重制度建设、轻督促落实。三是抓拒腐防变的制度体系建设还不够完善。")


def test_a_word_that_only_puts_the_question_does_not_hold_the_list_back():
    from retrieval.answer.direct import list_items, topic_concepts

    p = passage(title="2023党组党建工作总结", section="二、存在问题 › （五）全面从严治党还需久久为功。", section_type="problem",
                why={**ROLE_FOUND, "role": True}, text=PROBLEM_ITEMS)
    question = "党组2023年工作总结里，全面从严治党这块还存在哪些问题？"
    assert [c.words[0] for c in topic_concepts(question, [p])] == ["党组", "全面从严治党"]  # "这块": no passage says it
    assert [q.text for q in list_items(question, [p])] == [
        "一是作风建设还要持续用力。个别干部深入基层调研少。", "二是重制度建设、轻督促落实。", "三是抓拒腐防变的制度体系建设还不够完善。"]
    # a noun no passage says is what was asked, and the search did not find it: no answer
    assert list_items("党组2023年工作总结里，全面从严治党的荣誉还存在哪些问题？", [p]) == []
    # a phrasing word some passage says is kept: it must be said by the items quoted
    assert [c.words[0] for c in topic_concepts(question, [{**p, "text": PROBLEM_ITEMS + "这块"}])] == ["党组", "全面从严治党", "这块"]


@pytest.mark.parametrize("word, phrasing, naming", [
    ("归结为", True, False), ("入手", True, False), ("这块", True, False), ("荣誉", False, True), ("监督", False, True),
    ("市局", False, True), ("考核", False, True), ("民生", False, True), ("困难", False, True), ("充分", False, False),
    ("深入", True, False)])
def test_words_that_put_a_question_or_name_a_thing_are_told_by_their_part_of_speech(word, phrasing, naming):
    from retrieval.text import is_naming, is_phrasing

    assert (is_phrasing(word), is_naming(word)) == (phrasing, naming)


@pytest.mark.parametrize("phrase, item", [
    ("着重从发挥政治引领作用", "发挥政治引领作用"), ("主要从加强学习", "加强学习"), ("在党建工作中", "党建工作中"),
    ("严格党员日常教育管理", "严格党员日常教育管理"), ("从严治党", "从严治党"), ("围绕政治建设", "围绕政治建设")])
def test_a_part_stated_in_a_row_is_quoted_without_the_words_leading_into_it(phrase, item):
    from retrieval.text import lead_in_dropped

    assert lead_in_dropped(phrase) == item


CAUSES = "产生上述问题的原因主要有以下方面：一是党建主体责任落实还未见底到边。二是创新方法缺乏系统思考。"


def _causes(more: str = "") -> dict:
    """A 原因分析 section of a seed-like report, its list ``CAUSES`` and ``more``."""
    return passage(title="2023党组党建工作总结", section="三、原因分析", section_type="cause",
                   why={**ROLE_FOUND, "roles_asked": ["cause"]}, text=CAUSES + more)


def test_a_cause_question_is_answered_with_the_cause_items_on_its_topic():
    from retrieval.answer.direct import list_items

    causes = _causes("三是党建工作考核结果应用还不够充分。考核时听汇报、看材料多。")
    assert [q.text for q in list_items("党建工作考核为啥不够充分？", [causes])] == ["三是党建工作考核结果应用还不够充分。"]
    assert [q.text for q in list_items("党组的问题原因是什么？", [causes])] == [
        "一是党建主体责任落实还未见底到边。", "二是创新方法缺乏系统思考。", "三是党建工作考核结果应用还不够充分。"]


def test_an_item_named_by_its_quote_may_say_the_rest_of_the_question_in_its_next_sentence():
    from retrieval.answer.direct import list_items

    causes = _causes("三是党建工作考核结果应用还不够充分。考核时听汇报、看材料多，考核基层党组织书记的导向带动作用方面需要创新。")
    # 考核 (a thing the quote names) picks the item; its next sentence says 导向, 带动 and 作用
    assert [q.text for q in list_items("党建考核为啥没起到导向带动作用？", [causes])] == ["三是党建工作考核结果应用还不够充分。"]
    # a degree word the quote says ("充分") picks nothing by the sentences after it
    assert list_items("基层党组织的作用为什么说发挥得不够充分？", [causes]) == []
    # nor does a third sentence count: the quote and the substance right after it
    later = {**causes, "text": causes["text"].replace("考核时听汇报、看材料多，", "考核时听汇报、看材料多。")}
    assert list_items("党建考核为啥没起到导向带动作用？", [later]) == []


def test_a_question_naming_only_a_role_is_answered_only_when_the_passages_share_one_report():
    from retrieval.answer.direct import list_items

    causes = _causes()
    other = {**causes, "rank": 2, "source": "乙.txt", "title": "某所领导班子存在问题的原因分析"}
    question = "存在问题的原因是什么？"
    assert [q.text for q in list_items(question, [causes, {**causes, "rank": 2}])] == [
        "一是党建主体责任落实还未见底到边。", "二是创新方法缺乏系统思考。"]  # one report (a report filter, a follow-up's scope)
    assert list_items(question, [causes, other]) == []  # which report's causes? nothing in the question says
    # a topic, a unit or a year picks the report: the list is answered as before
    assert list_items("党建工作存在问题的原因是什么？", [causes, other]) != []
    assert list_items("2023年存在问题的原因是什么？", [{**causes, "why": {**causes["why"], "year": True}}, other]) != []


def test_the_thing_a_list_question_lists_is_said_by_each_item_or_its_place():
    from retrieval.answer.direct import asked_concepts, listed, list_items

    question = "集团下属公司党支部创先争优制定了哪些方案"
    assert listed(question, asked_concepts(question)).words == ("方案",)  # right after 哪些
    assert listed("县局支部书记明年抓党建准备从哪几方面入手？", asked_concepts("县局支部书记明年抓党建准备从哪几方面入手？")) is None
    # the head of the phrase after the list word: what a modifier before it says does not make an item
    for question, head in (("学校获得过哪些国家级荣誉？", "荣誉"), ("开展了哪些慰问困难群众的活动？", "活动"),
                           ("制定了哪些方案来推进工作？", "方案")):
        assert head in listed(question, asked_concepts(question)).words, question
    lead = "根据集团党委创先争优活动的要求,我公司党支部结合具体情况,现将本阶段工作总结如下:\n"
    sections = passage(title="创先争优活动第一阶段总结", section="第一篇:创先争优活动第一阶段总结", section_type="work",
                       text=lead + "一、统一思想,全面提高党员干部素质\n公司党支部召开党员会议。\n"
                                   "二、活动开展情况\n公司党支部在这次活动中查找不足,争创工作新局面。")
    # sections of the report that say nothing of 方案 do not list the plans, however much else they say
    assert list_items(question, [sections]) == []
    plans = {**sections, "text": lead + "一是制定了《创先争优活动实施方案》。\n二是制定了《党支部和党员公开承诺实施方案》。"}
    assert [q.text for q in list_items(question, [plans])] == ["一是制定了《创先争优活动实施方案》。", "二是制定了《党支部和党员公开承诺实施方案》。"]



@pytest.mark.parametrize("text", ["", "\n\n", "。。；；", "同时，我们也清醒地看到，", "由于", "（一）\n（二）由于。\n",
                                  "虽然有成绩，但" * 2000, "一是由于主观上。\n二是由于客观上。\n" * 500])
@pytest.mark.parametrize("question", ["个别党员放松思想改造，原因出在哪？", "还存在哪些不足？", "党员有多少名？"])
def test_answers_over_broken_text_abstain_or_quote_it_verbatim(text, question):
    from retrieval.answer.direct import direct_answer

    p = passage(section="二、存在主要问题及原因", section_type="work", text=text, why=ROLE_FOUND)
    answer = direct_answer(question, [p])
    assert answer is None or all(q.text.rstrip("…") in text for q in answer.quotes)


def test_a_web_copy_whose_outermost_headings_are_items_lists_them_as_one_section():
    """A copy that starts inside a section ("（一）…", "（二）…" with no "一、" above them) keeps the items
    of one list: they answer as a heading's items would. Headings of the ladder's top rung ("一、…",
    "二、…") are the report's parts, not a list; items of another kind or role are not siblings."""
    from retrieval.answer.direct import list_items

    title = "2022年上半年某工业园区工作委员会意识形态工作情况报告"
    first = passage(rank=1, source="园区.txt", title=title, section="（一）强化组织领导，完善体制机制。", year=2022,
                    text="（一）强化组织领导，完善体制机制。园区党工委把意识形态工作纳入重要议事日程。")
    second = passage(rank=2, source="园区.txt", title=title, section="（二）强化理论学习，筑牢思想根基。", year=2022,
                     text="（二）强化理论学习，筑牢思想根基。园区党工委落实理论学习中心组学习制度。")
    question = "园区党工委2022上半年意识形态工作从哪几方面抓"
    items = list_items(question, [first, second])
    assert [q.text for q in items] == ["（一）强化组织领导，完善体制机制。", "（二）强化理论学习，筑牢思想根基。"]

    def top_rung(p, heading):
        return {**p, "section": heading, "text": heading + p["text"].split("。", 1)[1]}

    parts = [top_rung(first, "一、工作开展情况"), top_rung(second, "二、存在的问题")]
    assert list_items(question, parts) == []
    assert list_items(question, [first, {**second, "section_type": "problem"}]) == []
    assert list_items(question, [first, {**second, "section": "1.强化理论学习，筑牢思想根基。",
                                         "text": "1.强化理论学习，筑牢思想根基。园区党工委落实理论学习中心组学习制度。"}]) == []


def test_a_work_question_answers_with_the_items_its_first_passage_enumerates_and_nothing_else():
    """"…具体怎么搞的？" asks how something was done: the 一是/二是 items of the first passage that plays the
    work role answer it (those the question names, when it names some). A passage of one item,
    single-item passages under one heading and another passage's items do not: a work question names
    one item of a list as often as the list."""
    from retrieval.answer.direct import list_items

    title = "2023年党委书记抓党建述职报告"
    items = ("（四）聚焦队伍建设，在提升活力上下功夫。一是强化组织建设。改选了机关党委书记，培训党支部书记11人次。"
             "二是开展结对帮带。下发《关于开展党员干部“一帮一”活动的通知》，安排党员干部结成对子。"
             "三是发挥先锋作用。设立党员先锋岗5个。")
    first = passage(rank=1, source="机关.txt", title=title, year=2023, text=items,
                    section="一、主要工作开展情况 › （四）聚焦队伍建设，在提升活力上下功夫。")
    question = "党员结对帮带具体怎么搞的？"
    quoted = [q.text for q in list_items(question, [first])]  # the one of them it names
    assert quoted == ["二是开展结对帮带。下发《关于开展党员干部“一帮一”活动的通知》，安排党员干部结成对子。"]
    assert len(list_items("机关党委队伍建设具体怎么搞的？", [first])) == 3

    one = {**first, "text": "（四）聚焦队伍建设，在提升活力上下功夫。二是开展结对帮带。下发《关于开展党员干部“一帮一”活动的通知》。"}
    assert list_items(question, [one]) == []
    singles = [passage(rank=i, source="机关.txt", title=title, year=2023, section=f"一、主要工作开展情况 › {h}",
                       text=f"{h}安排党员干部结成对子，开展结对帮带。")
               for i, h in enumerate(("（一）强化组织建设。", "（二）开展结对帮带。"), 1)]
    assert list_items("机关党委主要工作具体怎么搞的？", singles) == []
    assert len(list_items("机关党委主要做了哪些工作？", singles)) == 2  # a list question gathers them
    prose = {**first, "text": "（四）聚焦队伍建设，在提升活力上下功夫。机关党委组织党员干部开展结对帮带。"}
    assert list_items(question, [prose, {**first, "rank": 2}]) == []


def test_the_one_sibling_a_list_question_picks_answers_with_its_substance_not_its_bare_heading():
    """Single-item passages under one heading, of which the question names one ("下一步如何加强执纪监督？" of
    "（三）强化执纪监督。"): the sentences of that item answer — a bare heading says what, not how."""
    from retrieval.answer.direct import list_items

    section = "三、下步打算 › "
    heads = ("（一）压紧压实责任。", "（二）夯实理论武装。", "（三）强化执纪监督。")
    bodies = ("坚决扛起管党治党责任。督促班子成员履行一岗双责。", "把学习作为首要政治任务。深化理论学习中心组学习。",
              "持之以恒加强党风廉政建设，运用好监督执纪四种形态。加大党员干部监管力度，抓好经常性纪律教育。")
    top = [passage(rank=i, title="2023党组党建工作总结及下一步工作计划", section=section + h, section_type="plan",
                   year=2023, text=f"{h}{b}") for i, (h, b) in enumerate(zip(heads, bodies), 1)]
    top = [top[2], *top[:2]]  # the item asked for ranks first
    quoted = [q.text for q in list_items("下一步如何加强执纪监督？", top)]
    assert quoted == ["持之以恒加强党风廉政建设，运用好监督执纪四种形态。", "加大党员干部监管力度，抓好经常性纪律教育。"]
    # an item whose substance is one sentence has no prose to quote: its heading stands for it
    short = [{**top[0], "text": "（三）强化执纪监督。加大党员干部监管力度。"}, *top[1:]]
    assert [q.text for q in list_items("下一步如何加强执纪监督？", short)] == ["（三）强化执纪监督。"]
    # a question naming the whole list gets every item, each by its heading
    assert len(list_items("下一步有哪些打算？", top)) == 3


def test_a_point_inside_one_item_is_no_sibling_of_the_items_of_its_list():
    """Under one heading, the passages of a list's items share one kind of marker: "三是…", a point
    inside the later part of the item "(二)…", is not an item beside it."""
    from retrieval.answer.direct import list_items

    section = "三、2016年重点工作 › (二)加强供给侧结构性改革，增强持续增长动力。"
    head = passage(title="2016年政府工作报告", section=section, section_type="plan", year=2016,
                   text="(二)加强供给侧结构性改革，增强持续增长动力。围绕解决重点领域突出问题。推动产业结构调整。")
    point = passage(rank=2, title="2016年政府工作报告", section=section, section_type="plan", year=2016,
                    text="三是加快现代服务业发展。启动新一轮国家服务业综合改革试点。")
    quoted = [q.text for q in list_items("2016年在结构性改革方面有什么打算？", [head, point])]
    assert quoted == ["围绕解决重点领域突出问题。", "推动产业结构调整。"]


def test_one_list_numbers_each_item_once_and_a_passage_with_a_list_of_its_own_is_no_item_of_another():
    """A long section holds several runs of "一是…三是…": two passages each a "三是" are points of two lists,
    and a passage enumerating "一是…二是…" is a list of its own, not one item beside them."""
    from retrieval.answer.direct import list_items

    section = "三、2016年重点工作 › (二)加强供给侧结构性改革，增强持续增长动力。"
    texts = ("三是深化科技管理体制改革。扩大高校和科研院所自主权。",
             "一是提升消费品品质。建立商品质量惩罚性赔偿制度。\n二是促进制造业升级。建设若干国家级制造业创新平台。",
             "三是加快现代服务业发展。启动新一轮国家服务业综合改革试点。")
    top = [passage(rank=i, title="2016年政府工作报告", section=section, section_type="plan", year=2016, text=t)
           for i, t in enumerate(texts, 1)]
    assert [q.text for q in list_items("2016年有哪些工作安排？", top)] == [
        "一是提升消费品品质。建立商品质量惩罚性赔偿制度。", "二是促进制造业升级。建设若干国家级制造业创新平台。"]


def test_the_one_item_ranked_under_its_heading_answers_by_its_substance_when_its_heading_names_the_topic():
    """No sibling of the top passage is ranked, but its own heading names what the question asks and
    the place above does not ("产业升级" of "（一）产业升级成效显著。"): the sentences of its substance answer.
    "取得" only puts the question (data/answer_cues.txt frame): no item need say it."""
    from retrieval.answer.direct import list_items

    item = passage(title="2025年山东省政府工作报告", section="一、2024年工作回顾 › （一）产业升级成效显著。", year=2025,
                   text="（一）产业升级成效显著。工业增势强劲，规上工业增加值增长8.3%。新增国家先进制造业集群3个。")
    expected = ["工业增势强劲，规上工业增加值增长8.3%。", "新增国家先进制造业集群3个。"]
    assert [q.text for q in list_items("2024年在产业升级方面有哪些成效？", [item])] == expected
    other = passage(rank=2, source="乙.txt", title="2025年河南省政府工作报告", section="二、存在的问题", section_type="problem",
                    year=2025, text="虽然取得了一定成绩，但产业升级任务仍然艰巨。")  # a ranked passage says 取得
    assert [q.text for q in list_items("2024年在产业升级方面取得了哪些成效？", [item, other])] == expected
    # a heading that does not name the topic answers nothing
    assert list_items("2024年在民生保障方面有哪些成效？", [item]) == []


def test_a_direct_answer_quotes_at_most_eight_items_and_the_passage_holds_the_rest():
    from retrieval.answer.direct import MAX_ITEMS, direct_answer, list_items

    body = "".join(f"新建第{n}批产业园区。" for n in range(1, 11))
    item = passage(title="2025年山东省政府工作报告", section="一、2024年工作回顾 › （一）产业升级成效显著。", year=2025,
                   text=f"（一）产业升级成效显著。{body}")
    assert len(list_items("2024年在产业升级方面有哪些成效？", [item])) == 10
    answer = direct_answer("2024年在产业升级方面有哪些成效？", [item])
    assert [q.text for q in answer.quotes] == [f"新建第{n}批产业园区。" for n in range(1, MAX_ITEMS + 1)]


def test_members_made_full_members_answer_how_many_were_confirmed():
    """"转正" is what a report says as "成为正式党员" or "转为正式党员" (data/synonyms.txt): the sentence
    that says so answers "有几人转正", and a sentence counting only probationary members does not."""
    from retrieval.answer.direct import figure_sentence
    from retrieval.text import concepts, normalize_question

    assert {"成为正式党员", "转为正式党员"} <= set(next(c for c in concepts("有几人转正") if "转正" in c.words).words)
    text = "本学期，支部向党组织推荐了10名同学为预备党员，2名同学已成为正式党员。"
    p = passage(title="某学院学生党支部2010年上半年工作总结", section="一、基本情况", year=2010, text=text)
    quote = figure_sentence(normalize_question("学生党支部2010年上半年有几人转正"), [p])
    assert quote is not None and "2名同学已成为正式党员" in quote.text
    only = {**p, "text": "本学期，支部向党组织推荐了10名同学为预备党员。"}
    assert figure_sentence(normalize_question("学生党支部2010年上半年有几人转正"), [only]) is None


def test_a_work_question_answers_with_the_sentences_of_an_item_said_in_prose():
    """A section headed by one item whose substance is prose ("（一）突出政治担当，落实主体责任。严格落实…。
    坚持…。") answers a work question ("…是怎么落实的？") with the sentences of the paragraph its heading opens,
    when that heading names what the report's title leaves unsaid — never a heading cut short in its
    path, a body of one sentence, a last line a web copy cut off, or a heading naming something else."""
    from retrieval.answer.direct import list_items

    heading = "（一）突出政治担当，落实主体责任。"
    body = ("严格落实党管意识形态责任制，把意识形态工作与中心工作同部署、同落实、同检查、同考核。"
            "坚持党委对意识形态工作负主体责任，班子成员履行“一岗双责”，将意识形态工作列入干部考核。")
    later = "\n舆论阵地建设进一步加强。全年开展网络舆情研判4次。"  # the section's next sub-topic
    first = passage(rank=1, source="镇.txt", title="2023年镇意识形态工作情况报告", year=2023,
                    section=f"一、工作开展情况 › {heading}", text=f"一、工作开展情况\n{heading}{body}{later}")
    question = "2023年意识形态主体责任是怎么落实的？"
    answer = list_items(question, [first])
    assert [q.text for q in answer] == [body[:body.index("。") + 1], body[body.index("。") + 1:]]
    assert all(q.rank == 1 for q in answer)

    assert list_items(question, [{**first, "text": f"{heading}{body[:body.index('。') + 1]}"}]) == []
    cut = {**first, "text": f"{heading}{body}确保意识形态工作抓实抓细"}  # the copy ends mid-sentence
    assert [q.text for q in list_items(question, [cut])] == [q.text for q in answer]
    assert list_items(question, [{**first, "section": "一、工作开展情况 › （一）突出政治担当，落…"}]) == []
    untitled = {**first, "section": "", "text": body}  # a report's opening: no item heads it
    assert list_items(question, [untitled]) == []
    # the heading names something else: its sentences do not say how 主体责任 was carried out
    other = "（二）加强理论学习，提升思想水平。"
    assert list_items(question, [{**first, "section": f"一、工作开展情况 › {other}", "text": f"{other}{body}"}]) == []
    assert list_items("2023年意识形态工作是怎么抓的？", [first]) == []  # the title says it all: nothing picks this item
    # a title saying half of a concept ("责任制" holds 责任, not 主体责任) leaves it for the heading to name; "压实"
    # only puts the question (data/answer_cues.txt frame)
    half = {**first, "title": "2023年贯彻落实意识形态工作责任制情况及2024年工作计划"}
    assert [q.text for q in list_items(question, [half])] == [q.text for q in answer]
    assert [q.text for q in list_items("2023年意识形态主体责任是咋压实的", [half])] == [q.text for q in answer]


def test_the_one_item_a_question_picks_answers_with_its_prose_when_its_heading_stands_alone():
    """Of a passage's items headed on lines of their own ("1.年度党建情况" / "2.党风廉政情况", each over a
    paragraph), the one the question names answers with the sentences of its paragraph — not its heading
    and first sentence; a paragraph of one sentence leaves the item as it was quoted."""
    from retrieval.answer.direct import list_items

    body = ("我校落实“双减”政策，开展课后延时服务。组织开展师德专题教育，签订廉洁从教承诺书。"
            "通过拒受家长礼品礼金等专项整治，促进党员教师廉洁从教。")
    text = ("一、学校党建工作履职情况\n1.年度党建情况\n我校党总支下辖3个在职支部，坚持学习党的创新理论。\n"
            f"2.党风廉政情况\n{body}")
    first = passage(source="中学.txt", title="中学党总支2021年度工作总结", year=2021,
                    section="一、学校党建工作履职情况", text=text)
    answer = list_items("2021年中学党总支在党风廉政上做了哪些事？", [first])
    assert [q.text for q in answer] == [s + "。" for s in body.split("。") if s]
    one = {**first, "text": text.replace(body, "我校落实“双减”政策，开展课后延时服务。")}
    assert [q.text for q in list_items("2021年中学党总支在党风廉政上做了哪些事？", [one])] == [
        "2.党风廉政情况\n我校落实“双减”政策，开展课后延时服务。"]


def test_a_passage_that_is_one_item_answers_with_its_substance_when_its_bare_heading_picks_it():
    """A work question whose top passage is one item of a section, a bare heading before its substance
    ("三是强化督促检查。结合…"), is answered by the sentences after the heading when the heading names what
    the title and the headings above leave unsaid and the substance names the rest; a heading naming none
    of it, or a substance leaving a part unnamed, answers nothing."""
    from retrieval.answer.direct import list_items

    body = ("结合机关党建季度督查工作，对各党支部组织党员干部开展集中学习情况进行督导，定期调阅党员干部学习笔记。"
            "今年以来，共下发各类学习通知11次，调阅党员干部学习笔记60余人（次）。")
    item = passage(title="党委书记抓党建工作述职报告", section="一、主要工作开展情况 › （二）聚焦政治站位，在强化学习上下功夫。",
                   text="三是强化督促检查。" + body, why={**ROLE_FOUND, "roles_asked": ["highlight", "work"]})
    question = "机关党委书记述职里，是怎么督促检查党员干部学习的"
    assert [q.text for q in list_items(question, [item])] == [s + "。" for s in body.split("。") if s]
    # the heading names nothing the question asks about ("党员干部" and "学习" are said, "督促检查" only by it)
    assert list_items(question, [{**item, "text": "三是加强教育引导。" + body}]) == []
    # the substance leaves "党员干部" unnamed
    assert list_items(question, [{**item, "text": "三是强化督促检查。" + body.replace("党员干部", "同志")}]) == []


def test_a_work_question_its_items_place_says_whole_is_answered_by_the_list_they_make():
    """A work question whose every concept the report's title and the headings above its top passage
    name, and that passage's own heading none ("2022年上半年工业园区意识形态工作怎么抓的？" over "(二)强化理论
    学习…" of a report on exactly that), asks how the whole was done: the items of that list among the top
    passages answer. Not when the top passage's heading names a concept (that item is what is asked), nor
    when the question names something its place does not."""
    from retrieval.answer.direct import list_items

    title, parent = "2022年上半年某工业园区工作委员会意识形态工作情况报告", "一、工作开展情况"
    headings = ["(二)强化理论学习,筑牢思想根基。", "(一)强化组织领导,完善体制机制。", "(三)紧抓舆论引导,加大宣传力度。"]
    bodies = ["制定了党工委理论学习中心组学习年度计划安排,上半年集中学习6次。", "进一步完善园区绩效考核制度,将其纳入年度考核。",
              "今年以来,园区进一步加强正面宣传,发布信息20余条。"]
    why = {**ROLE_FOUND, "roles_asked": ["highlight", "work"]}
    top = [passage(rank=i + 1, title=title, section=f"{parent} › {h}", year=2022, text=h + "\n" + b, why=why)
           for i, (h, b) in enumerate(zip(headings, bodies))]
    top = [{**p, "start": 100 * "一二三".index(p["text"][1])} for p in top]  # where each stands in the report
    items = list_items("2022年上半年工业园区意识形态工作怎么抓的？", top)
    assert [q.text for q in items] == sorted(headings, key=lambda h: "一二三".index(h[1]))  # as the report reads
    assert [q.rank for q in items] == [2, 1, 3]
    # the question names what the place does not ("网络阵地"): the whole list is not what it asks
    assert list_items("2022年上半年工业园区意识形态网络阵地工作怎么抓的？", top) == []
    # the top passage's heading names a concept asked ("理论学习"): that item, not the list
    named = [{**top[0], "section": f"{parent} › (二)强化意识形态理论学习。", "text": "(二)强化意识形态理论学习。\n" + bodies[0]},
             *top[1:]]
    assert list_items("2022年上半年工业园区意识形态工作怎么抓的？", named) == []


def test_overall_only_puts_the_question_and_a_plan_opening_answers_with_its_sentences():
    """"总体上" / "整体上" (data/question_words.txt) ask for the whole, they are not what an item must say:
    a plan stated in a report's opening answers "…下一步总体上打算抓哪些事" with its sentences."""
    from retrieval.answer.direct import list_items
    from retrieval.answer.topic import topic_of

    assert topic_of("社区党总支下一步总体上打算抓哪些事") == topic_of("社区党总支下一步打算抓哪些事")
    assert topic_of("学四史活动整体上是怎么铺开的") == topic_of("学四史活动是怎么铺开的")
    opening = ("我社区党总支在街道党工委的领导下，认真开展各项工作。我们将会继续努力开创党建工作新局面，"
               "加强社区党组织建设，健全党组织服务网络。继续深入开展党内组织生活规范年活动。")
    p = passage(title="社区党总支工作总结及计划", section="", section_type="overview", text=opening,
                why={**ROLE_FOUND, "roles_asked": ["plan"], "unit_type": True})
    quoted = ["加强社区党组织建设，健全党组织服务网络。", "继续深入开展党内组织生活规范年活动。"]
    assert [q.text for q in list_items("社区党总支下一步总体上打算抓哪些事", [p])] == quoted
    assert [q.text for q in list_items("社区党总支下一步打算抓哪些事", [p])] == quoted


# --- honours -----------------------------------------------------------------------------------


@pytest.mark.parametrize("question, asks", [
    ("象山社区这两年拿过哪些荣誉", True),
    ("市委组织部机关党委和支部得过哪些市级荣誉", True),
    ("污水处理厂项目党支部获得过什么荣誉", True),  # not a list word: "什么"
    ("获得了哪些荣誉称号？", True),
    ("得过啥奖项", True),
    ("组织部机关支部的书记项目有获奖吗？", False),  # whether, not which
    ("有哪些措施增强党员的荣誉感", False),  # a word holding 荣誉
    ("荣誉室建了哪些展板", False),
    ("对企业有哪些奖励政策", False),
])
def test_a_question_asks_for_honours_by_which_and_an_honour_noun(question, asks):
    from retrieval.answer.direct import asks_honours

    assert asks_honours(question) is asks


HONOURS = ("象山社区位于绥芬河市区繁华地带。两年来，我们立足本社区实际，全力实施“125工程”。社区先后荣获“省级爱国卫生先进单位”、"
           "“绥芬河镇先进党支部”等荣誉称号。具体情况汇报如下：")


def test_an_honours_question_is_answered_by_the_sentences_stating_an_honour():
    from retrieval.answer.direct import direct_answer

    def opening(text=HONOURS, **kw):
        return passage(title="2023年社区党建工作总结报告", section="", section_type="overview", text=text, year=2023, **kw)

    honoured = HONOURS.split("。")[2] + "。"
    answer = direct_answer("象山社区这两年拿过哪些荣誉", [opening(), passage(rank=2)])
    assert answer.kind == "list" and [q.text for q in answer.quotes] == [honoured]
    # each sentence stating one, of the one passage ranked highest that states any (verbatim, its own rank)
    more = HONOURS + "\n社区党支部书记被评为“全市优秀党务工作者”。"
    assert [q.text for q in direct_answer("象山社区拿过哪些荣誉？", [opening(more)]).quotes] == [
        honoured, "社区党支部书记被评为“全市优秀党务工作者”。"]
    later = passage(rank=2, source="甲.txt", text="社区被评为“文明社区”。")
    assert [q.rank for q in direct_answer("象山社区拿过哪些荣誉？", [opening(source="甲.txt"), later]).quotes] == [1]
    # a unit no passage names, or no sentence stating an honour: nothing from this rule
    assert direct_answer("红星社区拿过哪些荣誉？", [opening()]) is None
    assert direct_answer("象山社区拿过哪些荣誉？", [opening("象山社区两年来全力实施“125工程”。荣誉墙焕然一新。")]) is None
    # only the top passage's report answers
    assert direct_answer("象山社区拿过哪些荣誉？", [passage(), opening(rank=2, source="乙.txt")]) is None


def test_a_year_a_figure_is_compared_with_is_not_the_year_it_is_about():
    """data/answer_cues.txt ``basis``: "是2010年的2.2倍" compares with 2010; the sentence is about the year reviewed."""
    from retrieval.answer.direct import figure_sentence, years_stated

    assert years_stated("中央财政安排资金1713亿元,是2010年的2.2倍,新开工建设1043万套。") == set()
    assert years_stated("与二〇一九年相比,2021年粮食产量增长5%。") == {2021}
    assert years_stated("2010年新开工建设580万套。") == {2010}
    review = passage(title="2012年政府工作报告", section="一、2011年工作回顾", year=2012,
                     text="中央财政安排资金1713亿元，是2010年的2．2倍，全年城镇保障性住房基本建成432万套，新开工建设1043万套。")
    quote = figure_sentence("2012年政府工作报告里新开工建设有多少万套？", [review])
    assert quote is not None and "1043万套" in quote.text
    other = {**review, "text": "2010年，全年城镇保障性住房新开工建设580万套。"}
    assert figure_sentence("2012年政府工作报告里新开工建设有多少万套？", [other]) is None  # about another year


def test_a_passage_joining_outermost_sections_is_answered_as_those_sections_one_by_one():
    """A short report's "（一）…（二）…（三）…" shown as one passage (its ``parts``: search/lists.py) answers as
    the three sections ranked one by one would — the whole list, the one section a question names, a
    figure — each quote citing the one passage shown."""
    from retrieval.answer.direct import direct_answer, sections_read

    title = "某街道党工委2023年党建工作情况报告"
    heads = ["（一）强化组织领导，压实工作责任。", "（二）强化理论学习，筑牢思想根基。", "（三）强化阵地建设，扩大服务覆盖。"]
    bodies = ["街道党工委每季度专题研究党建工作，全年签订党建责任书12份。层层传导工作压力。",
              "组织中心组集中学习10次，开展专题党课6场。党员干部理论水平不断提高。",
              "新建党群服务站3个，全年服务辖区群众2000余人次。群众满意度明显提升。"]
    why = {**ROLE_FOUND, "roles_asked": ["highlight", "work"]}
    one_by_one = [passage(rank=i + 1, title=title, section=h, year=2023, text=h + b, why=why, start=54 + 60 * i,
                          end=54 + 60 * i + len(h + b)) for i, (h, b) in enumerate(zip(heads, bodies))]
    text = "\n".join(h + b for h, b in zip(heads, bodies))
    joined = passage(title=title, section="", year=2023, text=text, why=why, start=54, end=54 + len(text), parts=heads)
    for question, expected in (("2023年街道党工委党建工作怎么抓的？", heads),
                               ("2023年街道党工委在理论学习方面采取了哪些措施？", ["组织中心组集中学习10次，开展专题党课6场。", "党员干部理论水平不断提高。"]),
                               ("街道党工委新建了多少个党群服务站？", ["新建党群服务站3个，全年服务辖区群众2000余人次。"])):
        separate, whole = direct_answer(question, one_by_one), direct_answer(question, [joined])
        assert [q.text for q in whole.quotes] == [q.text for q in separate.quotes] == expected
        assert {q.rank for q in whole.quotes} == {1} and all(q.text in text for q in whole.quotes)
    # a section shown whole with its items: a list question reads it whole, another its parts as they ranked
    nested = {**joined, "section": "一、主要工作", "text": "一、主要工作\n" + text, "parts": [heads[1], heads[0], heads[2]]}
    assert [p["text"] for p in sections_read([nested], lists=True)[0]] == [nested["text"]]
    read, shown = sections_read([nested])
    assert [p["section"] for p in read] == [f"一、主要工作 › {h}" for h in (heads[1], heads[0], heads[2])] and set(shown.values()) == {1}
    assert read[1]["text"].startswith("一、主要工作\n" + heads[0]) and read[0]["text"] == heads[1] + bodies[1] + "\n"
    # headings it does not hold are no parts of it: read as it is
    read, shown = sections_read([{**joined, "parts": ["（九）另一节"] + heads[1:]}, {**one_by_one[0], "rank": 2}])
    assert [p["text"] for p in read] == [text, one_by_one[0]["text"]] and shown == {1: 1, 2: 2}
