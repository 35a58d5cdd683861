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
