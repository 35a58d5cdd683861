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
    cleaned, rules = removed_by("前文。（未完，全文共5230字，当前仅显示2000字）\n后文……省略2000字……结束。")
    assert cleaned == "前文。\n后文结束。"
    assert rules == {"paywall"}


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
