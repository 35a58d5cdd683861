"""The section tree and chunks of the real seed reports, and the parser over the benchmark files."""
import re
from collections import Counter

from retrieval.ingest import chunk_document
from retrieval.ingest import parse_file, parse_text

from conftest import CORPUS, seed

NOISE = re.compile(r"##paid|笔杆儿网|bgzjy|编辑密码")


def top(doc):
    return [(s.heading, s.section_type) for s in doc.sections]


def test_seed_001_top_sections_and_types():
    doc = parse_file(seed("001"))
    assert top(doc) == [
        ("一、基本情况", "work"),
        ("二、存在问题", "problem"),
        ("三、原因分析", "cause"),
        ("四、下步打算", "plan"),
    ]
    assert doc.title == "2023党组党建工作总结及下一步工作计划"
    assert doc.year == 2023


def test_seed_001_ideology_problem_is_one_chunk_with_all_items():
    chunks = chunk_document(parse_file(seed("001")))
    hits = [c for c in chunks if c.heading_path[-1:] == ["（二）意识形态工作还需要加强。"]]
    assert len(hits) == 1
    chunk = hits[0]
    assert chunk.section_type == "problem"
    for item in ("对意识形态工作研究还不够深入", "对重要意识形态阵地管理有待加强", "宣传工作载体还不够丰富多样"):
        assert item in chunk.text


def test_seed_004_work_plan_section():
    doc = parse_file(seed("004"))
    assert ("三、2023年工作思路", "plan") in top(doc)


def test_seed_003_title_from_file_name_and_odd_ladder():
    doc = parse_file(seed("003"))
    assert doc.title == seed("003").stem
    headings = [s.heading for s in doc.walk()]
    assert "(三）表率强度不够。" in headings  # mixed half/full-width brackets
    assert doc.sections[0].heading == "一、 履职工作特色与亮点"  # "一、 " with a space
    assert [s.section_type for s in doc.sections] == ["highlight", "problem", "plan"]


def test_seed_000_combined_problem_and_plan_heading():
    doc = parse_file(seed("000"))
    combined = doc.sections[2]
    assert combined.heading == "三、存在的问题及下一步打算"
    assert combined.section_type == "problem"
    assert {c.section_type for c in combined.children} == {"plan"}
    chunks = chunk_document(doc)
    lead = next(c for c in chunks if c.heading_path == ["三、存在的问题及下一步打算"])
    assert lead.section_type == "problem" and "仍然存在一定的差距" in lead.text


def test_a_closing_paragraph_that_turns_to_problems_and_plans_is_a_passage_of_its_own():
    doc = parse_file(seed("002"))
    chunks = chunk_document(doc)
    closing = next(c for c in chunks if c.text.startswith("过去一年，虽然有成绩"))
    assert closing.heading_path == ["四、坚持严管厚爱，加强党风廉政建设。"] and closing.section_type == "work"
    assert closing.roles == ["problem", "plan"] and "2024年，我将" in closing.text
    above = chunks[chunks.index(closing) - 1]
    assert above.heading_path == closing.heading_path and not above.roles  # the last item keeps its role
    # a 2023 report: the work above is about 2023; the turn to its shortcomings and plans, 2023–2024
    assert (above.year_from, above.year_to) == (2023, 2023) and (closing.year_from, closing.year_to) == (2023, 2024)
    # A paragraph stating the role its section already plays is no turn: the lead of 存在的问题及下一步打算.
    lead = next(c for c in chunk_document(parse_file(seed("000"))) if c.heading_path == ["三、存在的问题及下一步打算"])
    assert lead.text.startswith("三、存在的问题及下一步打算\n一年来") and lead.roles == ["problem"]


def test_only_an_unnumbered_paragraph_below_the_sections_own_text_turns():
    text = ("述职报告\n一、主要工作\n一是抓责任落实。召开党委会5次。\n二是抓问题整改。及时解决基层存在的困难和问题。\n"
            "我们也清醒看到，工作中还存在一些不足。\n二、存在问题及原因\n（一）学习不深入。究其原因，重视不够。")
    chunks = chunk_document(parse_text(text, "x.txt"))
    work = [c for c in chunks if c.heading_path == ["一、主要工作"]]
    assert len(work) == 2 and "二是抓问题整改" in work[0].text  # the numbered item stays in its list
    assert work[1].text == "我们也清醒看到，工作中还存在一些不足。"
    assert work[1].roles == ["problem"]
    # a cause stated under a problem heading: the heading above it is not cut off as a passage of its own
    assert all(c.text.strip() not in ("二、存在问题及原因", "（一）学习不深入。") for c in chunks)


def test_heading_with_body_on_the_same_line_splits_at_first_sentence():
    doc = parse_text("标题报告\n一、主要工作\n（一）聚焦主责主业，在深化思路上下功夫。作为单位党建第一责任人，本人坚持学习。", "x.txt")
    sub = doc.sections[0].children[0]
    assert sub.heading == "（一）聚焦主责主业，在深化思路上下功夫。"
    assert doc.text[sub.body_start:].startswith("作为单位")


def test_skipped_and_repeated_numbers_keep_the_tree():
    text = "总结\n一、成绩\n（一）甲。内容。\n（三）乙。内容。\n（三）丙。内容。\n二、存在问题\n1.问题一。\n2.问题二。\n（1）细项。\n三、下一步打算\n内容。"
    doc = parse_text(text, "x.txt")
    assert [len(s.children) for s in doc.sections] == [3, 2, 0]
    assert doc.sections[1].children[1].children[0].heading == "（1）细项。"
    assert [s.section_type for s in doc.sections] == ["work", "problem", "plan"]


def test_old_report_ordinal_headings_and_full_width_digits():
    text = "１９９９年政府工作报告\n一、１９９８年工作回顾\n第一，调整农业结构。内容。\n第二，加强水利建设。内容。\n二、２０００年主要任务\n内容。"
    doc = parse_text(text, "1999.txt")
    assert doc.year == 1999
    assert [s.heading for s in doc.sections[0].children] == ["第一，调整农业结构。", "第二，加强水利建设。"]
    assert doc.sections[1].section_type == "plan"


def test_seed_chunks_are_clean_bounded_and_cover_the_text():
    for path in sorted(CORPUS.glob("*.txt")):
        doc = parse_file(path)
        chunks = chunk_document(doc)
        assert chunks, path
        covered = Counter()
        for c in chunks:
            assert not NOISE.search(c.text), (path.name, c.text[:40])
            assert 0 < len(c.text) <= 800
            assert doc.text[c.start:c.end] == c.text
            covered.update(range(c.start, c.end))
        # every non-newline character of the cleaned text lands in exactly one chunk
        for i, ch in enumerate(doc.text):
            if ch != "\n":
                assert covered[i] == 1, (path.name, i, doc.text[i - 10:i + 10])


def test_long_sections_split_at_items_then_sentences_never_mid_sentence():
    items = "".join(f"{n}是第{n}项工作内容。" + "这是一句很长的说明文字，用来把条目撑大。" * 12 for n in "一二三四")
    doc = parse_text("报告\n一、主要工作\n" + items, "x.txt")
    chunks = chunk_document(doc)
    assert [c.item for c in chunks] == [None, "二是", "三是", "四是"]  # the first starts with its heading
    assert chunks[0].text.startswith("报告\n一、主要工作\n一是")
    assert all(len(c.text) <= 800 and c.text.endswith("。") for c in chunks)


def test_hard_maximum_for_a_sentence_with_no_end():
    doc = parse_text("报告\n一、工作\n" + "很长的句子，" * 300, "x.txt")
    assert max(len(c.text) for c in chunk_document(doc)) <= 800


def test_whole_benchmark_parses_without_chrome_in_chunks(bench_files):
    chrome = re.compile(r"^(下载|打印|全屏|收藏|【字号|相关报道)", re.M)
    for path in bench_files:
        doc = parse_file(path)
        chunks = chunk_document(doc)
        assert chunks, path.name
        assert doc.sections or path.parent.name.startswith("gov_national"), path.name
        for c in chunks:
            assert len(c.text) <= 800
            assert not chrome.search(c.text), (path.name, c.text[:60])
            assert not NOISE.search(c.text)


def test_unnumbered_top_parts_are_headings_when_the_report_numbers_none():
    text = ("2025年某省政府工作报告\n各位代表：\n现在，我代表省人民政府报告工作。\n2024年工作回顾\n一年来，主要做了以下工作：\n"
            "（一）稳增长。内容。\n（二）促改革。内容。\n2025年工作安排\n（一）扩内需。内容。\n名词解释\n1.“两新”：是指设备更新。")
    doc = parse_text(text, "x.docx")
    assert [(s.heading, s.section_type) for s in doc.sections] == [
        ("2024年工作回顾", "work"), ("2025年工作安排", "plan"), ("名词解释", "other")]
    assert [s.years for s in doc.sections[:2]] == [(2024, 2024), (2025, 2025)]
    assert [c.heading for c in doc.sections[1].children] == ["（一）扩内需。"]
    assert "各位代表" in doc.text[doc.preamble[0]:doc.preamble[1]]
    # Where the report numbers its top parts, a short line naming a role stays text.
    numbered = parse_text("总结\n一、主要成绩\n工作回顾\n内容。\n二、下步打算\n内容。", "y.txt")
    assert [s.heading for s in numbered.sections] == ["一、主要成绩", "二、下步打算"]


def test_a_category_label_above_the_title_is_neither_title_nor_heading():
    doc = parse_text("意见建议\n2022年上半年某工业园区工作委员会意识形态工作情况报告\n县委:\n"
                     "(一)强化组织领导,完善体制机制。结合园区实际。\n", "x.txt")
    assert doc.title == "2022年上半年某工业园区工作委员会意识形态工作情况报告"
    assert [s.section_type for s in doc.sections] == ["work"]
    assert doc.unit is None  # "某工业园区" is a placeholder, not a unit


def test_a_page_heading_naming_another_year_over_the_title_is_passed_over():
    text = ("2020年县社区党建工作情况汇报\n2019年县社区党建工作情况汇报\n今年以来，我县认真贯彻……现汇报如下:\n"
            "一、主要做法\n一是建立社区党建工作例会制度。\n")
    doc = parse_text(text, "x.txt")
    assert (doc.title, doc.year) == ("2019年县社区党建工作情况汇报", 2019)
    assert doc.text[doc.preamble[0]:doc.preamble[1]].startswith("今年以来")  # neither title line is the body's
    # the same title twice is the title, its second line the opening's (as before); another title is a body line
    assert parse_text("社区工作总结\n社区工作总结\n正文。\n", "y.txt").title == "社区工作总结"
    assert parse_text("2020年社区工作总结\n2019年学校工作总结\n正文。\n", "z.txt").year == 2020


def test_a_short_title_line_above_its_author_stays_the_title():
    doc = parse_text("述职报告\n林庄村党总支书记 张振华\n一、主要工作\n抓好党建。\n", "x.txt")
    assert doc.title == "述职报告"


def test_site_noise_in_a_title_is_left_out_of_it():
    from retrieval.ingest.sections import read_title
    assert read_title("VIP 医院2025年第三季度意识形态研判分析报告") == "医院2025年第三季度意识形态研判分析报告"
    assert read_title("【深入学习贯彻重要讲话精神】深入学习实践科学发展观工作小结") == "深入学习实践科学发展观工作小结"
    assert read_title("乡镇2020年落实意识形态工作情况汇报_乡镇意识形态") == "乡镇2020年落实意识形态工作情况汇报"
    assert read_title("机关党建工作调研报告-机关党建工作调研报告") == "机关党建工作调研报告"
    assert read_title("2025年北京市政府工作报告") == "2025年北京市政府工作报告"


def test_a_role_that_qualifies_another_names_none():
    from retrieval.ingest.roles import cues
    assert cues("五、领导班子存在问题的原因分析") == ["cause"]
    assert cues("问题产生的根源") == ["cause"]
    assert cues("二、存在的主要问题和原因分析") == ["problem", "cause"]
    assert cues("三、存在的问题及下一步打算") == ["problem", "plan"]


def test_the_same_text_in_another_format_or_spacing_has_the_same_fingerprint(tmp_path):
    import docx

    from retrieval.text import fingerprint

    text = seed("002").read_text(encoding="utf-8")
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    document.save(tmp_path / "副本.docx")
    respaced = text.replace("，", ",").replace("：", ":").replace("\n", "\n\n\u3000\u3000")  # half-width, blank lines
    (tmp_path / "改写.txt").write_text(respaced, encoding="utf-8")
    at = text.index("党员")
    (tmp_path / "一字之差.txt").write_text(text[:at] + "团员" + text[at + 2:], encoding="utf-8")
    (tmp_path / "繁體.txt").write_text(text.replace("党员", "黨員"), encoding="utf-8")
    prints = {name: fingerprint(parse_file(path, name).text)
              for name, path in [("原件", seed("002")), *((p.name, p) for p in tmp_path.iterdir())]}
    assert prints["副本.docx"] == prints["改写.txt"] == prints["繁體.txt"] == prints["原件"]
    assert prints["一字之差.txt"] != prints["原件"]
    assert fingerprint("，。 \n") is None  # no words: nothing to be the same as


def test_an_opening_that_turns_to_a_plan_makes_the_untyped_sections_below_it_plans():
    def types(text):
        return [(s.heading[:4], s.section_type) for s in parse_text(text, "x.txt").walk()]

    plan = ("学习教育总结\n本次学习教育取得了阶段性成效，但隐患仍需警惕。下步，要聚焦常态长效，把成果转为日常习惯。\n"
            "（一）深化理论武装不松劲\n一是坚持第一议题抓学习。\n（二）聚焦问题查摆不缺位\n一是建立动态监测机制。\n")
    assert types(plan) == [("（一）深", "plan"), ("（二）聚", "plan")]
    # the plan lasts until a heading names a role; after a named turn, untyped sections are `other`
    named = plan.replace("（二）聚焦问题查摆不缺位", "（二）主要做法") + "（三）存在问题\n一是不够深入。\n（四）其他事项\n略。\n"
    assert [t for _, t in types(named)] == ["plan", "work", "problem", "other"]
    # an opening that reviews (no turn in its last sentence) leaves them work
    review = plan.replace("下步，要聚焦常态长效，把成果转为日常习惯。", "全县共开展专题学习12次。")
    assert [t for _, t in types(review)] == ["work", "work"]


def test_a_report_untitled_by_kind_takes_the_kind_its_opening_says():
    from retrieval.ingest.years import report_kind, report_openings

    examples = {"述职报告": "现将一年来抓党建工作情况述职如下：", "工作总结": "现将主要工作总结如下：",
                "情况报告": "现将有关情况汇报如下："}
    assert [kind for kind, _ in report_openings()] == list(examples)
    for kind, opening in examples.items():
        assert report_kind("", "x.txt", "一年来，在县委的正确领导下……" + opening) == kind
    assert report_kind("2023年工作总结", "x.txt", "现将一年来工作述职如下") == "工作总结"  # the title's word first
    assert report_kind("", "x.txt", "一年来，我们认真履行职责。") is None
    # 003 has no title; its opening says it is a 述职报告 of 2022: its plan ("三、下一步工作思路和措施") is about 2023
    doc = parse_file(seed("003"))
    plan = next(c for c in chunk_document(doc) if c.section_type == "plan")
    assert doc.kind == "述职报告" and doc.year == 2022 and (plan.year_from, plan.year_to) == (2023, 2023)
