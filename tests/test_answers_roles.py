"""Issue 21: roles split under combined headings, role filters and badges, follow-ups that change the
role, comparisons by role, and the direct-answer scorer (eval/answers.py)."""
import pytest

from conftest import DEV_QUESTIONS, load_jsonl, seed
from retrieval.ingest import chunk_document, parse_file, parse_text
from retrieval.store.generations import heading_roles

# --- unit tier: parsing and rows (no model) -----------------------------------------------------


def _rows(doc):
    return [{"section_type": c.section_type, "heading_path": c.heading_path, "text": c.text, "roles": " ".join(c.roles)}
            for c in chunk_document(doc)]


def test_plan_items_under_a_problem_and_plan_heading_play_plan_only():
    doc = parse_file(seed("000"))
    for row in _rows(doc):
        if len(row["heading_path"]) == 2 and row["heading_path"][0] == "三、存在的问题及下一步打算":
            assert heading_roles(row).split("|") == ["plan"], row["heading_path"]


def test_the_lead_under_a_combined_heading_plays_the_role_its_paragraphs_state():
    # "三、存在的问题及下一步打算" opens with "…仍然存在一定的差距：…": a problem, not a plan
    lead = [r for r in _rows(parse_file(seed("000"))) if r["heading_path"] == ["三、存在的问题及下一步打算"]]
    assert lead and all(heading_roles(r) == "problem" for r in lead)
    # a lead that states none of its heading's roles keeps them all
    row = {"section_type": "problem", "heading_path": ["二、存在的问题及下步打算"], "roles": ""}
    assert heading_roles(row) == "plan|problem"


def test_a_numbered_item_states_no_role_of_its_own():
    doc = parse_text("某乡述职报告\n一、履职情况\n我始终坚持书记抓、抓书记的责任制。\n"
                     "一是抓责任落实。先后5次召开党委会，及时解决党建工作中存在的困难和问题。\n"
                     "二是抓基础保障。新建党员活动室2个。\n", "x.txt")
    assert [c.roles for c in chunk_document(doc)] == [[]]  # work done, not a problem stated
    doc = parse_text("某乡述职报告\n一、履职情况\n全年开展学习12次。\n同时也要清醒看到，学习还不够深入。\n", "y.txt")
    assert ["problem"] in [c.roles for c in chunk_document(doc)]  # an unnumbered paragraph states it


def test_items_under_a_combined_heading_play_the_role_they_state():
    doc = parse_text("某局述职报告\n一、工作情况\n全年开展学习12次。\n二、存在的问题及下步打算\n"
                     "（一）理论学习不够深入。个别党员学习流于形式。\n（二）阵地管理有待加强。部分阵地缺人。\n"
                     "（三）强化理论武装。每月集中学习一次。\n（四）压实主体责任。层层签订责任书。\n", "x.txt")
    combined = doc.sections[1]
    assert [c.section_type for c in combined.children] == ["problem", "problem", "plan", "plan"]
    # a child naming its role takes it, under a combined heading too
    doc = parse_text("某局总结\n一、存在的问题及下步打算\n（一）存在的问题\n学习不深。\n（二）下步打算\n加强学习。\n", "y.txt")
    assert [c.section_type for c in doc.sections[0].children] == ["problem", "plan"]


def test_problem_items_with_cause_analysis_under_problem_and_cause_heading():
    doc = parse_file(seed("003"))
    combined = next(s for s in doc.sections if "问题及原因" in s.heading)
    assert {c.section_type for c in combined.children} == {"problem"}
    chunks = [c for c in chunk_document(doc) if len(c.heading_path) == 2 and c.heading_path[0] == combined.heading]
    assert any("cause" in c.roles for c in chunks)  # "客观上…主观上…" states causes


def test_follow_up_asks_for_the_new_role_about_the_topic():
    from retrieval.search import intent
    from retrieval.answer import follow_up

    previous = {"question": "意识形态工作存在哪些问题？", "topic": "意识形态工作", "scope": {"reports": ["a.txt"]}}
    for question, role in (("那原因呢？", "cause"), ("下一步怎么打算？", "plan")):
        u = follow_up(question, previous)
        assert u.role == role and "意识形态工作" in u.query and intent(u.query) == [role]
        assert u.reports == ("a.txt",)
    assert follow_up("党建工作有哪些成效？", previous).role == ""  # a question with its own topic stands alone


# --- unit tier: the direct-answer scorer -------------------------------------------------------


def _report(doc):
    chunks = [{"text": c.text, "start": c.start, "end": c.end, "heading_path": c.heading_path} for c in chunk_document(doc)]
    return lambda source: (doc.text, chunks)


def _passage(doc, text_part, rank=1):
    chunk = next(c for c in chunk_document(doc) if text_part in c.text)
    return {"rank": rank, "source": doc.source, "section": " › ".join(chunk.heading_path), "text": chunk.text,
            "start": chunk.start, "end": chunk.end, "section_type": chunk.section_type, "title": doc.title, "why": None}


def test_scorer_judges_figure_and_list_answers_against_gold():
    from retrieval.eval.answers import answer_scores, asks_figure, asks_list, figure_right
    from retrieval.answer.direct import Answer, Quote

    if not DEV_QUESTIONS.exists():
        pytest.skip("../shared/eval/dev_questions.jsonl is not present")
    questions = {q["id"]: q for q in load_jsonl(DEV_QUESTIONS)}
    d02, d01 = questions["d02"], questions["d01"]
    assert asks_figure(d02) and asks_list(d01) and not asks_figure(questions["d04"]) and not asks_list(questions["d04"])
    assert figure_right("制定发展党员工作模板，全年发展党员3名，按期转正党员4名。", "000_797e4216ca551135.txt", d02)
    assert not figure_right("全年发展党员3名。", "004_89ff1545f78e1bcc.txt", d02)  # not a gold report
    assert not figure_right("按期转正党员4名。", "000_797e4216ca551135.txt", d02)  # another figure

    doc = parse_file(seed("001"))
    right = _passage(doc, "对意识形态工作研究还不够深入")
    items = [Quote(t, 1) for t in ("一是能够严格落实意识形态工作责任制", "二是有的基层党组织对意识形态领域的复杂性认识还不到位")]
    wrong = _passage(doc, "压紧压实责任", rank=2)
    wrong_items = [Quote(wrong["text"].split("。")[0][-12:], 2), *items]
    answers = {"d01": Answer("list", items), "d02": None}
    results = [{"id": "d01", "passages": [right, wrong]}, {"id": "d02", "passages": [right]}]
    scored = answer_scores([d01, d02], results, _report(doc), lambda q, ps: answers[next(k for k, v in questions.items() if v["question"] == q)])
    assert scored == {"answers": 1, "right": 1, "precision": 1.0, "asked": 2, "coverage": 0.5}
    answers["d01"] = Answer("list", wrong_items)  # one item from the plan section: the list is wrong
    scored = answer_scores([d01, d02], results, _report(doc), lambda q, ps: answers[next(k for k, v in questions.items() if v["question"] == q)])
    assert scored["right"] == 0 and scored["precision"] == 0.0


# --- slow tier: the seed index, the real model -------------------------------------------------


@pytest.mark.slow
def test_role_filter_returns_passages_playing_the_role_with_agreeing_badges(seed_app):
    filtered = seed_app.search("党建工作存在哪些问题？", 5, [seed("000").name], [], ["problem"]).passages
    assert filtered and all(p.section_type == "problem" for p in filtered)
    assert not any(len(p.heading_path) > 1 and p.heading_path[0] == "三、存在的问题及下一步打算" for p in filtered)
    everywhere = seed_app.search("党建工作存在哪些问题？", 5, [], [], ["problem"]).passages
    assert len(everywhere) == 5 and all(p.section_type == "problem" for p in everywhere)
    plans = seed_app.search("下一步怎么加强党建？", 5, [], [], ["plan"]).passages
    assert plans and all(p.section_type == "plan" for p in plans)


@pytest.mark.slow
def test_follow_up_ranks_the_new_role_first(seed_app):
    from retrieval.answer import follow_up

    previous = {"question": "意识形态工作存在哪些问题？", "topic": ""}
    for question, role in (("那原因呢？", "cause"), ("下一步怎么打算？", "plan")):
        u = follow_up(question, previous)
        passages = seed_app.search_role_first(u.query, u.role, 5).passages
        assert passages[0].section_type == role, (question, [p.section_type for p in passages])
        assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
        assert all(a.score >= b.score for a, b in zip(passages, passages[1:]))


@pytest.mark.slow
def test_compare_picks_each_reports_problem_passage_where_it_has_one(seed_app):
    snap = seed_app.searcher.snapshot()
    rows = seed_app.compare("各单位的存在问题有什么共性？")
    assert len(rows) == 5
    for row in rows:
        has_problem = bool((snap.plays("problem") & (snap.sources == row.source)).any())
        assert row.passage is not None
        assert (row.passage.section_type == "problem") == has_problem, (row.title, row.passage.section_type)
