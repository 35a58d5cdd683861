"""The 报告库 tab and the 添加报告 panel in process (fast tier): sorting, the list as a table and as cards, the
selection and its outline, the trash (restore, delete for good) and who may touch it, and an upload batch's
per-file stages — over a real index built with the crude hashed-bigram encoder (test_web_units)."""
from __future__ import annotations

import re

import gradio as gr
import pytest

from retrieval.bases import DEFAULT
from retrieval.ingest import Upload
from retrieval.progress import ProgressEvent, Stage
from retrieval.web.batch import UploadBatch, too_large
from retrieval.web.handlers import WebApp
from retrieval.web.library import (DEFAULT_SORT, LIBRARY_HINT, library_html, next_sort, parse_sort, sort_choices,
                                   sort_rows, trash_html)
from test_departments import two_bases, web_as  # noqa: F401 (fixtures)
from test_web_units import app  # noqa: F401 (fixture)

QUIET = lambda *a, **k: None  # noqa: E731 (gr.Progress, unseen)
THIRD = "某县2022年政府工作报告\n一、过去一年的工作\n全县新建村级活动场所41个。\n二、今年的主要任务\n办好民生实事十件。\n"


def row(key, title, **kw) -> dict:
    r = {"key": key, "source": key, "title": title, "base_title": None, "unit": None, "year": None, "kind": "其他",
         "sections": "", "passages": 0, "added": None, "state": "已索引", "problem": 0}
    r.update(kw)
    return r


# --- sorting ---------------------------------------------------------------------------------------


def test_every_sort_has_words_and_a_header_click_turns_it_round():
    values = [v for _, v in sort_choices()]
    assert DEFAULT_SORT in values and len(values) == len(set(values)) == 14
    assert all(re.search(r"[\u4e00-\u9fff]", words) for words, _ in sort_choices())
    assert next_sort("added:desc", "year") == "year:desc"  # newest first the first time
    assert next_sort("year:desc", "year") == "year:asc"  # the same header again: the other way
    assert next_sort("year:asc", "title") == "title:asc"
    assert next_sort("year:asc", "sections") == "year:asc"  # not a sortable column: the order stays
    assert parse_sort("nonsense") == parse_sort(None) == ("added", "desc")


def test_rows_sort_with_missing_values_last_either_way():
    rows = [row("a.txt", "乙", year=2023, passages=5, unit="市局"), row("b.txt", "甲", year=None, passages=9),
            row("c.txt", "丙", year=2025, passages=1, problem=2), row("d.txt", "丁", year=2023, passages=5)]
    # ties (a and d, both 2023) by title: 丁 before 乙 (code point order), whichever way the years go
    assert [r["key"] for r in sort_rows(rows, "year:desc")] == ["c.txt", "d.txt", "a.txt", "b.txt"]
    assert [r["key"] for r in sort_rows(rows, "year:asc")] == ["d.txt", "a.txt", "c.txt", "b.txt"]
    assert [r["key"] for r in sort_rows(rows, "passages:desc")][0] == "b.txt"
    assert [r["key"] for r in sort_rows(rows, "unit:asc")][0] == "a.txt"  # the only one with a unit first
    assert sort_rows(rows, "state:desc")[0]["key"] == "c.txt"  # what failed first


def test_the_list_marks_the_order_and_the_selection_and_escapes_names():
    rows = [row("a.txt", "<b>甲</b>", year=2023), row("b.txt", "乙\n2 份", year=2024)]
    shown = library_html(rows, "year:asc", selected="b.txt")
    assert 'aria-sort="ascending"' in shown and shown.count("yd-sorted") == 1 and "▲" in shown
    assert shown.count("yd-picked") == 1 and re.search(r'yd-picked[^>]*data-yd-key="b.txt"', shown)
    assert "<b>甲</b>" not in shown and "&lt;b&gt;甲" in shown
    assert "乙\\n2 份" in shown  # a name cannot break the card into lines
    assert shown.count('data-yd-go="sort"') == 7  # every column but the sections
    assert "没有符合条件" in library_html([], DEFAULT_SORT, filtered=True)
    assert "还没有报告" in library_html([], DEFAULT_SORT)


# --- the tab: selection, delete, trash ---------------------------------------------------------------


def test_the_outline_follows_what_the_list_shows(app):  # noqa: F811
    web = WebApp(app)
    outline, chosen, reindex, remove = web.library_pick("甲.txt")
    assert "存在问题" in outline and chosen == "甲.txt" and reindex["interactive"] and remove["interactive"]
    shown, switch, _, panel, outline, chosen, *_ = web.library_tab("", "全部", "title:asc", "library", "甲.txt")
    assert outline == {"__type__": "update"} and chosen == {"__type__": "update"}  # still listed: kept as it is
    assert "yd-picked" in shown and switch["visible"] and panel["visible"]
    # filtered out of the list: the selection and its outline go with it, the buttons are off
    shown, _, _, _, outline, chosen, reindex, remove = web.library_tab("街道", "全部", "", "library", "甲.txt")
    assert "甲.txt" not in shown and outline == LIBRARY_HINT and chosen == ""
    assert not reindex["interactive"] and not remove["interactive"]


def test_delete_then_restore_then_delete_for_good(app):  # noqa: F811
    web = WebApp(app)
    message, shown, switch, _, _, outline, chosen, reindex, _ = web.library_remove(
        "甲.txt", "", "全部", DEFAULT_SORT, "library", progress=QUIET)
    assert "已删除" in message and "某区机关党支部2024年度党建工作总结" in message
    assert outline == LIBRARY_HINT and chosen == "" and not reindex["interactive"]  # its outline is gone
    assert "甲.txt" not in shown and ("回收站（1）", "trash") in switch["choices"]
    assert {r.source for r in app.library()} == {"乙.txt"}  # out of the index too
    [entry] = web.api_trash()
    assert entry["title"] == "某区机关党支部2024年度党建工作总结" and entry["path"].startswith(".trash/")

    shown, *_ = web.library_tab("", "全部", "", "trash", "")
    assert "某区机关党支部2024年度党建工作总结" in shown and 'data-yd-go="restore"' in shown
    assert re.search(r'data-yd-go="purge"[^>]*data-yd-ask="永久删除', shown)  # asks before deleting for good
    assert "回收站中没有符合条件的报告" in web.library_tab("不存在的词", "全部", "", "trash", "")[0]

    message, shown, *_ = web.library_restore(f"{DEFAULT}/{entry['path']}", "", "全部", "", "", progress=QUIET)
    assert "已恢复" in message and "回收站是空的" in shown
    assert "甲.txt" in {r.source for r in app.library() if r.passages}
    assert web.api_trash() == [] and not (app.settings.corpus_dir / ".trash" / entry["path"].split("/")[1]).exists()

    web.library_remove("甲.txt", "", "全部", DEFAULT_SORT, "trash", progress=QUIET)
    key = f"{DEFAULT}/{web.api_trash()[0]['path']}"
    assert web.library_purge("", "", "全部", "", "") == (gr.skip(),) * 9  # the page asked and the user said no
    assert web.api_trash()
    message, shown, switch, *_ = web.library_purge(key, "", "全部", "", "", progress=QUIET)
    assert "已永久删除" in message and web.api_trash() == [] and ("回收站", "trash") in switch["choices"]
    assert not list((app.settings.corpus_dir / ".trash").rglob("甲.txt"))
    with pytest.raises(gr.Error):
        web.purge_report(key.split("/", 1)[1])  # gone for good: nothing to purge or restore
    with pytest.raises(gr.Error):
        web.restore_report(key.split("/", 1)[1])


def test_the_trash_is_the_editors_own(web_as):  # noqa: F811
    """Only those who may edit a base see, restore or purge its trash — on the page and through the API."""
    web, request, audit = web_as
    ann, bob, boss = request("ann"), request("bob"), request("boss")
    web.remove_report("a/甲测试局.txt", ann)
    web.remove_report("b/乙测试局.txt", boss)
    a_path, b_path = (next(t["path"] for t in web.bases.get(b).trash()) for b in ("a", "b"))
    # ann edits A: A's trash only; bob reads B: no trash at all, no switch to it
    assert [(t["base"], t["title"]) for t in web.api_trash(ann)] == [("a", "甲测试局2024年党建工作总结")]
    assert web.api_trash(bob) == []
    shown, switch, *_ = web.library_tab("", "全部", "", "trash", "", bob)
    assert not switch["visible"] and switch["value"] == "library" and "乙测试局" not in shown.replace("乙测试局.txt", "")
    assert "yd-trash" not in shown
    # a reader cannot restore or purge, by the page's events or the API; nor an editor of A in B
    for who, base, path in ((bob, "b", b_path), (ann, "b", b_path), (bob, "a", a_path)):
        for call in (lambda: web.restore_report(path, base, who), lambda: web.purge_report(path, base, who),
                     lambda: web.library_restore(f"{base}/{path}", "", "全部", "", "", who, progress=QUIET),
                     lambda: web.library_purge(f"{base}/{path}", "", "全部", "", "", who, progress=QUIET)):
            with pytest.raises(gr.Error):
                call()
    assert (web.bases.get("b").settings.corpus_dir / b_path).exists()
    assert (web.bases.get("a").settings.corpus_dir / a_path).exists()
    assert web.status(ann)["reports"] == 0  # A's only report removed: A's index is empty, as asked
    # ann restores in A, boss purges in B; the audit log holds both
    assert web.restore_report(a_path, "a", ann)["source"].endswith("甲测试局.txt")
    assert web.purge_report(b_path, "b", boss) == {"source": "乙测试局.txt"}
    assert not (web.bases.get("b").settings.corpus_dir / b_path).exists()
    done = {(e.user, e.action, e.base) for e in audit.entries()}
    assert {("ann", "restore", "a"), ("boss", "purge", "b")} <= done


# --- an upload batch, file by file ---------------------------------------------------------------------


def stages(batch: UploadBatch) -> dict[str, str]:
    return {line.original: f"{line.stage} {line.detail}".strip() for line in batch.files}


def test_each_file_of_a_batch_has_its_own_stage():
    batch = UploadBatch.of(["一份很长的名字的扫描报告第一部分.pdf", "b.txt", "c.sh", "d.txt"])
    assert set(stages(batch).values()) == {"正在保存"}
    batch.saved([Upload("一份很长的名字的扫描报告第一部分.pdf", "a.pdf", "saved"), Upload("b.txt", "b.txt", "saved"),
                 Upload("c.sh", "", "rejected", "不支持的文件类型"), Upload("d.txt", "旧.txt", "duplicate")])
    s = stages(batch)
    assert s["b.txt"] == "等待读取" and s["c.sh"] == "未添加 不支持的文件类型" and s["d.txt"].startswith("已存在")
    batch.event(None)  # another batch is being indexed
    assert stages(batch)["b.txt"].startswith("排队等待")
    batch.event(ProgressEvent(Stage.OCR, 2, 5, "a.pdf"))
    s = stages(batch)
    assert s["一份很长的名字的扫描报告第一部分.pdf"] == "识别扫描页 第 3/5 页" and s["b.txt"] == "等待读取"
    batch.event(ProgressEvent(Stage.READING, 7, 9, "b.txt"))  # a.pdf sorts before b.txt: read
    s = stages(batch)
    assert s["一份很长的名字的扫描报告第一部分.pdf"] == "已读取，等待向量化" and s["b.txt"] == "正在读取"
    batch.event(ProgressEvent(Stage.EMBEDDING, 40, 120))
    assert stages(batch)["b.txt"] == "向量化 40/120 段（本批共用）"
    batch.event(ProgressEvent(Stage.COMMITTING))
    assert stages(batch)["b.txt"] == "写入索引" and stages(batch)["c.sh"] == "未添加 不支持的文件类型"
    shown = batch.html()
    assert "一份很长的名字的扫描报告第一部分.pdf" in shown  # the full name, never cut
    assert "正在添加 4 个文件" in shown
    batch.done([{"original": "一份很长的名字的扫描报告第一部分.pdf", "name": "a.pdf", "outcome": "added", "reason": "",
                 "passages": 12, "duplicate_of": None},
                {"original": "b.txt", "name": "b.txt", "outcome": "unreadable", "reason": "空文件", "passages": 0,
                 "duplicate_of": None},
                {"original": "c.sh", "name": "", "outcome": "rejected", "reason": "不支持的文件类型", "passages": 0,
                 "duplicate_of": None},
                {"original": "d.txt", "name": "旧.txt", "outcome": "duplicate", "reason": "", "passages": 0,
                 "duplicate_of": "旧.txt"}])
    shown = batch.html()
    assert "本批 4 个文件：已添加 1 个" in shown and "保存为 a.pdf" in shown and "12 个段落" in shown
    assert "yd-up-busy" not in shown and "内容与 旧.txt 相同" in shown


def test_the_page_upload_streams_and_each_batch_replaces_the_last(app, tmp_path):  # noqa: F811
    web = WebApp(app)
    new = tmp_path / "一份新的街道工作报告.txt"
    new.write_text(THIRD, encoding="utf-8")
    frames = [f[0] for f in web.upload_batch([str(new)])]
    assert "正在保存" in frames[0] and "一份新的街道工作报告.txt" in frames[0]
    assert any("yd-up-busy" in f and ("读取" in f or "向量化" in f or "写入索引" in f) for f in frames[1:-1])
    assert "已添加" in frames[-1] and "本批 1 个文件：已添加 1 个" in frames[-1]
    # the same file again: a result of its own, not the last one's
    again = tmp_path / "again"
    again.mkdir()
    (again / new.name).write_text(THIRD, encoding="utf-8")
    *_, last = web.upload_batch([str(again / new.name)])
    assert "已存在" in last[0] and "已添加 0 个" in last[0] and last[-1] is None  # the file box emptied
    # refused before anything is saved (no right, nothing chosen): said in the panel, in place of the last result
    assert "请选择" in next(iter(web.upload_batch([])))[0]


def test_a_refused_reader_upload_is_said_in_the_panel(web_as, tmp_path):  # noqa: F811
    web, request, _ = web_as
    new = tmp_path / "乙测试局2024.txt"
    new.write_text("乙测试局2024年工作总结\n一、主要工作\n全年开展活动3次。\n", encoding="utf-8")
    [frame] = list(web.upload_batch([str(new)], "b", None, None, request("bob")))
    assert "未添加" in frame[0] and "无权" in frame[0] and "乙测试局2024.txt" in frame[0]
    assert not (web.bases.get("b").settings.corpus_dir / new.name).exists()


def test_an_oversized_batch_is_told_file_by_file(app):  # noqa: F811
    shown = too_large([{"name": "超大的扫描报告.pdf", "size": 30 * 2**20}, {"name": "小报告.txt", "size": 900}], 20)
    assert "超大的扫描报告.pdf" in shown and "超过 20 MB 的上传上限" in shown
    assert "小报告.txt" in shown and "整批未上传" in shown and "已添加 0 个" in shown
    assert too_large([{"name": "小报告.txt", "size": 900}], 20) is None
    assert too_large([{"name": 3}, "x", None], 20) is None  # whatever the browser sent
    web = WebApp(app)
    assert web.upload_refused("{bad") == gr.skip() and web.upload_refused('[{"name": "a.txt", "size": 5}]') == gr.skip()
    assert "整批未上传" in web.upload_refused('[{"name": "大.pdf", "size": 99999999}, {"name": "a.txt", "size": 5}]')


def test_trash_html_names_base_when_several():
    shown = trash_html([{"key": "a/.trash/1/x.txt", "name": "x.txt", "title": "甲", "removed": 0, "size": 2048,
                         "base_title": "甲知识库"}], several=True)
    assert "甲知识库" in shown and "2 KB" in shown and "x.txt" in shown


def test_a_batch_that_cannot_be_saved_says_so_in_the_panel(app, tmp_path):  # noqa: F811
    web = WebApp(app)
    new = tmp_path / "新报告.txt"
    new.write_text(THIRD, encoding="utf-8")
    corpus = app.settings.corpus_dir
    for f in corpus.iterdir():
        f.unlink()
    corpus.rmdir()
    corpus.write_text("not a folder", encoding="utf-8")  # the corpus folder replaced by a file
    *_, last = web.upload_batch([str(new)])
    assert "未能添加" in last[0] and "未添加" in last[0] and "yd-up-busy" not in last[0], last[0]
