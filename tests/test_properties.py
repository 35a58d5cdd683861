"""Property-based tests (hypothesis) for the cleaner, the section parser and the chunker.

Inputs mix the grammar of real reports (heading markers, 一是 items, paid-content markers,
watermarks, page numbers, full-width forms, odd whitespace) with arbitrary Unicode.
"""
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from retrieval.ingest import chunk_document
from retrieval.ingest import clean
from retrieval.ingest import RawText
from retrieval.ingest import ReadError, read_file
from retrieval.ingest import parse_raw, parse_text

LIMIT = 800

GRAMMAR = [
    "一、", "二、", "十一、", "三.", "（一）", "(二)", "（ 三 ）", "〔四〕", "（1）", "(12)", "1.", "2、", "10．", "3 ",
    "第一部分", "第二章 ", "第三，", "一是", "二是", "首先，", "其次", "最后，",
    "##paidbegin##", "##paidend##", "##paid", "（笔杆儿网原创，www.bgzjy.cn）", "（来源：http://a.cn/x?y=1）",
    "来源：www.example.com", "更多范文下载 bgzjy.cn", "本文档编辑密码：1234", "- 3 -", "第3页 共10页", "12/30",
    "（未完，全文共5000字）", "……此处省略1000字……", "相关报道：", "》》点击查看《《", "收藏", "分享到：", "打印本页",
    "2023-05-01 10:20", "责任编辑：张三", "（笔杆儿网", "【", "】", "（", "）", "(", ")",
    "存在问题", "存在的问题及下一步打算", "原因分析", "下步打算", "工作总结", "主要成效", "特色亮点",
    # paragraphs that turn to another role (a chunk of their own): problem, cause, plan
    "我们也清醒看到，", "虽然有成绩，但还有一定不足。", "究其原因，", "。2024年，我将", "下一步，我们将",
    "2023年", "２０２３年", "ＡＢＣ１２３", "。", "；", "！", "？", "，", "：", "、", "”", "」",
    "\n", "\n\n", "\r\n", "\r", "\t", " ", "\u3000", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\ue000",
    "\u200b", "\ufeff", "\u0301",
]
REPORTISH = "一二三四五六七八九十是问题工作存在计划党建学习。，、；：（）()0123456789.\n 　"

pieces = st.one_of(
    st.sampled_from(GRAMMAR),
    st.text(max_size=30),
    st.text(alphabet=REPORTISH, max_size=40),
    # a long run: blocks over the 500/800 targets, sentences with and without clause marks
    st.builds(lambda s, n: s * n, st.text(alphabet=REPORTISH + string.ascii_letters, min_size=1, max_size=12),
              st.integers(1, 150)),
)
MARKERS = ["一、", "二、", "十一、", "三.", "四，", "（一）", "(二)", "（ 三 ）", "〔四〕", "（1）", "(12)", "1.", "2、",
           "10．", "3 ", "第一部分", "第二章 ", "第三，", "一是", "二是", "首先，"]
line = st.builds(lambda marker, body: marker + body,
                 st.one_of(st.just(""), st.sampled_from(MARKERS)), st.lists(pieces, max_size=6).map("".join))
report_lines = st.builds(lambda lines, newline: newline.join(lines),
                         st.lists(line, max_size=40), st.sampled_from(["\n", "\r\n", "\n\n", "\n \n"]))
report_text = st.one_of(st.lists(pieces, max_size=60).map("".join), report_lines)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_chunks(doc, chunks):
    """Chunks are verbatim, in order, disjoint, within the limit, and cover every non-space character."""
    text = doc.text
    pos = 0
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert c.section_start <= c.start < c.end <= c.section_end, "a chunk lies inside the span it was cut from"
        assert c.text and c.text == c.text.strip()
        assert len(c.text) <= LIMIT
        assert pos <= c.start, "chunks overlap or are out of order"
        assert not text[pos:c.start].strip(), f"text lost between chunks: {text[pos:c.start]!r}"
        pos = c.end
    assert not text[pos:].strip(), f"text lost after the last chunk: {text[pos:]!r}"
    assert [c.order for c in chunks] == list(range(len(chunks)))


def check_sections(doc):
    n = len(doc.text)
    assert 0 <= doc.preamble[0] <= doc.preamble[1] <= n

    def visit(sections, lo, hi):
        prev = lo
        for s in sections:
            assert prev <= s.start <= s.body_start <= s.end <= hi
            assert doc.text.startswith(s.heading, s.start)
            visit(s.children, s.start, s.end)
            prev = s.end

    visit(doc.sections, 0, n)


@FAST
@given(report_text)
@example("0\n(")  # a dangling "(" after the last newline left the text ending in "\n"
def test_clean_returns_for_any_text(text):
    cleaned, removed = clean(text)
    assert isinstance(cleaned, str)
    assert cleaned == cleaned.strip("\n")
    assert "\n\n" not in cleaned
    assert all(r.text for r in removed)


@FAST
@given(report_text)
def test_parse_and_chunk_partition_the_cleaned_text(text):
    cleaned, _ = clean(text)
    doc = parse_text(cleaned, "报告.txt")
    check_sections(doc)
    check_chunks(doc, chunk_document(doc))


@FAST
@given(report_text, st.integers(100, 600))
def test_chunk_sizes_respect_smaller_targets(text, target):
    doc = parse_text(clean(text)[0], "x.txt")
    chunks = chunk_document(doc, target=target, limit=target + 100)
    assert all(len(c.text) <= target + 100 for c in chunks)


@FAST
@given(st.lists(report_text, min_size=1, max_size=6))
@example(["来源：www.example.com\n一、"])  # the watermark line took page 1's mark: every page number shifted
@example(["- 1 -\n一、基本情况", "- 2 -\n二、存在问题"])
def test_pages_follow_the_text_through_cleaning(pages):
    """Each page opens with a tag line; after cleaning the tag is still on its own page."""
    tags = [f"页码标记{n}号" for n in range(1, len(pages) + 1)]
    pages = [f"{tag}\n{page}" for tag, page in zip(tags, pages)]
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 1
    doc = parse_raw(RawText("\n".join(pages), starts), "报告.pdf")
    check_sections(doc)
    assert "\ue000" not in doc.text and not any("\ue000" in r.text for r in doc.removed)
    assert len(doc.page_starts) <= len(pages) and doc.page_starts == sorted(doc.page_starts)
    for n, tag in enumerate(tags, 1):
        if tag in doc.text:  # a tail rule (相关报道：…) may take the pages after it
            assert doc.page_at(doc.text.index(tag)) == n
    chunks = chunk_document(doc)
    check_chunks(doc, chunks)
    assert all(1 <= c.page <= len(pages) for c in chunks)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.binary(max_size=600), report_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 report_text.map(lambda t: t.encode("gb18030", "ignore")),
                 report_text.map(lambda t: t.encode("utf-16"))))
def test_text_reader_returns_text_or_a_read_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "报告.txt"
        path.write_bytes(data)
        try:
            raw = read_file(path)
        except ReadError as e:
            assert str(e).startswith("报告.txt: ") and "\n" not in str(e)
            return
        doc = parse_raw(raw, path.name)
        check_chunks(doc, chunk_document(doc))
