"""The chat page's turns (issue 24 item 6, fast tier): the 数据年份 filter (a passage's own years), follow-ups
after a comparison, the conversation's browser copy told one turn at a time, trimmed when storage is full
and drawn again on a reload — over a real index built with the tiny deterministic encoder."""
from __future__ import annotations

import html
import re

import pytest

from test_web_units import OTHER, indexed_app

# A 政府工作报告 of 2025 reviews 2024 and plans 2025 (data/report_years.txt): its review's figures are 2024's.
GOV = ("2025年某市政府工作报告\n一、2024年工作回顾\n全市粮食产量达到76.28亿斤，新增城镇就业3.2万人。\n"
       "二、2025年工作安排\n全年粮食产量稳定在76亿斤以上，新增城镇就业3万人。\n")


@pytest.fixture
def app(tmp_path):
    return indexed_app(tmp_path, {"政府工作报告2025.txt": GOV, "乙.txt": OTHER})


@pytest.fixture
def web(app):
    from retrieval.web.handlers import WebApp

    return WebApp(app)


SKIP = {"__type__": "update"}  # gr.skip(): the output left as it is


def last(frames):
    *_, frame = frames
    return frame


# --- 数据年份 -----------------------------------------------------------------------------------------


def test_the_figures_of_a_year_are_reached_by_their_data_year_not_by_the_report_year(app):
    both = app.search("粮食产量", 10, reports=["政府工作报告2025.txt"]).passages
    assert {tuple(p.data_years) for p in both} == {(2024, 2024), (2025, 2025)}  # the index holds each section's years
    review = app.search("粮食产量", 10, data_years=[2024]).passages
    assert review and all(p.data_years == (2024, 2024) and p.year == 2025 for p in review)
    assert any("76.28亿斤" in p.text for p in review) and not any("76亿斤以上" in p.text for p in review)
    assert app.search("粮食产量", 10, years=[2024]).passages == []  # no report is of 2024
    assert app.search("粮食产量", 10, years=[2025], data_years=[2023]).passages == []
    street = app.search("邻里议事会", 10, data_years=[2023]).passages  # a 工作总结 of 2023 is about 2023
    assert street and all(p.source == "乙.txt" for p in street)
    assert {2023, 2024, 2025} <= set(app.status()["data_years"])
    assert app.search("粮食产量", 1, data_years=[2024]).passages[0].to_json()["data_years"] == [2024, 2024]


def test_the_page_api_and_compare_take_data_years(web):
    passages = web.api_search("粮食产量", 10, [], [], [], [], [2024])
    assert passages and all(p["data_years"] == [2024, 2024] for p in passages)
    rows = web.api_compare("粮食产量", [], [], [], [], [2024])
    found = {r["source"]: r["passage"] for r in rows}
    assert found["政府工作报告2025.txt"]["data_years"] == [2024, 2024] and found["乙.txt"] is None
    turn = last(web.chat("粮食产量是多少？", [], 5, [], [], [], None, [2024]))[1][-1]
    assert "数据年份：2024" in turn["note"] and turn["filters"]["data_years"] == [2024]
    assert all(p["data_years"] == [2024, 2024] for p in turn["passages"])
    assert [y for _, y in web.year_choices(web.status(), "data_years")] == web.status()["data_years"]


def test_a_data_year_chip_that_is_no_year_is_removed_and_said(web):
    import warnings

    with warnings.catch_warnings(record=True) as notices:
        warnings.simplefilter("always")
        update = web.check_data_years(["abc", 2024, "2024"])
    assert update["value"] == [2024, 2024]
    assert any("数据年份应为四位数字" in str(n.message) and "已移除：abc" in str(n.message) for n in notices)
    assert web.check_data_years([2024]) == SKIP


# --- follow-ups after a comparison ---------------------------------------------------------------------


def test_a_follow_up_after_a_comparison_takes_the_comparisons_topic(web):
    from retrieval.answer import compare_topic, follow_up

    turns = last(web.chat("新增城镇就业多少人？", [], 5, [], [], []))[1]
    turns = last(web.compare_turn("各地粮食产量有何不同？", turns, [], [2025], [], None, [2024]))[1]
    assert turns[-1]["scope"] == {"reports": [], "years": [2025], "data_years": [2024]}
    turns = last(web.chat("那原因呢？", turns, 5, [], [], []))[1]
    assert turns[-1]["topic"] == "粮食产量"  # not 城镇就业, the question before the comparison
    assert turns[-1]["filters"]["years"] == [2025] and turns[-1]["filters"]["data_years"] == [2024]
    assert "按上一问的主题：粮食产量" in turns[-1]["answer"]
    # a comparison with no topic of its own ("各单位…有什么共性") leaves a follow-up standing alone
    assert compare_topic("各单位的存在问题有什么共性？") == ""
    assert follow_up("那原因呢？", {"kind": "compare", "question": "各单位的存在问题有什么共性？"}).topic == ""
    assert compare_topic("各报告基层党组织建设的做法有什么区别？") == "基层党组织建设"


# --- the conversation's copy in the browser ---------------------------------------------------------


def test_the_browser_is_told_only_the_new_turn(web):
    turns = []
    for question in ("粮食产量是多少？", "新增城镇就业多少人？"):
        turns = last(web.chat(question, turns, 5, [], [], []))[1]
    told = web.keep(turns)
    assert told["count"] == 2 and told["turn"] is turns[-1] and "turns" not in told
    assert web.keep([]) == {"user": told["user"], "turns": []}  # cleared: the empty conversation


def test_trimming_keeps_the_later_turns_with_their_citations_renumbered(web):
    turns = []
    for question in ("粮食产量是多少？", "新增城镇就业多少人？", "邻里议事会举办了多少场？"):
        turns = last(web.chat(question, turns, 5, [], [], []))[1]
    chat, kept, context, original, export, word, told = web.trim(2, turns)
    assert [t["question"] for t in kept] == ["邻里议事会举办了多少场？"] and told["turns"] == kept
    assert re.findall(r'href="#cite-(\d+)-', kept[0]["answer"]) and \
        set(re.findall(r'href="#cite-(\d+)-', kept[0]["answer"])) == {"0"}
    assert [m["content"] for m in chat][0] == "邻里议事会举办了多少场？" and export["interactive"]
    context_shown, _ = web.cited("0-1", kept)
    assert "邻里议事会" in context_shown
    assert len(web.trim(9, turns)[1]) == 1  # never the whole conversation
    assert all(x == SKIP for x in web.trim("x", turns))  # a forged count: nothing


def test_a_reload_redraws_older_markdown_answers_and_leaves_out_what_was_forged(web):
    from retrieval.web.render import ANSWER

    turns = []
    for question in ("粮食产量是多少？", "新增城镇就业多少人？"):
        turns = last(web.chat(question, turns, 5, [], [], []))[1]
    older = [{**turns[0], "answer": "找到 **5** 段相关内容：\n\n> 旧的 Markdown"}, {"question": "伪造", "passages": 3},
             turns[1]]
    chat, kept, export, told = web.restore({"user": None, "turns": older})
    assert [t["question"] for t in kept] == ["粮食产量是多少？", "新增城镇就业多少人？"]
    assert all(t["answer"].startswith(ANSWER) for t in kept) and "**" not in kept[0]["answer"]
    assert set(re.findall(r'href="#cite-(\d+)-', kept[1]["answer"])) == {"1"}  # moved up past the forged one
    assert told["turns"] == kept  # the browser's copy is rewritten to match
    _, again, _, told = web.restore({"user": None, "turns": kept})
    assert again == kept and told == SKIP  # nothing changed: nothing rewritten


def test_chat_messages_are_html_with_the_question_as_typed(web):
    from retrieval.web.render import ANSWER

    chat = last(web.chat("粮食产量<b>是多少</b>？", [], 5, [], [], []))[0]
    assert chat[0]["content"] == html.escape("粮食产量<b>是多少</b>？")
    assert chat[1]["content"].startswith(ANSWER) and "<blockquote>" in chat[1]["content"]
    assert "**" not in chat[1]["content"] and "\n>" not in chat[1]["content"]


def test_the_side_panel_is_sent_only_when_it_changed(web):
    import json

    shown = json.loads(json.dumps(web.refresh(None)))  # as the page holds it (JSON)
    assert "5 份报告" not in shown["status"] and shown["data_years"] and shown["reports"]
    assert web.refresh(shown) == SKIP  # unchanged: nothing sent, nothing redrawn
    assert web.refresh({**shown, "status": "旧的状态"})["status"] == shown["status"]


# --- the exports quote the direct answer the chat showed ---------------------------------------------


def test_the_export_quotes_the_chats_direct_answer_kept_in_the_turn(web):
    """The direct answer is worked out once, when asked, and kept in the turn: the exports (rewritten after
    every answer) quote it from there — the same answer as the chat, a follow-up's included — rather
    than working out every earlier turn's again (that made each answer slower than the one before)."""
    from retrieval.answer.direct import Answer
    from retrieval.web.render import export_markdown

    turns = []
    for question in ("2024年粮食产量是多少？", "新增城镇就业多少人？"):
        turns = last(web.chat(question, turns, 5, [], [], []))[1]
    assert all(t["direct"] for t in turns)
    md = export_markdown(turns)
    for t in turns:
        quote = Answer.from_json(t["direct"]).quotes[0]
        assert html.escape(quote.text) in t["answer"] and f"{quote.text} [{quote.rank}]" in md
    kept = {**turns[0], "direct": {"kind": "figure", "quotes": [{"text": "全市粮食产量达到76.28亿斤", "rank": 9}]}}
    assert "76.28亿斤 [9]" in export_markdown([kept])  # quoted as kept, not worked out again
    none = export_markdown([{**turns[0], "direct": None}])
    assert "直接回答（摘自原文）" not in none
    # a turn kept in the browser by an older version (no direct answer in it) gets its answer on restore
    older = [{k: v for k, v in t.items() if k != "direct"} for t in turns]
    restored = web.restore({"user": web.keep([])["user"], "turns": older})[1]
    assert [t["direct"] for t in restored] == [t["direct"] for t in turns]
    broken = [{**turns[0], "direct": {"kind": "guess", "quotes": []}}, turns[1]]
    assert [t["question"] for t in web.restore({"user": web.keep([])["user"], "turns": broken})[1]] == \
        ["新增城镇就业多少人？"]  # a turn the page never wrote is left out
