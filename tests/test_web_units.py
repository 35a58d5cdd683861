"""The web layer's parts on their own (fast tier): rendering, uploads, the index worker and the facade's
library operations, over a real index built with a tiny deterministic encoder (no model needed)."""
from __future__ import annotations

import functools
import hashlib
import html
import re
import time

import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.engine import TRASH, UnknownReport, Yandu
from retrieval.ingest import corpus_hashes, safe_filename, save_uploads
from retrieval.passage import PASSAGE_KEYS
from retrieval.answer.direct import direct_answer
from retrieval.web.render import export_markdown, mark_spans, marked, render_answer, render_context
from retrieval.web.worker import CorpusWatcher, IndexWorker

REPORT = "某区机关党支部2024年度党建工作总结\n一、主要工作\n（一）创新教育载体\n全年共开展“红色走读”活动17次。\n" \
         "二、存在问题\n（一）学习不够深入\n个别党员理论学习流于形式。\n"
OTHER = "某街道2023年工作总结\n一、主要工作\n全年举办“邻里议事会”23场。\n"


class HashEncoder:
    """A real (if crude) encoder: hashed character bigrams, L2-normalised — enough to rank tiny corpora."""

    model_id, dim, runtime, query_prompt, passage_prompt = "test-hash-64", 64, "numpy", "", ""

    def _encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for a, b in zip(t, t[1:]):
                out[i, int(hashlib.md5((a + b).encode()).hexdigest(), 16) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def encode_queries(self, texts):
        return self._encode(texts)

    def encode_passages(self, texts, batch_size=32):
        return self._encode(texts)

    def token_counts(self, texts):
        return [len(t) for t in texts]


def indexed_app(tmp_path, reports: dict[str, str]) -> Yandu:
    """A Yandu over ``reports`` (file name → text) in ``tmp_path``, indexed with the hash encoder."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in reports.items():
        (corpus / name).write_text(text, encoding="utf-8")
    y = Yandu(Settings().with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index"))
    y._encoder = HashEncoder()
    y.index()
    return y


@pytest.fixture
def app(tmp_path) -> Yandu:
    return indexed_app(tmp_path, {"甲.txt": REPORT, "乙.txt": OTHER})


def passage(**kw) -> dict:
    base = dict(rank=1, score=0.5, source="甲.txt", title="某区机关党支部2024年度党建工作总结", section="一、主要工作",
                section_type="work", text="全年共开展“红色走读”活动17次。", year=2024, data_years=None, page=None, item=None,
                start=30, end=46, parts=[], base="", why=None)
    base.update(kw)
    assert tuple(base) == PASSAGE_KEYS
    return base


# --- rendering ---------------------------------------------------------------------------------


def test_marks_match_normalised_forms_but_keep_the_original_characters():
    text = "全年开展ＡＢＣ活动，党员学习"
    spans = mark_spans(text, ["abc", "党员"])
    assert [text[s:e] for s, e in spans] == ["ＡＢＣ", "党员"]
    assert marked("a<b>", ["b"]).count("<mark>") == 1 and "&lt;" in marked("a<b>", ["b"])


def test_answer_lists_every_passage_with_its_citation():
    ps = [passage(), passage(rank=2, source="乙.txt", title="某街道2023年工作总结", text="举办“邻里议事会”23场。")]
    md = render_answer("红色走读开展了多少次？", ps, "", direct=direct_answer("红色走读开展了多少次？", ps))
    assert "[1]" in md and "[2]" in md and "某街道2023年工作总结" in md and "<mark>" in md


def test_nothing_found_says_so():
    assert "没有找到" in render_answer("量子计算", [], "")


def test_export_has_question_citations_and_quotes():
    md = export_markdown([{"question": "问？", "passages": [passage()], "message": "", "note": ""}])
    assert "## 问题 1：问？" in md and "来源：甲.txt" in md and "> 全年共开展“红色走读”活动17次。" in md


def test_context_marks_the_passage_inside_its_section():
    ctx = {"source": "甲.txt", "title": "T", "section": "一、主要工作", "before": "前文<", "passage": "全年共开展“红色走读”活动17次。",
           "after": "后文"}
    out = render_context(ctx, passage())
    assert '<mark class="yd-focus">全年共开展“红色走读”活动17次。</mark>' in out and "前文&lt;" in out
    assert "不在当前索引" in render_context(None, passage())


# --- uploads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [
    ("报告.txt", "报告.txt"), ("../../逃逸.md", "逃逸.md"), ("..\\a\\b.docx", "b.docx"), (".hidden.txt", "hidden.txt"),
    ("a\x07b.TXT", "ab.txt"), ("txt", ""), ("  .. .pdf", ""),
])
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


def test_long_names_are_cut_to_200_bytes_keeping_the_suffix():
    name = safe_filename("很" * 150 + ".docx")
    assert name.endswith(".docx") and len(name.encode()) <= 200


def test_save_uploads_never_replaces_or_duplicates(tmp_path):
    corpus, incoming = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir(), incoming.mkdir()
    (corpus / "a.txt").write_text("旧内容", encoding="utf-8")
    same_name = incoming / "a.txt"
    same_name.write_text("新内容", encoding="utf-8")
    same_content = incoming / "b.txt"
    same_content.write_text("旧内容", encoding="utf-8")
    bad, empty = incoming / "x.sh", incoming / "e.txt"
    bad.write_text("echo", encoding="utf-8")
    empty.write_bytes(b"")
    res = save_uploads(corpus, [same_name, same_content, bad, empty, incoming / "gone.txt"], 1)
    assert [(u.outcome, u.name) for u in res[:2]] == [("saved", "a (2).txt"), ("duplicate", "a.txt")]
    assert [u.outcome for u in res[2:]] == ["rejected"] * 3
    assert (corpus / "a.txt").read_text(encoding="utf-8") == "旧内容"
    assert sorted(p.name for p in corpus.iterdir()) == ["a (2).txt", "a.txt"]  # no .part left behind


def test_corpus_hashes_trust_known_entries_only_while_unchanged(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    real = corpus_hashes(tmp_path)
    fake = {"a.txt": {"size": 1, "sha256": "cached"}}
    assert corpus_hashes(tmp_path, fake, time.time() + 10) == {"cached": "a.txt"}
    assert corpus_hashes(tmp_path, fake, 0) == real  # modified after the manifest: hashed again


# --- facade: adding, removing, re-indexing, the library ------------------------------------------


def test_library_lists_reports_with_figures_and_failures(app):
    (app.settings.corpus_dir / "坏.docx").write_bytes(b"not a docx")
    app.index()
    lib = {r.source: r for r in app.library()}
    assert lib["甲.txt"].title == "某区机关党支部2024年度党建工作总结" and lib["甲.txt"].year == 2024
    assert lib["甲.txt"].kind == "工作总结" and lib["甲.txt"].passages >= 2
    assert set(lib["甲.txt"].sections) >= {"work", "problem"}
    assert lib["坏.docx"].error and lib["坏.docx"].passages == 0


def test_library_shows_the_kind_of_report_its_opening_says_when_its_title_names_none(app):
    # a copy with no title line (the seeds have one): the opening says it is a 述职报告
    (app.settings.corpus_dir / "丙.txt").write_text(
        "根据工作安排，现将本人2023年抓基层党建工作情况述职如下：\n一、主要工作\n全年开展主题党日12次。\n", encoding="utf-8")
    (app.settings.corpus_dir / "2023年党建工作总结.docx").write_bytes(b"not a docx")
    app.index()
    lib = {r.source: r for r in app.library()}
    assert lib["丙.txt"].kind == "述职报告", lib["丙.txt"]
    assert lib["甲.txt"].kind == "工作总结"  # named by its title, as before
    assert lib["2023年党建工作总结.docx"].error and lib["2023年党建工作总结.docx"].kind == "工作总结"  # by its name


def test_remove_moves_to_trash_and_restore_brings_it_back(app):
    target = app.remove_report("乙.txt")
    assert target.is_relative_to(app.settings.corpus_dir / TRASH) and target.read_text(encoding="utf-8") == OTHER
    assert not (app.settings.corpus_dir / "乙.txt").exists()
    app.index()
    assert {r.source for r in app.library()} == {"甲.txt"}
    # gone from the index (what remains is off-topic for this question, so it may answer nothing at all)
    assert all(p.source == "甲.txt" for p in app.search("邻里议事会举办了多少场？").passages)
    assert app.restore_report(app.trash()[0]["path"]) == "乙.txt"
    app.index()
    assert app.search("邻里议事会举办了多少场？").passages[0].source == "乙.txt"


def test_names_outside_the_corpus_are_refused(app, tmp_path):
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    for name in ("../outside.txt", str(tmp_path / "outside.txt"), "无此报告.txt", f"{TRASH}/x.txt"):
        with pytest.raises(UnknownReport):
            app.remove_report(name)
        with pytest.raises(UnknownReport):
            app.outline(name)
    assert (tmp_path / "outside.txt").exists()


def test_reindex_one_report_reads_it_again(app):
    report = app.reindex_report("甲.txt")
    assert report.updated == ["甲.txt"] and report.unchanged == 1


def test_outline_is_the_parse_view(app):
    out = app.outline("甲.txt")
    assert [s["heading"] for s in out["sections"]] == ["一、主要工作", "二、存在问题"]
    assert out["sections"][1]["section_type"] == "problem" and out["passages"] >= 2


def test_add_files_saves_under_safe_names(app, tmp_path):
    up = tmp_path / "上传 报告.txt"
    up.write_text("某局2024年工作总结\n一、主要工作\n开展廉政谈话136人次。\n", encoding="utf-8")
    again = tmp_path / "again.txt"
    again.write_text(REPORT, encoding="utf-8")
    res = app.add_files([up, again])
    assert [(u.outcome, u.name) for u in res] == [("saved", "上传 报告.txt"), ("duplicate", "甲.txt")]


# --- the index worker ------------------------------------------------------------------------------


def test_worker_runs_requests_and_coalesces(app):
    worker = IndexWorker(app)
    (app.settings.corpus_dir / "丙.txt").write_text("某镇2022年工作总结\n一、主要工作\n新建村级活动场所5个。\n", encoding="utf-8")
    tickets = [worker.request() for _ in range(3)]
    run = worker.wait(tickets[-1], timeout=60)
    assert run is not None and run.error is None and run.covers >= tickets[-1]
    assert worker.wait(tickets[0], timeout=1) is not None  # an earlier ticket is covered by a later run
    assert "丙.txt" in {r.source for r in app.library() if r.passages}
    run = worker.wait(worker.request(force=frozenset({"甲.txt"})), timeout=60)
    assert run.report.updated == ["甲.txt"]


def test_worker_reports_a_failed_run_and_keeps_going(app):
    worker = IndexWorker(app, lock_timeout=0)
    from filelock import FileLock

    lock = FileLock(str(app.settings.index_dir / ".write.lock"))
    lock.acquire()
    try:
        (app.settings.corpus_dir / "丁.txt").write_text("某县2021年工作总结\n一、主要工作\n修路3条。\n", encoding="utf-8")
        run = worker.wait(worker.request(), timeout=60)
    finally:
        lock.release()
    assert run.report is None and run.error
    run = worker.wait(worker.request(), timeout=60)
    assert run.error is None and "丁.txt" in run.report.added


def test_watcher_reacts_to_report_files_only(tmp_path):
    class Event:
        def __init__(self, path, kind="created", is_dir=False):
            self.src_path, self.event_type, self.is_directory = path, kind, is_dir

    assert CorpusWatcher.relevant(Event(str(tmp_path / "a.docx")))
    assert not CorpusWatcher.relevant(Event(str(tmp_path / ".upload-1.part")))
    assert not CorpusWatcher.relevant(Event(str(tmp_path / "notes.xlsx")))
    assert CorpusWatcher.relevant(Event(str(tmp_path / "sub"), "deleted", True))


# --- quotes, direct answers, follow-ups, exports ------------------------------------------------


def test_numbered_lines_render_without_visible_backslashes():
    from markdown_it import MarkdownIt

    from retrieval.web.render import _md_escape

    md = MarkdownIt("commonmark")
    for line in ("15.虚拟电厂建设", "1.“岳山造林”工程", "- 减号开头", "3) 括号", "a*b*c [x] `y` #z"):
        shown = re.sub(r"<[^>]+>", "", md.render("> " + _md_escape(line))).strip()
        assert html.unescape(shown) == line, (line, shown)


def test_answer_keeps_rank_order_and_hides_internal_figures():
    ps = [passage(rank=1), passage(rank=2, source="乙.txt", title="乙"), passage(rank=3), passage(rank=4, source="乙.txt", title="乙")]
    md = render_answer("红色走读", ps, "")
    assert [int(r) for r in re.findall(r"#cite-0-(\d+)\"[^>]*>\[\d+\]</a> ", md)] == [1, 2, 3, 4]
    assert md.count('class="yd-report"') == 4  # the report is named again wherever it changes
    assert "得分" not in md and "语义第" not in md


def test_a_passage_joining_outermost_sections_is_cited_by_its_first_and_last():
    joined = passage(section="", parts=["（一）强化组织领导。", "（二）强化理论学习。", "（三）强化阵地建设。"])
    md = render_answer("红色走读", [joined, passage(rank=2, section="")], "")
    assert "（一）强化组织领导。 … （三）强化阵地建设。" in md and md.count("（导语）") == 1  # the opening is still 导语


def test_figure_sentence_is_quoted_verbatim_with_its_rank():
    from retrieval.answer.direct import figure_sentence

    ps = [passage(rank=1, text="加强组织建设。全年发展党员15名，其中女性3名。下一步继续。"), passage(rank=2)]
    quote = figure_sentence("全年发展了多少名党员？", ps)
    assert quote.text == "全年发展党员15名，其中女性3名。" and quote.rank == 1
    assert figure_sentence("全年举办了多少场音乐会？", ps) is None  # no sentence states it: no line
    assert figure_sentence("意识形态工作存在哪些问题？", ps) is None  # not a how-many question


def test_list_items_are_slices_of_passages():
    from retrieval.answer.direct import list_items

    ps = [passage(rank=1, section="二、存在问题 › （二）意识形态工作还需加强", section_type="problem",
                  text="（二）意识形态工作还需加强。一是研究不够深入，创新举措不多。二是阵地管理有待加强。"),
          passage(rank=2, section_type="problem", text="一是宣传载体不丰富；二是引导力度不足。")]
    items = list_items("意识形态工作存在哪些问题？", ps)
    assert [(q.text, q.rank) for q in items] == [("一是研究不够深入，创新举措不多。", 1), ("二是阵地管理有待加强。", 1)]
    assert all(q.text in ps[q.rank - 1]["text"] for q in items)
    singles = [passage(rank=1, section="二、存在问题 › （一）学习不深", section_type="problem", text="个别党员学习流于形式。"),
               passage(rank=2, section="二、存在问题 › （二）阵地不严", section_type="problem", text="部分阵地缺人。")]
    assert [q.text for q in list_items("存在哪些问题？", singles)] == ["（一）学习不深", "（二）阵地不严"]
    assert list_items("存在哪些问题？", singles[:1]) == []  # one item is not a list
    assert list_items("全年发展了多少名党员？", ps) == []


def test_list_answer_quotes_only_the_one_section_that_plays_the_role_asked():
    from retrieval.answer.direct import list_items

    plan = passage(rank=1, section="三、存在的问题及下一步打算 › （一）坚持党要管党", section_type="plan",
                   text="（一）坚持党要管党。一是压实责任。二是强化督查。")
    problem = passage(rank=2, section="二、党建工作存在的问题", section_type="problem", text="一是学习不够深入。二是载体不够丰富。")
    assert list_items("党建工作存在哪些问题？", [plan]) == []  # a plan section never answers a problem question
    items = list_items("党建工作存在哪些问题？", [plan, problem])
    assert [(q.text, q.rank) for q in items] == [("一是学习不够深入。", 2), ("二是载体不够丰富。", 2)]
    # single-item passages of two different sections are not one list
    a = passage(rank=1, section="二、存在问题 › （一）学习不深", section_type="problem", text="（一）学习不深。个别党员学习流于形式。")
    b = passage(rank=2, section="四、其他问题 › （二）阵地不严", section_type="problem", text="（二）阵地不严。部分阵地缺人。")
    assert list_items("存在哪些问题？", [a, b]) == []
    # another report's section is never quoted beside the top passage's
    other = passage(rank=2, source="乙.txt", section="二、存在问题 › （二）阵地不严", section_type="problem", text="（二）阵地不严。部分阵地缺人。")
    assert list_items("存在哪些问题？", [a, other]) == []


def test_a_bare_heading_item_carries_its_substance():
    from retrieval.answer.direct import ITEM_CHARS, list_items

    p = passage(section="二、特色亮点", section_type="highlight",
                text="一是构建学习体系。建立“1+4”学习制度，每月集中学习两次。二是开展结对帮带。党员与群众结对120对。"
                     "三是创新载体。" + "打造线上学习平台，" * 12 + "覆盖全体党员。")
    items = [q.text for q in list_items("有哪些特色亮点做法？", [p])]
    assert items[:2] == ["一是构建学习体系。建立“1+4”学习制度，每月集中学习两次。", "二是开展结对帮带。党员与群众结对120对。"]
    assert items[2].startswith("三是创新载体。打造") and items[2].endswith("…") and len(items[2]) <= ITEM_CHARS + 1
    assert all(q.rstrip("…") in p["text"] for q in items)
    # a numbered heading on a line of its own: its line break stays, so the item is still a slice of the text
    lines = passage(section="一、学校党建工作履职情况", section_type="work",
                    text="1.年度党建情况\n我校党总支下辖3个在职支部。\n2.党风廉政情况\n我校落实“双减”政策。")
    items = [q.text for q in list_items("学校党建工作有哪些做法？", [lines])]
    assert items == ["1.年度党建情况\n我校党总支下辖3个在职支部。", "2.党风廉政情况\n我校落实“双减”政策。"]


def test_the_items_of_one_list_are_written_alike_and_a_cut_off_one_says_so():
    """When most items open with a bare heading, a longer heading of the same list carries its substance
    too; a substance the text ends inside (a web copy cut off) ends with "…"."""
    from retrieval.answer.direct import BARE, list_items

    long_heading = "四是落实落细措施,抓好常态化防控。"
    assert len(long_heading) > BARE
    p = passage(section="一、主要工作 › (一)战疫情、显担当。", section_type="work",
                text="一是精心组织安排,宣传教育引导。成立领导小组。二是切断传播渠道,细化监管服务。了解干部假期动态。"
                     "三是加强信息沟通,抓好线上学习。及时传达文件。" + long_heading + "实行校园相对封闭式")
    items = [q.text for q in list_items("疫情防控抓了哪几条？", [p])]
    assert items[:3] == ["一是精心组织安排,宣传教育引导。成立领导小组。", "二是切断传播渠道,细化监管服务。了解干部假期动态。",
                         "三是加强信息沟通,抓好线上学习。及时传达文件。"]
    assert items[3] == long_heading + "实行校园相对封闭式…"
    # a list whose items open with whole sentences, not headings: each is its first sentence alone
    q = passage(section="一、主要工作 › (一)战疫情、显担当。", section_type="work",
                text="一是成立以局主要负责人为组长的领导小组。每天调度。二是了解机关干部假期动态并建立台账。每周通报。")
    assert [x.text for x in list_items("疫情防控抓了哪几条？", [q])] == ["一是成立以局主要负责人为组长的领导小组。",
                                                                     "二是了解机关干部假期动态并建立台账。"]


@pytest.mark.parametrize("question, sentence, section_type, why, quoted", [
    # the subject asked: the GDP target does not answer a question on new urban jobs
    ("2017年政府工作报告提出的城镇新增就业预期目标是多少？", "国内生产总值增长6.5%左右，在实际工作中争取更好结果。", "plan",
     {"year": True}, False),
    ("2017年政府工作报告提出的城镇新增就业预期目标是多少？", "城镇新增就业1100万人以上，城镇登记失业率4.5%以内。", "plan",
     {"year": True}, True),
    # result vs target: a target sentence never answers what was achieved, nor a result what was set
    ("2025年广西粮食产量是多少？", "粮食产量预期目标280亿斤以上。", "work", {"year": True, "unit": True}, False),
    ("广西2026年计划植树造林多少亩？", "植树造林380万亩，森林覆盖率稳定。", "work", {"year": True, "unit": True}, False),
    ("广西2026年计划植树造林多少亩？", "植树造林400万亩以上。", "plan", {"year": True, "unit": True}, True),
    # the year asked: a 2025 report's review of 2024 does not answer for 2025
    ("2025年广西粮食产量是多少？", "2024年粮食产量280.76亿斤。", "work", {"year": True, "unit": True}, False),
    ("2025年广西粮食产量是多少？", "粮食产量280.9亿斤，供给稳定。", "work", {"year": False, "unit": True}, False),
    ("2025年广西粮食产量是多少？", "粮食产量280.9亿斤，供给稳定。", "work", {"year": True, "unit": True}, True),
    # the unit asked: another province's report does not answer
    ("2025年广西粮食产量是多少？", "粮食产量280.9亿斤，供给稳定。", "work", {"year": True, "unit": False}, False),
    # the counted unit asked
    ("全年发展了多少名党员？", "全年发展党员工作扎实推进，召开会议3次。", "work", None, False),
])
def test_figure_answer_only_when_the_figure_belongs_to_what_was_asked(question, sentence, section_type, why, quoted):
    from retrieval.answer.direct import figure_sentence

    why_json = None if why is None else {"dense": {}, "keyword": {}, "role": False, "quantity": True, "roles_asked": [], **why}
    p = passage(text=sentence, section_type=section_type, why=why_json)
    assert (figure_sentence(question, [p]) is not None) == quoted


def test_figure_answer_comes_only_from_the_top_passage_report():
    from retrieval.answer.direct import figure_sentence

    top = passage(rank=1, text="全年召开党组会研究议题。")
    other = passage(rank=2, source="乙.txt", text="全年召开党组会60余次。")
    assert figure_sentence("召开了多少次党组会？", [top, other]) is None
    same = passage(rank=2, text="全年召开党组会60余次。")
    assert figure_sentence("召开了多少次党组会？", [top, same]).rank == 2


@pytest.mark.parametrize("question, topic", [
    ("意识形态工作存在哪些问题？", "意识形态工作"), ("那原因呢？", ""), ("下一步怎么打算？", ""),
    ("基层党组织建设有哪些特色做法？", "基层党组织建设特色"),
    ("查摆出的问题打算如何整改？", "查摆出整改"),  # 打算 plans the rectification: 整改 is what is asked about
])
def test_topic_of(question, topic):
    from retrieval.answer import topic_of

    assert topic_of(question) == topic


def test_a_topic_s_words_are_read_within_the_runs_a_removed_word_leaves():
    from retrieval.answer.direct import topic_concepts
    from retrieval.answer.topic import topic_parts

    question = "省直党组2023年党建工作总结里，下步打算列了哪几条"
    assert topic_parts(question)[1] == "列"  # 下步打算 and 了 removed: "里" and "列" stay apart
    words = [w for c in topic_concepts(question, []) for w in c.words]
    assert "党建工作" in words and not any("里列" in w for w in words)


def test_follow_up_keeps_topic_and_scope():
    from retrieval.answer import follow_up

    first = {"question": "意识形态工作存在哪些问题？", "topic": "", "scope": {"reports": ["甲.txt"], "years": []}}
    f = follow_up("那原因呢？", first)
    assert f.topic == "意识形态工作" and f.query.startswith("意识形态工作") and f.reports == ("甲.txt",)
    second = {"question": "那原因呢？", "topic": f.topic, "scope": {"reports": list(f.reports), "years": []}}
    assert follow_up("下一步怎么打算？", second).topic == "意识形态工作"  # carried on
    assert follow_up("全年发展了多少名党员？", first).topic == ""  # a question of its own
    assert follow_up("那原因呢？", None).topic == ""


def test_docx_export_has_questions_quotes_citations_and_tables(tmp_path):
    from docx import Document

    from retrieval.web.render import export_docx

    asked = [passage(text="全年发展党员15名。")]
    turns = [{"question": "全年发展了多少名党员？", "passages": asked, "message": "", "note": "",
              "direct": direct_answer("全年发展了多少名党员？", asked).to_json()},
             {"kind": "compare", "question": "各单位的问题？", "note": "全部报告",
              "rows": [{"source": "甲.txt", "title": "甲报告", "year": 2024, "passage": passage()},
                       {"source": "乙.txt", "title": "乙报告", "year": 2023, "passage": None}]}]
    export_docx(turns, tmp_path / "a.docx")
    doc = Document(str(tmp_path / "a.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "问题 1：全年发展了多少名党员？" in text and "全年发展党员15名。 [1]" in text and "来源：甲.txt" in text
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0] == ["报告", "年份", "最相关段落", "来源"] and rows[2][2] == "未找到"
    md = export_markdown(turns)
    assert "## 对比 2：各单位的问题？" in md and "| 乙报告 | 2023 | — | 未找到 |" in md


def test_compare_and_labels_over_a_real_index(app):
    (app.settings.corpus_dir / "0a1b2c3d.txt").write_text("一年来，在县委的正确领导下，全年举办培训班12期。\n", encoding="utf-8")
    app.index()
    rows = {r.source: r for r in app.compare("红色走读活动开展了多少次？")}
    assert set(rows) == {"甲.txt", "乙.txt", "0a1b2c3d.txt"} and rows["甲.txt"].passage.source == "甲.txt"
    assert rows["0a1b2c3d.txt"].title.startswith("无标题报告（")
    assert [r.source for r in app.compare("红色走读", years=[2023])] == ["乙.txt"]
    assert {d["label"] for d in app.status()["documents"]} >= {"某区机关党支部2024年度党建工作总结"}


def test_chinese_ui_middleware_marks_the_page_only():
    import asyncio

    from retrieval.web.locale import CHINESE_UI, ChineseUI

    async def page(scope, receive, send):
        body = b'<!doctype html><html lang="en"><head><title>t</title></head></html>' if scope["path"] == "/" else b"{}"
        kind = b"text/html; charset=utf-8" if scope["path"] == "/" else b"application/json"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def get(path):
        sent = []

        async def send(message):
            sent.append(message)

        asyncio.run(ChineseUI(page)({"type": "http", "method": "GET", "path": path}, None, send))
        headers = dict(sent[0]["headers"])
        body = b"".join(m.get("body", b"") for m in sent[1:])
        assert int(headers[b"content-length"]) == len(body)
        return body

    html_page = get("/")
    assert html_page.startswith(b'<!doctype html><html lang="zh-CN"><head>' + CHINESE_UI)
    assert get("/config") == b"{}"


def test_one_label_for_a_report_everywhere(app):
    """A report named after its title, and one with no title and an id for a name: the same label in the
    answer, the filters, the library, the comparison, the context head, the outline and the export."""
    from retrieval.web.handlers import WebApp

    corpus = app.settings.corpus_dir
    (corpus / "2025年某市政府工作报告.txt").write_text(
        "2025年某市政府工作报告\n一、2024年工作回顾\n全年新建口袋公园37个。\n", encoding="utf-8")
    (corpus / "003_b29ff4d5ebd0983d.txt").write_text(
        "一年来，在县委的正确领导下，全年新建村级口袋公园5个，举办培训班12期。\n", encoding="utf-8")
    app.index()
    web = WebApp(app)
    expected = {"2025年某市政府工作报告.txt": "2025年某市政府工作报告",
                "003_b29ff4d5ebd0983d.txt": "无标题报告（一年来，在县委的正确领导下，全年…）"}
    status = web.status()
    assert {d["source"]: d["label"] for d in status["documents"] if d["source"] in expected} == expected
    assert {v: k for k, v in web.report_choices(status) if v in expected} == expected
    library = {r.source: r.title for r in app.library()}
    compare = {r.source: r.title for r in app.compare("口袋公园新建了多少个？")}
    for source, label in expected.items():
        assert library[source] == label and compare[source] == label
        assert app.outline(source)["title"] == label
        [p] = app.search("口袋公园新建了多少个？", 1, [source]).passages
        assert p.title == label
        assert app.context(source, p.start, p.end)["title"] == label
        chat = _drain_chat(web, "口袋公园新建了多少个？", [source])
        turn = chat[1][-1]
        assert f'<span class="yd-report">{html.escape(label)}</span>' in turn["answer"]
        assert f"] {label} › " in export_markdown([turn]) or f"] {label}\n" in export_markdown([turn])
        assert label in render_context(app.context(source, p.start, p.end), turn["passages"][0])
        assert "无标题报告" not in label or "003_b29ff4d5ebd0983d" not in label


def _drain_chat(web, question: str, reports: list[str]):
    """The last frame the chat handler yields (the page's outputs) for one question."""
    frames = list(web.chat(question, [], 1, reports, [], []))
    return frames[-1]


# --- questions shown as typed, limited, years checked (issue 24) ----------------------------------

HOSTILE = '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)"> **粗体** 1. [链接](http://x) `代码` #标题'


def test_a_question_is_shown_and_exported_as_typed():
    from retrieval.web.handlers import WebApp

    turn = {"question": HOSTILE, "passages": [passage()], "message": "", "note": "", "answer": "答"}
    [user, _] = WebApp._messages([turn])
    rendered = user["content"]  # HTML as the chat draws it (no Markdown: layout.py render_markdown=False)
    assert "<" not in rendered and "&lt;img" in rendered
    assert html.unescape(rendered) == HOSTILE  # the characters typed, all shown
    [user, _] = WebApp._messages([{**turn, "question": "第一行\n<b>第二行</b>"}])
    assert user["content"] == "第一行<br>&lt;b&gt;第二行&lt;/b&gt;"
    md = export_markdown([turn, {**turn, "question": "第一行\n<script>x</script>第二行"}])
    heading = next(line for line in md.splitlines() if line.startswith("## 问题 1："))
    assert "<img" not in heading and html.unescape(heading).replace("\\", "").endswith(HOSTILE.replace("\\", ""))
    assert "<script>" not in md and "## 问题 2：第一行 &lt;script&gt;" in md  # one line, no raw HTML


def test_question_length_is_limited_and_said():
    from retrieval.web.handlers import MAX_QUESTION, question_refused

    assert question_refused("意识形态工作存在哪些问题？") is None
    assert question_refused("") == "请输入问题。"
    assert question_refused("问" * MAX_QUESTION) is None
    assert f"最多 {MAX_QUESTION} 字" in question_refused("问" * (MAX_QUESTION + 1))


def test_a_year_chip_that_is_not_a_year_is_removed_with_a_message():
    from retrieval.web.handlers import WebApp, _years, is_year

    assert [is_year(y) for y in (2023, "2023", " 2024 ", "abc", "20233", "０２０２", "1066", "", None)] == \
        [True, True, True, False, False, False, False, False, False]
    assert _years([2023, "abc", "2022"]) == [2023, 2022]
    with pytest.warns(UserWarning, match="已移除：abc"):
        update = WebApp.check_years([2023, "abc"])
    assert update["value"] == [2023]
    assert WebApp.check_years([2023, "2022"]) == {"__type__": "update"}  # gr.skip(): valid chips are left alone


# --- Chinese throughout: every handler's messages (issue 24; the rendered page: tests/test_browser.py) -----


def test_every_handler_speaks_chinese(app, tmp_path, capsys):
    """Each event the page has, run over a real index (answers, nothing found, comparisons, refused input,
    uploads of every outcome, rebuild, library actions, status, first-start waits, API errors): no English
    word left in what it shows, its progress lines or its notices."""
    import warnings

    import gradio as gr

    from english import english_left, strings_in
    from retrieval.web.handlers import EMPTY_INDEX, WebApp, about
    from retrieval.web.render import waiting_markdown

    web = WebApp(app)
    shown: list = []
    progress = lambda *a, desc="", **k: shown.append(desc)  # noqa: E731
    good = tmp_path / "新报告.txt"
    good.write_text("某镇2024年工作总结\n一、主要工作\n全年新建口袋公园9个。\n", encoding="utf-8")
    same = tmp_path / "同内容.txt"
    same.write_text(REPORT, encoding="utf-8")
    odd, empty = tmp_path / "脚本.sh", tmp_path / "空.txt"
    odd.write_text("echo", encoding="utf-8")
    empty.write_bytes(b"")
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"not a docx")
    with warnings.catch_warnings(record=True) as notices:
        warnings.simplefilter("always")
        for question in ("红色走读活动开展了多少次？", "那原因呢？", "火星上的天气怎么样？", "", "问" * 300):
            shown.extend(web.chat(question, [], 5, [], [2024, "abc"], []))
        shown.extend(web.chat("学习", [], 5, ["甲.txt"], [2024], ["problem"]))
        shown.extend(web.compare_turn("各单位存在哪些问题？", [], [], [], []))
        shown.extend(web.compare_turn("", [], [], [], []))
        shown.append(web.check_years(["二〇二四", 2024]))
        shown.append(web.check_data_years(["二四年"]))
        *_, (_, turns, *_) = web.chat("红色走读活动开展了多少次？", [], 5, [], [], [], None, [2024])
        *_, (_, turns, *_) = web.compare_turn("各单位存在哪些问题？", turns, [], [], [])
        shown += [turns, web.keep(turns), web.trim(1, turns), web.restore({"turns": turns}), web.side(), web.refresh(None)]
        result = web.api_add_reports([str(p) for p in (good, same, odd, empty, broken)], progress=progress)
        assert {f["outcome"] for f in result["files"]} == {"added", "duplicate", "rejected", "unreadable"}, result
        shown.append(result)
        again = tmp_path / "again"
        again.mkdir()
        for p in (good, odd, broken):  # the page's upload: every frame, and what a refused batch shows
            (again / p.name).write_bytes(p.read_bytes())
        shown += list(web.upload_batch([str(p) for p in again.iterdir()])) + list(web.upload_batch([]))
        shown.append(web.upload_refused('[{"name": "大.pdf", "size": 31457280}, {"name": "小.txt", "size": 10}]'))
        shown.append(web.rebuild([], [], False, progress=progress))
        shown.append(web.library_reindex("新报告.txt", "", "全部", "added:desc", progress=progress))
        shown += [web.library_rows(), web.outline("新报告.txt"), web.outline("无此报告.txt"), web.outline("坏.docx")]
        shown += [web.library_tab("", "全部", "year:asc", "library", "新报告.txt"), web.library_pick("新报告.txt"),
                  web.library_sort("passages", "", "全部", "", "library", "")]
        shown.append(web.library_remove("新报告.txt", "", "全部", "added:desc", "library", progress=progress))
        shown += [web.library_tab("", "全部", "", "trash", ""), web.api_trash()]
        trashed = f"default/{web.api_trash()[0]['path']}"
        shown.append(web.library_restore(trashed, "", "全部", "", "", progress=progress))
        web.library_remove("新报告.txt", "", "全部", "", "trash", progress=progress)
        shown.append(web.library_purge(f"default/{web.api_trash()[0]['path']}", "", "全部", "", "", progress=progress))
        from retrieval.web.library import sort_choices

        shown.append([words for words, _ in sort_choices()])
        shown += [web.status_markdown(), web.readiness(), EMPTY_INDEX, waiting_markdown("正在建立索引"),
                  [about(s) for s in (None, 3, 30, 300)]]
        for call in (lambda: web.api_search("学习", 5, section_types=["不存在"]),
                     lambda: web.api_search("学习", "五"), lambda: web.api_outline("../app.py"),
                     lambda: web.remove_report("../app.py"), lambda: web.purge_report("../app.py"),
                     lambda: web.restore_report(".trash/无此文件.txt")):
            with pytest.raises(gr.Error) as error:
                call()
            shown += [error.value.title, error.value.message]
    shown += [str(n.message) for n in notices] + [capsys.readouterr().out]  # gr.Info outside a request: printed
    # A reader's reason for a file it cannot read ("corrupt .docx (not a Word .docx package)") is the
    # readers' own wording (retrieval/ingest/readers, shared with the CLI): quoted, not checked here.
    reasons = sorted({r.error for r in app.library() if r.error} | {"corrupt .docx (not a Word .docx package)"},
                     key=len, reverse=True)
    # values of the 排序 box ("year:desc") and of the library's view switch: codes, shown by their words
    codes = {value for _, value in sort_choices()} | {"library", "trash"}
    texts = [functools.reduce(lambda t, r: t.replace(r, ""), reasons, t) for t in strings_in(shown) if t not in codes]
    assert any("问题过长" in t for t in texts) and any("已移除：二〇二四" in t for t in texts)
    assert any("数据年份应为四位数字" in t for t in texts) and any("已删除最早的 1 轮" in t for t in texts)
    assert any("份报告" in t and "新增" in t for t in texts)  # the rebuild's result
    left = {t[:120]: words for t in texts if (words := english_left(t))}
    assert not left, left


def test_audit_details_are_shown_in_words():
    from retrieval.web.admin import detail_text

    asked = detail_text('{"api": true, "shown": [{"base": "a", "source": "甲.txt", "start": 0, "end": 9},'
                        ' {"base": "a", "source": "甲.txt", "start": 9, "end": 20}]}')
    assert asked == "显示 2 段：甲.txt（2 段）；经 API"
    assert detail_text('{"outcomes": {"甲.txt": "added", "乙.exe": "rejected"}}') == "甲.txt：已添加、乙.exe：已拒绝"
    assert detail_text('{"role": "editor", "kind": "group"}') == "组；编辑"
    assert detail_text("不是 JSON") == "不是 JSON" and detail_text(None) == ""
    assert not re.search(r'[{"]', detail_text('{"rows": 3}'))
