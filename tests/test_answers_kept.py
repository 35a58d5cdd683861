"""A question asked again is answered from the facade's last results (retrieval/engine.py ``_Answers``):
the same passages as ranking it again, never an answer of an older index, one entry per question and options."""
from __future__ import annotations

from test_web_units import OTHER, REPORT, indexed_app


def counted(app):
    """The searcher's real ``search``, with its calls counted."""
    calls = []
    search = app.searcher.search

    def counting(*args, **kwargs):
        calls.append(args[0])
        return search(*args, **kwargs)

    app.searcher.search = counting
    return calls


def test_a_question_asked_again_is_not_ranked_again_and_gets_the_same_passages(tmp_path):
    app = indexed_app(tmp_path, {"甲.txt": REPORT, "乙.txt": OTHER})
    fresh = app.search("开展了多少次红色走读活动", 3)
    calls = counted(app)
    again = app.search("开展了多少次红色走读活动", 3)
    assert calls == []
    assert again == fresh and again.passages and again.passages is not fresh.passages
    again.passages.clear()  # what a caller does with its list is not kept
    assert app.search("开展了多少次红色走读活动", 3) == fresh
    app.answers.clear()
    assert app.search("开展了多少次红色走读活动", 3) == fresh and len(calls) == 1


def test_other_options_are_other_questions(tmp_path):
    app = indexed_app(tmp_path, {"甲.txt": REPORT, "乙.txt": OTHER})
    calls = counted(app)
    one = app.search("主要工作", 1)
    assert len(one.passages) == 1
    assert len(app.search("主要工作", 3).passages) > 1
    assert {p.source for p in app.search("主要工作", 3, reports=["乙.txt"]).passages} == {"乙.txt"}
    assert app.search("主要工作", 3, years=[1999]).passages == []
    assert app.search("主要工作", 3, section_types=["plan"]) != app.search("主要工作", 3)
    assert app.search("主要工作", 1) == one
    assert len(calls) == 5  # each of the five combinations ranked once, the repeats not


def test_a_new_index_is_asked_afresh(tmp_path):
    app = indexed_app(tmp_path, {"甲.txt": REPORT, "乙.txt": OTHER})
    assert "丙.txt" not in {p.source for p in app.search("邻里议事会举办了多少场", 5).passages}
    (app.settings.corpus_dir / "丙.txt").write_text(OTHER.replace("某街道", "某镇").replace("23场", "31场"), encoding="utf-8")
    app.index()
    assert "丙.txt" in {p.source for p in app.search("邻里议事会举办了多少场", 5).passages}
    (app.settings.corpus_dir / "丙.txt").unlink()
    app.index()
    assert "丙.txt" not in {p.source for p in app.search("邻里议事会举办了多少场", 5).passages}
