"""Parse-time metadata: unit, report year, kind of report, the years each section is about, paragraph roles;
and the vocabulary data files they read."""
import os
import re
import sys
from pathlib import Path

from retrieval.ingest import chunk_document
from retrieval.ingest.roles import paragraph_cues, paragraph_roles
from retrieval.ingest.sections import parse_text
from retrieval.ingest.years import cn_number, five_year_plan, report_kinds
from retrieval.search.genre import government_kinds
from retrieval.text import DATA, official_terms, paraphrases, unit_aliases, units_named

GOV = """2026年湖南省政府工作报告
——2026年1月20日在湖南省第十四届人民代表大会第五次会议上
各位代表：
一、2025年工作回顾
过去一年，全省地区生产总值增长5.5%，城镇新增就业75万人。
我们也清醒看到，发展中还面临一些困难和问题：有效需求不足，部分企业经营困难。
二、“十五五”时期主要目标
（一）经济实力再上新台阶。
三、2026年重点工作
（一）扩大内需。城镇新增就业70万人以上。
四、全面加强政府自身建设
坚持依法行政。"""

REPORT = """县统计局党组书记2023年度述职报告
一、工作情况
组织学习12次，第1950页的材料不计。
二、存在的问题
学习不够深入。
三、下步打算
加强学习。"""


def test_government_report_metadata_and_section_years():
    doc = parse_text(GOV, "hn.txt")
    assert (doc.year, doc.unit, doc.kind) == (2026, "湖南省", "政府工作报告")
    years = {s.heading[:4]: s.years for s in doc.walk()}
    assert years["一、20"] == (2025, 2025)  # named by the heading
    assert years["二、“十"] == (2026, 2030)  # a five-year plan
    assert years["三、20"] == (2026, 2026)
    assert years["（一）经"] == (2026, 2030)  # inherited
    assert years["四、全面"] == (2025, 2025)  # unnamed, not a plan: the reviewed year of a government report


def test_work_report_reviews_its_own_year_and_plans_the_next():
    doc = parse_text(REPORT, "r.txt")
    assert (doc.year, doc.kind) == (2023, "述职报告")
    by_type = {s.section_type: s.years for s in doc.walk()}
    assert by_type["work"] == (2023, 2023) and by_type["problem"] == (2023, 2023) and by_type["plan"] == (2024, 2024)


def test_the_opening_before_any_heading_is_about_the_reviewed_year():
    opened = REPORT.replace("\n一、工作情况", "\n今年以来，我认真履行党建第一责任人职责。\n一、工作情况", 1)
    first = chunk_document(parse_text(opened, "r.txt"))[0]
    assert first.heading_path == [] and (first.year_from, first.year_to) == (2023, 2023)
    gov = chunk_document(parse_text(GOV, "hn.txt"))[0]  # a government report of 2026 reviews 2025
    assert gov.heading_path == [] and (gov.year_from, gov.year_to) == (2025, 2025)
    # a copy without a single heading (a web excerpt): all of it is the opening
    bare = chunk_document(parse_text("2019年社区党建工作情况汇报\n今年社区发展党员3名。", "x.txt"))
    assert [(c.year_from, c.year_to) for c in bare] == [(2019, 2019)]
    assert chunk_document(parse_text("社区党建工作情况汇报\n社区发展党员3名。", "y.txt"))[0].year_from is None


def test_a_page_number_is_never_a_year():
    doc = parse_text("一、工作情况\n见第1950页，1950 页。\n二、问题\n无。", "untitled.txt")
    assert doc.year is None
    doc = parse_text("一、工作情况\n第1950页。2021年完成了任务。", "x.txt")
    assert doc.year == 2021


def test_a_report_is_of_the_latest_year_its_opening_dates_an_event_to():
    rectification = ("集团党委关于巡察整改进展情况的通报\n根据区委统一部署，2023年10月8日至11月17日，区委第三巡察组对集团党委"
                     "进行了巡察，2024年1月18日，巡察组反馈了巡察意见。\n一、整改情况\n召开整改调度会12次。")
    assert parse_text(rectification, "x.txt").year == 2024
    # a year named without a month is no event: the opening's first year stands
    assert parse_text("社区工作总结\n2023年，社区推进各项工作，力争2024年全面完成。\n一、工作\n略。", "y.txt").year == 2023
    # the title's year stands over any the opening dates
    assert parse_text("2023年巡察整改情况报告\n2024年1月，巡察组反馈了意见。\n一、整改\n略。", "z.txt").year == 2023
    # a typo's year is no year, and only the opening before the first heading is read: a section's dates,
    # however many, change nothing
    typo = "巡察整改情况报告\n2023年10月巡察，2204年1月反馈。\n一、整改\n" + "2024年3月前完成。" * 200_000
    assert parse_text(typo, "t.txt").year == 2023


def test_unit_from_title_opening_lines_or_file_name():
    assert parse_text("政府工作报告\n——在宁夏回族自治区第十三届人民代表大会上\n一、回顾\n略。", "a.txt").unit == "宁夏回族自治区"
    assert parse_text("政府工作报告\n一、回顾\n略。", "2025年广西政府工作报告.docx").unit == "广西壮族自治区"
    assert parse_text(REPORT, "r.txt").unit == "县统计局"  # an organ named by the title


def test_paragraph_roles_come_from_content_cues():
    chunks = chunk_document(parse_text(GOV, "hn.txt"))
    stated = {c.heading_path[0][:4]: c.roles for c in chunks if c.roles}
    assert stated == {"一、20": ["problem"]}
    review = next(c for c in chunks if c.heading_path and c.heading_path[0].startswith("一、"))
    assert review.section_type == "work" and (review.unit, review.kind, review.year_from) == ("湖南省", "政府工作报告", 2025)
    assert paragraph_roles("政府工作还存在不足，作风建设需要加强。") == ["problem"]
    assert paragraph_roles("究其原因，主要是学习不深入。") == ["cause"]
    assert paragraph_roles("下一步，我们将继续加强学习。") == ["plan"]
    assert paragraph_roles("我支部认真开展各项工作。我们将会继续加强组织建设，健全服务网络。") == ["plan"]
    assert paragraph_roles("我们继续加强组织建设，健全服务网络。") == []  # what was done
    assert paragraph_roles("我们走访慰问困难群众120户，解决实际问题35个。") == []
    # A report's closing paragraph: a concession states the problem, its second sentence the plan.
    assert paragraph_roles("过去一年，虽然有成绩，但在抓党建工作创新等方面还有一定不足。2024年，我将继续抓实主题教育。") == ["problem", "plan"]
    assert paragraph_roles("全年新增就业1.2万人。今年，我们将继续推进稳就业。") == []  # 今年 may be the year reviewed
    assert paragraph_roles("虽然投资增长较快，但结构仍需优化。") == []  # a concession about something other than 成绩
    assert paragraph_roles("各项工作仍有一定差距，主要表现在：") == ["problem"]


def test_numbers_and_five_year_plans():
    assert [cn_number(x) for x in ("十四", "五", "十", "二十一", "3")] == [14, 5, 10, 21, 3]
    assert five_year_plan(1) == (1953, 1957) and five_year_plan(14) == (2021, 2025) and five_year_plan(15) == (2026, 2030)


def test_vocabulary_files_are_well_formed():
    aliases = unit_aliases()
    assert len(set(aliases.values())) >= 35 and all(len(a) >= 2 for a in aliases)  # no one-character short names
    assert aliases["宁夏"] == "宁夏回族自治区" and aliases["太原"] == "山西省"
    lines = [l.split() for l in (DATA / "units.txt").read_text(encoding="utf-8").splitlines() if l and l[0] != "#"]
    names = [a for row in lines for a in row]
    assert len(names) == len(set(names)), "a name belongs to one unit only"
    assert [k.name for k in report_kinds()][0] == "政府工作报告"  # every kind has its years (else KeyError)
    assert all(-1 <= k.review <= 1 and 0 <= k.plan <= 1 for k in report_kinds())
    wordings = [w for k in report_kinds() for w in k.words]
    assert len(wordings) == len(set(wordings)) and all(k.words[0] == k.name for k in report_kinds())
    assert government_kinds() and government_kinds() <= {k.name for k in report_kinds()}  # genres name kinds by name
    assert {role for role, _ in paragraph_cues()} <= {"problem", "cause", "plan", "work", "highlight"}
    assert all(isinstance(p, re.Pattern) for _, p in paragraph_cues())
    for everyday, official in paraphrases():
        assert official and everyday not in official
    assert units_named("甘肃和兰州") == ["甘肃省"]
    assert official_terms("办丧事要花多少钱") == ["殡葬"]
    assert official_terms("主体责任落实走过场") == ["流于形式"]  # party-building wording too
    assert official_terms("怎么推进不敢腐不能腐不想腐") == official_terms("一体推进不敢腐、不能腐、不想腐") == ["三不"]


def test_a_survey_and_a_self_examination_are_kinds_whose_proposals_are_about_their_own_year():
    from retrieval.ingest.years import report_kind
    assert report_kind("关于公立医院党支部建设情况调研报告(2024年)", "x.txt") == "调研报告"
    assert report_kind("学校党支部班子2022年度组织生活会班子对照检查材料", "x.txt") == "对照检查材料"
    # the title's kind comes before the one its opening says ("现将…情况报告如下")
    assert report_kind("2022年下半年意识形态主体责任落实情况督查调研报告", "x.txt", "现将督查调研情况报告如下：") == "调研报告"
    doc = parse_text("2022年下半年意识形态主体责任落实情况督查调研报告\n一、主要做法\n开展督查。\n"
                     "二、存在问题\n宣传不够。\n三、下一步工作建议\n加强督查。\n", "x.txt")
    assert doc.kind == "调研报告" and [s.years for s in doc.sections] == [(2022, 2022)] * 3


def test_party_building_reports_name_their_kind_in_words_of_their_own():
    from retrieval.ingest.years import report_kind
    named = {"医院2025年第三季度意识形态研判分析报告": "研判分析报告", "乡镇2022年意识形态领域工作分析研判报告": "研判分析报告",
             "某集团公司委员会关于巡察整改进展情况的通报": "通报", "乡镇2020年落实意识形态工作情况汇报": "汇报",
             "深入学习实践科学发展观第二阶段(分析检查)工作小结": "小结", "2023年党建工作总结": "工作总结",
             "市局党组书记2023年履行全面从严治党主体责任工作情况报告": "情况报告"}
    assert {title: report_kind(title, "x.txt") for title in named} == named
    # a 通报 of rectification states the work of its own year; a 汇报 plans the next one, as a 情况报告
    doc = parse_text("某镇党委关于2023年巡察整改进展情况的通报\n一、整改情况\n已完成整改98个。\n二、下一步打算\n持续整改。\n", "x.txt")
    assert doc.kind == "通报" and [s.years for s in doc.sections] == [(2023, 2023)] * 2
    doc = parse_text("2020年某镇意识形态工作情况汇报\n一、主要做法\n开展学习。\n二、下一步打算\n加强阵地。\n", "x.txt")
    assert doc.kind == "汇报" and [s.years for s in doc.sections] == [(2020, 2020), (2021, 2021)]


def test_parse_command_shows_the_metadata(tmp_path, capsys):
    import app

    report = tmp_path / "hn.txt"
    report.write_text(GOV, encoding="utf-8")
    assert app.main(["parse", str(report)]) == 0
    out = capsys.readouterr().out
    assert "unit: 湖南省" in out and "kind: 政府工作报告" in out and "year: 2026" in out
    assert "一、2025年工作回顾 (about 2025)" in out and "(about 2026–2030)" in out
    assert "[problem] 一、2025年工作回顾" in out  # the unheaded problem paragraph


def test_a_command_piped_into_head_ends_without_a_traceback(tmp_path):
    """`python app.py parse … | head -1`: the reader closes the pipe early; the command stops quietly
    (exit 141, as a shell reports SIGPIPE), never with a BrokenPipeError traceback."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    report = tmp_path / "hn.txt"
    report.write_text(GOV * 400, encoding="utf-8")  # ~200 KB of output: more than a pipe buffer (64 KB) holds
    proc = subprocess.Popen([sys.executable, str(root / "app.py"), "parse", str(report)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    # output small enough to wait in a block buffer (no PYTHONUNBUFFERED): the pipe is found closed at
    # the flush, which must come before exit
    small = tmp_path / "small.txt"
    small.write_text(GOV, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, str(root / "app.py"), "parse", str(small)], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 141
    assert "BrokenPipeError" not in err and "Exception ignored" not in err, err
