"""Each cleaning rule removes its noise and nothing else."""
from retrieval.ingest import clean


def removed_by(text):
    cleaned, removed = clean(text)
    return cleaned, {r.rule for r in removed}


def test_paid_markers_join_the_text_around_them():
    cleaned, rules = removed_by("加强党的##paidbegin##建设。\n##paidend##\n")
    assert cleaned == "加强党的建设。"
    assert rules == {"paid_marker"}


def test_watermark_parenthetical_with_url():
    cleaned, rules = removed_by("一是集中学（笔杆儿网原创，www.bgzjy.cn）。二是自主学。")
    assert cleaned == "一是集中学。二是自主学。"
    assert rules == {"watermark"}


def test_url_credit_line():
    cleaned, rules = removed_by("正文第一段。\n本文来源：某某网 www.example.com\n正文第二段。")
    assert cleaned == "正文第一段。\n正文第二段。"


def test_plain_parentheticals_stay():
    text = "召开党组会（扩大）会议12次（含专题会议3次）。"
    assert clean(text)[0] == text


def test_password_line():
    cleaned, rules = removed_by("最后一段。\n本文档编辑密码：wsx2023\n")
    assert cleaned == "最后一段。"
    assert rules == {"password"}


def test_truncated_last_fragment():
    cleaned, rules = removed_by("使“三服务”水平明显提高。（笔杆儿网\n\n")
    assert cleaned == "使“三服务”水平明显提高。"
    assert rules == {"truncated_tail"}


def test_page_chrome_top_and_tail():
    text = "下载\n打印\n全屏\n收藏\n【字号：\n加大\n还原\n减小\n】\n2026年某省政府工作报告\n来源：某日报\n各位代表：\n正文。\n相关报道：\n某新闻标题"
    cleaned, rules = removed_by(text)
    assert cleaned == "2026年某省政府工作报告\n各位代表：\n正文。"
    assert rules == {"page_chrome"}


def test_page_number_lines():
    cleaned, _ = removed_by("第一页正文。\n- 3 -\n第二页正文。\n第4页\n第5页 共10页\n结尾。")
    assert cleaned == "第一页正文。\n第二页正文。\n结尾。"


def test_paywall_notes():
    cleaned, rules = removed_by("前文。（未完，全文共5230字，当前仅显示2000字）\n后文……省略2000字……结束。\n"
                                "---此处隐藏2464字,下载后查看---\n尾段。")
    assert cleaned == "前文。\n后文结束。\n尾段。"
    assert rules == {"paywall"}
    text = "一、主要做法\n此处隐藏的问题要深挖细查。\n---\n结束。"  # the words alone, or a rule line, stay
    assert clean(text)[0] == text


def test_blank_line_runs_and_leading_spaces():
    assert clean("   一、 基本情况\n\n\n\n   正文。  \n")[0] == "一、 基本情况\n正文。"


def test_placeholders_stay_as_written():
    text = "紧扣**党建“四大工程”，发放XX余册，××同志，*锐提升。"
    assert clean(text)[0] == text


# A line each row of data/page_chrome.txt ``head`` must remove (one per row, in the file's order).
SITE_LINES = [
    "当前位置:首页 > 范文大全 > 振兴乡镇 >",
    "工作总结 >党建工作总结 >",
    "欢迎光临酷猫写作网",
    "申明敬告: 本站不保证该用户上传的文档完整性",
    "下面是小编为大家整理的非公企业党建工作调研报告，供大家参考。",
    "文档介绍",
    "天下 分享 时间: 加入收藏 我要投稿 点赞",
    "时间:2022-01-08 00:44:16 浏览量:",
    "2025-11-02 | 阅读:1603",
    "61阅读",
    "VIP专免",
    "14.34KB",
    "999+",
    "12 页",
    "文秘之友|原创|范文|素材|写作|PPT|",
    "好文档 - 专业文书写作范文服务资料分享网站",
    "- 索 引 号:3704063704060004/2023-00364",
    "公告摘要",
    "投标截止时间-",
    "侵权投诉",
]
# Lines of reports that open like them and must stay.
REPORT_LINES = [
    "2022年上半年某工业园区工作委员会意识形态工作情况报告",
    "一、高度重视，加强组织领导",
    "（一）强化理论学习，筑牢思想根基。",
    "今年以来，我局始终把意识形态工作摆在极端重要位置。",
    "时间过半，任务过半。",
    "各位领导、同志们：",
    "2023年5月，全县共发展党员120名。",
    "文号管理、发布机构审核进一步规范。",
    "主题分类清晰，标题醒目。",
    "公告正文、预算金额均在网上公开。",
    "项目编号规则统一，投标截止时间提前公布。",
    "海报宣传、侵权投诉受理渠道畅通。",
]


def test_every_site_line_row_has_an_example_it_removes():
    from retrieval.ingest.clean import page_rows
    rows = page_rows("head")
    assert len(rows) == len(SITE_LINES)
    for row, line in zip(rows, SITE_LINES):
        assert row.search(line), (row.pattern, line)


def test_site_lines_above_a_report_are_removed_and_its_own_lines_kept():
    text = "\n".join(SITE_LINES + REPORT_LINES)
    out, removed = clean(text)
    assert out.split("\n") == REPORT_LINES
    assert any(r.rule == "page_chrome" for r in removed)


def test_site_lines_are_removed_only_at_the_top():
    body = "\n".join(["X局2023年工作总结"] + ["正文第%d段。" % i for i in range(60)] + ["61阅读"])
    assert clean(body)[0].endswith("61阅读")


def test_a_government_sites_disclosure_table_above_a_document_is_removed_and_its_title_kept():
    table = ["- 索 引 号:3704063704060004/2023-00364", "- 主题分类:公示、公告、通知", "- 发布机构:中共徐庄镇委员会",
             "- 成文时间:2023年11月23日", "- 文 号:无", "- 发文时间:2023年11月23日",
             "- 标 题:徐庄镇党委关于巡察整改进展情况的通报", "- 效力状态:有效"]
    report = ["徐庄镇党委关于巡察整改进展情况的通报", "根据区委统一部署，区委第五巡察组对5个村级党组织进行了巡察。"]
    assert clean("\n".join(table + report))[0] == "\n".join(report)


def test_the_date_a_disclosure_table_gives_dates_the_report_and_a_posts_upload_date_does_not():
    """data/page_chrome.txt ``dated``: the table's 成文时间 is the report's year when its title names none —
    not a year its opening dates (the inspection ran from 2022 into 2023) — and its title and unit are read."""
    from retrieval.ingest import RawText, parse_raw

    table = "- 索 引 号:3704/2024-00364\n- 成文时间:2024年1月23日\n- 标 题:徐庄镇党委关于巡察整改进展情况的通报\n"
    body = "徐庄镇党委关于巡察整改进展情况的通报\n根据区委统一部署，2022年11月29日至2023年2月20日，区委巡察组进行了巡察。\n一、整改工作基本情况\n正文。"
    doc = parse_raw(RawText(table + body), "50.txt")
    assert (doc.title, doc.unit, doc.year) == ("徐庄镇党委关于巡察整改进展情况的通报", "徐庄镇党委", 2024)
    # an upload date is not the report's: the latest year its opening dates an event to is
    assert parse_raw(RawText("发布时间:2019-01-08\n" + body), "50.txt").year == 2023
    titled = "徐庄镇党委关于2022年巡察整改进展情况的通报\n正文。"
    assert parse_raw(RawText(table + titled), "50.txt").year == 2022  # the title's year comes first


def test_headings_a_flattened_web_copy_runs_inline_start_lines_again():
    flat = ("现就2019年履行抓党建工作职责情况报告如下: 一、履行职责情况 (一)抓动态化覆盖。机关党委及时调整党组织。"
            "一是公办学校全部建立了党组织。 (二)抓标准化建设。重点强化了四个方面。")
    text, removed = clean(flat)
    assert text.split("\n") == ["现就2019年履行抓党建工作职责情况报告如下:", "一、履行职责情况",
                                "(一)抓动态化覆盖。机关党委及时调整党组织。一是公办学校全部建立了党组织。",
                                "(二)抓标准化建设。重点强化了四个方面。"]
    assert not removed
    from retrieval.ingest.sections import parse_text
    doc = parse_text(text, "x.txt")
    assert [s.heading for s in doc.sections[0].children] == ["(一)抓动态化覆盖。", "(二)抓标准化建设。"]
    # a list written inline, with no space before its markers, stays one paragraph; so does a bracket in prose
    for kept in ("主要有：一、思想不够重视；二、措施不够有力。", "按照要求 (一)类单位先行。"):
        assert clean(kept)[0] == kept
