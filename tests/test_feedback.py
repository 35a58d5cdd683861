"""👍/👎 on answers, the question set exported from them, the usage figures, and tokens in the 管理 tab — in
process, over the departments' web app (real index, real account store and audit log, real sessions)."""
from __future__ import annotations

import csv
import io
import json
import re
from argparse import Namespace

import gradio as gr
import pytest
from gradio.events import LikeData

from conftest import shared_scorer
from retrieval.access import TokenStore
from retrieval.access import cli as access_cli
from retrieval.access.usage import usage, usage_tables, write_usage_csv
from retrieval.eval.feedback import export_questions, span_of
from retrieval.web.admin import Admin, detail_text
from test_departments import two_bases, web_as  # noqa: F401  (fixtures)


def like(index: int, liked) -> LikeData:
    return LikeData(None, {"index": index, "value": "", "liked": liked})


def ask(web, question, who, years=(), bases=()):
    """The conversation after one chat question (the handler's last frame)."""
    *_, last = web.chat(question, [], 5, [], list(years), [], list(bases), request=who)
    return last[1]


def feedback_entries(audit):
    return [json.loads(e.detail) for e in audit.entries(action="feedback")][::-1]


def test_a_verdict_is_kept_with_the_question_filters_bases_and_passages(web_as):
    web, request, audit = web_as
    ann, bob = request("ann"), request("bob")
    turns = ask(web, "发展党员多少名", ann, years=[2024])
    assert web.feedback(turns, "  正是要找的  ", like(1, True), ann) == ""  # the comment box emptied
    [kept] = feedback_entries(audit)
    shown = turns[0]["passages"]
    assert kept["question"] == "发展党员多少名" and kept["verdict"] == "up" and kept["comment"] == "正是要找的"
    assert kept["bases"] == ["a"] and kept["filters"]["years"] == [2024] and kept["filters"]["top_k"] == 5
    assert [(p["base"], p["source"], p["start"], p["end"], p["rank"]) for p in kept["passages"]] == \
        [("a", p["source"], p["start"], p["end"], p["rank"]) for p in shown]
    assert all(p["span"] and p["span"] in shown[i]["text"] for i, p in enumerate(kept["passages"]))
    web.feedback(turns, "", like(1, False), ann)
    assert [d["verdict"] for d in feedback_entries(audit)] == ["up", "down"] and "comment" not in feedback_entries(audit)[1]
    # turns come back from the browser: a forged turn of A sent by a reader of B, an index past the end,
    # a question's own message, an unknown verdict — nothing is kept
    for turns_, who, data in ((turns, bob, like(1, True)), (turns, ann, like(9, True)), ([], ann, like(1, True)),
                              (turns, ann, like(1, "Bogus")), ([{"question": "x"}], ann, like(1, True))):
        assert web.feedback(turns_, "", data, who) is not None
    assert len(feedback_entries(audit)) == 2
    # a passage's text or bounds changed in the browser: the span is the index's own text, or nothing is kept
    forged = [{**turns[0], "passages": [{**p, "text": "伪造的句子，全年发展党员999名。"} for p in shown]}]
    web.feedback(forged, "", like(1, True), ann)
    assert "伪造" not in json.dumps(feedback_entries(audit)[-1], ensure_ascii=False)
    assert feedback_entries(audit)[-1]["passages"] == kept["passages"]
    bomb = [{**turns[0], "question": "问" * 10 ** 6}]
    assert web.feedback(bomb, "", like(1, True), ann) is not None
    huge = [{**turns[0], "filters": {"reports": ["x" * 10 ** 5] * 10 ** 4, "years": [2024], "junk": "y" * 10 ** 6}}]
    web.feedback(huge, "", like(1, True), ann)
    assert len(audit.entries(action="feedback")[0].detail) < 20_000 and "junk" not in feedback_entries(audit)[-1]["filters"]
    moved = [{**turns[0], "passages": [{**shown[0], "end": 10 ** 6}]}]
    assert web.feedback(moved, "", like(1, True), ann) is not None and len(feedback_entries(audit)) == 4
    # the ask entry says what the question found
    asked = json.loads(audit.entries(action="ask")[0].detail)
    assert asked["found"] == len(shown) and asked["top"] == shown[0]["score"] and "message" in asked


def test_the_exported_set_is_in_the_scorer_format_and_scores_the_answers_liked(web_as, tmp_path):
    web, request, audit = web_as
    ann = request("ann")
    liked = ask(web, "发展党员多少名", ann)
    disliked = ask(web, "理论学习存在什么问题", ann)
    web.feedback(liked, "", like(1, True), ann)
    web.feedback(disliked, "", like(1, False), ann)
    done = export_questions(audit.entries())
    assert done.left_out == 1  # 👎 only: no gold, the scorer could not score it
    [q] = done.questions
    assert q["question"] == "发展党员多少名" and q["id"] == "f001" and q["bases"] == ["a"]
    assert all(set(g) >= {"doc", "span"} and g["doc"] == "甲测试局.txt" for g in q["gold"])
    assert {g["span"] for g in q["gold"]} == {span_of(p["text"]) for p in liked[0]["passages"]}
    # scored by ../shared/eval/score.py: the same search finds its gold at rank 1
    results = [{"id": q["id"], "passages": [p.to_json() for p in web.bases.search(q["question"], ["a"], 5).passages]}]
    summary, _ = shared_scorer().score(done.questions, results)
    assert summary["hit@1"] == 1.0 and summary["n"] == 1
    # and a search that returns another base's passages does not
    other = [{"id": q["id"], "passages": [p.to_json() for p in web.bases.search("发展党员多少名", ["b"], 5).passages]}]
    assert shared_scorer().score(done.questions, other)[0]["hit@1"] == 0.0
    # the same question liked again, its passage also disliked by someone else: gold wins, kept once
    web.feedback(liked, "", like(1, False), request("boss"))
    again = export_questions(audit.entries())
    assert len(again.questions) == 1 and "negatives" not in again.questions[0]
    assert export_questions(audit.entries(), base="b").questions == []
    # the CLI writes the same set
    out = tmp_path / "office.jsonl"
    args = Namespace(action="export", base="a", since=None, out=out, bases=tmp_path / "bases")
    assert access_cli.COMMANDS["feedback"](args) == 0
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == again.questions


def test_a_verdict_clicked_again_is_withdrawn_and_each_users_last_verdict_stands(web_as):
    web, request, audit = web_as
    ann, boss = request("ann"), request("boss")
    turns = ask(web, "发展党员多少名", ann)
    web.feedback(turns, "", like(1, True), ann)
    # Gradio's own undo: the chosen 👍 clicked again sends liked="" — a withdrawal, the comment box kept
    assert web.feedback(turns, "写了一半", like(1, ""), ann) != ""
    kept = feedback_entries(audit)
    assert [d["verdict"] for d in kept] == ["up", "withdrawn"] and "comment" not in kept[1]
    assert kept[1]["passages"] == kept[0]["passages"] and kept[1]["question"] == "发展党员多少名"
    assert detail_text(audit.entries(action="feedback")[0].detail).startswith("撤回反馈")  # the audit page's words
    assert export_questions(audit.entries()) == export_questions([])  # nothing left to export
    assert usage(audit.entries(), []).feedback == {"up": 0, "down": 0}
    web.feedback(turns, "", like(1, True), ann)  # chosen again
    assert [q["question"] for q in export_questions(audit.entries()).questions] == ["发展党员多少名"]
    web.feedback(turns, "", like(1, False), ann)  # 👎 after 👍: hers is 👎 now, the question has no gold
    assert export_questions(audit.entries()).questions == [] and export_questions(audit.entries()).left_out == 1
    assert usage(audit.entries(), []).feedback == {"up": 0, "down": 1}
    # a withdrawal is one user's: boss's 👍 stands when ann takes her 👎 back; a passage's 无用 is its own verdict
    web.feedback(turns, "", like(1, True), boss)
    web.passage_feedback("0-1-down", turns, "", ann)
    web.feedback(turns, "", like(1, ""), ann)
    [q] = export_questions(audit.entries()).questions
    assert {g["doc"] for g in q["gold"]} == {"甲测试局.txt"} and "negatives" not in q  # gold wins over the passage's 无用
    assert usage(audit.entries(), []).feedback == {"up": 1, "down": 1}
    assert usage(audit.entries(), []).disliked[0]["down"] == 1
    # a withdrawal of nothing, or of someone else's verdict on another answer, changes nothing
    other = ask(web, "理论学习存在什么问题", ann)
    web.feedback(other, "", like(1, ""), ann)
    assert len(export_questions(audit.entries()).questions) == 1
    assert web.passage_feedback("0-1-withdrawn", turns, "", ann) is not None  # passages: 有用/无用 only
    assert feedback_entries(audit)[-1]["verdict"] == "withdrawn" and len(feedback_entries(audit)) == 8


def test_negatives_are_kept_apart_from_gold():
    from datetime import datetime

    from retrieval.access import AuditEntry

    def entry(i, question, verdict, source):
        detail = {"question": question, "verdict": verdict, "bases": ["a"], "filters": {},
                  "passages": [{"base": "a", "source": source, "start": 0, "end": 9, "rank": 1, "span": f"{source}的句子"}]}
        return AuditEntry(i, datetime.now().astimezone(), "u", "feedback", detail=json.dumps(detail, ensure_ascii=False))

    entries = [entry(1, "问题", "up", "甲.txt"), entry(2, "问题", "down", "乙.txt"),
               AuditEntry(3, datetime.now().astimezone(), "u", "feedback", detail="{not json"),
               AuditEntry(4, datetime.now().astimezone(), "u", "feedback", detail='{"question": "x"}')]
    [q] = export_questions(entries).questions
    assert [g["doc"] for g in q["gold"]] == ["甲.txt"] and [n["doc"] for n in q["negatives"]] == ["乙.txt"]


def test_span_of_takes_a_sentence_of_the_passage():
    text = "一、主要工作\n甲测试局全年发展党员12名，开展红色教育活动9次。其他。"
    assert span_of(text) == "甲测试局全年发展党员12名，开展红色教育活动9次。"
    assert len(span_of("长" * 500)) == 80 and span_of("") == ""


def test_usage_counts_questions_failures_dislikes_and_reports_never_cited(web_as, tmp_path):
    web, request, audit = web_as
    ann, bob, boss = request("ann"), request("bob"), request("boss")
    turns = ask(web, "发展党员多少名", ann)
    ask(web, "火星上的天气怎么样", ann)  # nothing found
    ask(web, "制度执行", bob)
    web.feedback(turns, "", like(1, False), ann)
    web.feedback(turns, "", like(1, False), boss)
    library = [(b, r.source) for b, r in web.bases.library(web.bases.names())]
    u = usage(audit.entries(), library)
    assert u.questions == 3 and sum(u.per_day.values()) == 3 and u.per_base == {"a": 2, "b": 1}
    assert u.failed_total >= 1 and any(f["question"] == "火星上的天气怎么样" and f["outcome"] == "nothing" for f in u.failed)
    assert u.disliked[0]["down"] == 2 and u.disliked[0]["source"] == "甲测试局.txt" and u.feedback == {"up": 0, "down": 2}
    assert ("default", "丙.txt") in u.never_cited and ("a", "甲测试局.txt") not in u.never_cited
    buffer = io.StringIO()
    write_usage_csv(u, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue().lstrip("\ufeff"))))
    assert ["每日提问"] in rows and ["从未被引用的报告"] in rows and ["default", "丙.txt"] in rows
    # the admin page: a summary, the chart's data, the tables; a CSV only admins get
    admin = Admin(web)
    summary, days, per_base, failed, disliked, never = admin.usage_view("", boss)
    chart = days["value"]
    assert "提问 3 次" in summary and list(chart.columns) == ["日期", "提问数"] and chart["提问数"].sum() == 3
    assert days["y_lim"][0] == 0  # bars start at 0
    assert per_base == usage_tables(u, web.bases.titles())["各知识库提问"][1] and any(r[1] == "丙.txt" for r in never)
    assert all("（" in row[0] for row in per_base)  # bases by title and name
    assert admin.usage_view("2999-01-01", boss)[1]["value"].empty
    path = admin.usage_csv("", boss)["value"]
    assert "从未被引用的报告" in open(path, encoding="utf-8-sig").read()
    with pytest.raises(gr.Error):
        admin.usage_view("昨天", boss)
    # the CLI
    args = Namespace(since=None, csv=None, json=True, bases=tmp_path / "bases", corpus=tmp_path / "corpus",
                     index_dir=tmp_path / "index")
    assert access_cli.COMMANDS["report-usage"](args) == 0


def test_a_reader_gets_nothing_from_the_admin_handlers(web_as):
    web, request, _ = web_as
    admin = Admin(web)
    for who in (request("bob"), request("ann"), request(None)):
        for call in (lambda: admin.usage_view("", who), lambda: admin.usage_csv("", who),
                     lambda: admin.token_rows(who), lambda: admin.issue_token("bob", "助手", who),
                     lambda: admin.revoke_token("1", who)):
            with pytest.raises(gr.Error):
                call()
    assert TokenStore(web.gate.store).list() == []


def test_an_admin_issues_a_token_shown_once_and_revokes_it(web_as):
    web, request, audit = web_as
    admin, boss = Admin(web), request("boss")
    tokens = TokenStore(web.gate.store)
    message, rows = admin.issue_token("bob", "办公助手", boss)
    [secret] = [line for line in message.splitlines() if tokens.resolve(line.strip())]
    assert tokens.resolve(secret.strip()).user == "bob"
    [[token_id, user, label, _, used]] = rows
    assert (user, label, used) == ("bob", "办公助手", "未使用") and secret.strip() not in str(admin.token_rows(boss))
    assert "未完成" in admin.issue_token("nobody", "", boss)[0] and "未完成" in admin.revoke_token("abc", boss)[0]
    message, rows = admin.revoke_token(str(token_id), boss)
    assert "已撤销" in message and rows == [] and tokens.resolve(secret.strip()) is None
    assert {e.action for e in audit.entries(user="boss")} >= {"token_issue", "token_revoke"}


def test_a_passage_is_rated_on_its_own(web_as):
    web, request, audit = web_as
    ann, bob = request("ann"), request("bob")
    turns = ask(web, "发展党员多少名", ann)
    assert 'href="#rate-0-1-up"' in turns[0]["answer"] and 'href="#rate-0-1-down"' in turns[0]["answer"]
    assert web.passage_feedback("0-1-down", turns, "数字不对", ann) == ""
    [kept] = feedback_entries(audit)
    assert kept["level"] == "passage" and kept["verdict"] == "down" and kept["comment"] == "数字不对"
    assert [(p["source"], p["rank"]) for p in kept["passages"]] == [(turns[0]["passages"][0]["source"], 1)]
    for key, who in (("0-1-up", bob), ("0-99-up", ann), ("5-1-up", ann), ("0-1-maybe", ann), ("x", ann), (None, ann)):
        assert web.passage_feedback(key, turns, "", who) is not None
    assert len(feedback_entries(audit)) == 1
    assert usage(audit.entries(), []).disliked[0]["down"] == 1


def test_what_these_handlers_show_is_chinese(web_as):
    import warnings

    from english import english_left, strings_in

    web, request, _ = web_as
    ann, boss = request("ann"), request("boss")
    admin = Admin(web)
    shown = []
    with warnings.catch_warnings(record=True) as notices:
        warnings.simplefilter("always")
        turns = ask(web, "发展党员多少名", ann)
        ask(web, "火星上的天气怎么样", ann)
        shown += [web.feedback(turns, "好", like(1, True), ann), web.passage_feedback("0-1-down", turns, "", ann)]
        shown += list(admin.usage_view("", boss)[:1]) + list(admin.usage_view("", boss)[2:])
        shown += [admin.issue_token("bob", "助手", boss)[0].split("```")[0], admin.issue_token("nobody", "", boss)[0],
                  admin.revoke_token("abc", boss)[0], admin.revoke_token("999", boss)[0], admin.token_rows(boss)]
        for call in (lambda: admin.usage_view("昨天", boss), lambda: admin.usage_view("", ann)):
            with pytest.raises(gr.Error) as error:
                call()
            shown += [error.value.title, error.value.message]
    shown += [str(n.message) for n in notices]
    # set aside: user names (data), and the account store's own English gloss "(no such user)" after its
    # Chinese message (the store's wording, shared with the CLI: quoted, not checked here)
    texts = [re.sub(r"\(no such \w+\)|（default）|bob|ann|nobody", "", t) for t in strings_in(shown)]
    left = {t[:120]: words for t in texts if (words := english_left(t))}
    assert not left, left
