"""Remove the noise report files carry, and nothing else.

Each rule is one named function ``text -> (text, removed pieces)``; ``clean`` runs them in
order. Placeholders (XX, ××, *, **) are content and stay as written.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from ..text import tab_rows

from .document import Removed

Rule = Callable[[str], tuple[str, list[str]]]

# No rule backtracks over a run of unbounded length: runs are bounded ({1,63}: a domain label),
# possessive (``++``) or tried only where they start (a lookbehind), and line rules look at each line
# once, so cleaning is linear in the text (tests/test_hostile.py times each rule on adversarial input).
URL = r"(?:https?://|www\.)[\w./?=&%-]{1,200}|[\w-]{1,63}\.(?:com|cn|net|org)(?:\.cn)?\b"


def _sub(pattern: re.Pattern, text: str, repl: str = "") -> tuple[str, list[str]]:
    removed: list[str] = []

    def take(m: re.Match) -> str:
        removed.append(m.group(0))
        return m.expand(repl) if repl else ""

    return pattern.sub(take, text), removed


PAGE_MARK = "\ue000"  # a line of its own between pages of a paged source (see pipeline.clean_with_pages)
EDGE_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers sit
MAX_FURNITURE = 60  # characters; longer lines are body text
DIGITS = re.compile(r"\d+")


def page_furniture(text: str) -> tuple[str, list[str]]:
    """Running headers and footers ("XX市人民政府文件", "- 3 -", a page watermark): short lines at a
    page's top or bottom that recur on at least half of the pages (two at least), digits aside."""
    pages = text.split(PAGE_MARK)
    if len(pages) < 2:
        return text, []

    def key(line: str) -> str:
        return DIGITS.sub("#", "".join(line.split()))

    def edge(lines: list[str]) -> set[int]:
        body = [i for i, line in enumerate(lines) if line.strip()]
        return {i for i in body[:EDGE_LINES] + body[-EDGE_LINES:] if len(lines[i].strip()) <= MAX_FURNITURE}

    split = [page.split("\n") for page in pages]
    count: dict[str, int] = {}
    for lines in split:
        for k in {key(lines[i]) for i in edge(lines)}:
            count[k] = count.get(k, 0) + 1
    furniture = {k for k, n in count.items() if n >= max(2, (len(pages) + 1) // 2)}
    removed: list[str] = []
    out = []
    for lines in split:
        cut = {i for i in edge(lines) if key(lines[i]) in furniture}
        removed += [lines[i] for i in sorted(cut)]
        out.append("\n".join(line for i, line in enumerate(lines) if i not in cut))
    return PAGE_MARK.join(out), removed


PAID_MARKER = re.compile(r"##paid(?:begin|end)##")


def paid_markers(text: str) -> tuple[str, list[str]]:
    """``##paidbegin##``/``##paidend##``; they can sit mid-word, so the text around is joined."""
    return _sub(PAID_MARKER, text)


# Never across a page mark (a joined line can hold one): the page's start would go with the note.
WATERMARK = re.compile(
    r"[（(〔【][^（）()\n\ue000]{0,40}?(?:原创|来源|转载|出处|版权)[^（）()\n\ue000]{0,40}?(?:" + URL
    + r")[^（）()\n\ue000]{0,10}[）)〕】]"
    r"|[（(〔【][^（）()\n\ue000]{0,40}?(?:" + URL + r")[^（）()\n\ue000]{0,40}?[）)〕】]"
)
WATERMARK_LINE = re.compile(r"^[^\n\ue000]{0,60}(?:原创|来源|转载|出处|更多|下载)[^\n\ue000]{0,40}(?:" + URL
                            + r")[^\n\ue000]{0,40}$\n?", re.M)


def watermarks(text: str) -> tuple[str, list[str]]:
    """Parentheticals carrying a URL (``（笔杆儿网原创，www.bgzjy.cn）``) and short URL credit lines."""
    text, a = _sub(WATERMARK, text)
    text, b = _sub(WATERMARK_LINE, text)
    return text, a + b


PASSWORD = re.compile(r"^[ \t　]*(?:本)?文档(?:编辑|打开)?密码[:：][^\n]*$\n?", re.M)


def password_lines(text: str) -> tuple[str, list[str]]:
    """``本文档编辑密码：…``"""
    return _sub(PASSWORD, text)


PAYWALL = re.compile(
    r"[（(]\s*未完[^（）()\n\ue000]{0,40}[）)]"
    r"|(?<![.…。])[.…。]{2,}+\s*+(?:此处)?省略[^\n\ue000]{0,20}?字\s*+[.…。]{2,}+"
    r"|[（(]\s*全文共[^（）()\n\ue000]{0,40}[）)]"
    r"|[-—–]{2,}+\s*+此处隐藏[^\n\ue000]{0,30}?字[^\n\ue000]{0,20}?[-—–]{2,}+"
)


def paywall_notes(text: str) -> tuple[str, list[str]]:
    """``（未完，全文共…字…）``, ``……省略…字……``, ``---此处隐藏2464字,下载后查看---``"""
    return _sub(PAYWALL, text)


PAGE_NUMBER = re.compile(
    r"^[ \t　]*(?:[-－—–]\s*\d{1,4}\s*[-－—–]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})[ \t　]*$\n?",
    re.M,
)


def page_numbers(text: str) -> tuple[str, list[str]]:
    """Lines that are only a page number: ``- 3 -``, ``第3页``, ``第3页 共10页``."""
    return _sub(PAGE_NUMBER, text)


CHROME_LINE = re.compile(
    r"(?:下载|打印|打印本页|全屏|收藏|加大|还原|减小|大|中|小|默认|关闭|关闭窗口|分享[:：]?|分享到[:：]?|分享到微信|政务信息|政府信息公开|"
    r"[【】\[\]|>×]|首页|您的位置[:：]?|当前位置[:：]?|【?字[号体][:：][^\n]{0,20}|"
    r"(?:来源|时间|发布时间|发表时间|作者|编辑|责任编辑|阅读量|浏览次数|点击数)[:：][^\n]{0,40}|"
    r"\d{4}-\d{2}-\d{2}(?:\s+\d{2}:\d{2}(?::\d{2})?)?|\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}[时:]\d{1,2}分?|[^\n]{0,40}记者[^\n]{0,20}摄|[0-9a-f]{32}:?|[\u4e00-\u9fff]{2,6}要闻)"
)
CHROME_HEAD_LINES = 40
TAIL_MARKER = re.compile(r"^(?:相关报道|相关文档|相关链接|相关新闻|延伸阅读)[:：]?[^\n]{0,40}$|^》》点击[^\n]*《《$", re.M)
TAIL_CHROME = re.compile(r"(?:分享到微信|分享到[:：]?|收藏|[|｜]|×|【|】|打印本页|关闭窗口|默认|扫一扫)++")


SITE_LINE_MAX = 100  # characters; a longer line at the top is the report's


@lru_cache(maxsize=None)
def page_rows(kind: str) -> tuple[re.Pattern, ...]:
    """The patterns of one kind of data/page_chrome.txt (``head``: a site's line above a report;
    ``dated``: such a line giving the date the document was written; ``title``: noise a site adds to a title)."""
    return tuple(re.compile(pattern) for k, pattern in tab_rows("page_chrome.txt") if k == kind)


def site_line(line: str) -> bool:
    """A line at the top of a web copy that is the site's: a toolbar word, a breadcrumb, a greeting,
    post metadata, a menu (CHROME_LINE, data/page_chrome.txt ``head``)."""
    line = line.strip()
    return bool(CHROME_LINE.fullmatch(line)) or (
        len(line) <= SITE_LINE_MAX and any(p.search(line) for p in page_rows("head")))


WRITTEN_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


def written_year(removed: list[Removed]) -> int | None:
    """The year a government site's table above a document says it was written ("- 成文时间:2023年11月23日";
    data/page_chrome.txt ``dated``), read from the lines ``page_chrome`` removed; None when none says it."""
    lines = (line for r in removed if r.rule == "page_chrome" for line in r.text.split("\n"))
    dated = (WRITTEN_YEAR.search(line) for line in lines if any(p.search(line) for p in page_rows("dated")))
    return next((int(m.group(1)) for m in dated if m), None)


def page_chrome(text: str) -> tuple[str, list[str]]:
    """Web-page chrome: the site's lines at the top (``site_line``), 相关报道：… and share buttons
    at the end."""
    lines = text.split("\n")
    head = [line for line in lines[:CHROME_HEAD_LINES] if site_line(line)]
    removed = ["\n".join(head)] if head else []
    kept = [line for line in lines[:CHROME_HEAD_LINES] if not site_line(line)]
    text = "\n".join(kept + lines[CHROME_HEAD_LINES:])
    m = TAIL_MARKER.search(text)
    if m and len(text) - m.start() < 2000:
        removed.append(text[m.start():])
        text = text[: m.start()]
    text, tail = tail_chrome(text.rstrip())
    return text, removed + tail


def tail_chrome(text: str) -> tuple[str, list[str]]:
    """Share buttons and toolbars at the end: the last lines made only of chrome words (each line
    looked at once, from the end)."""
    lines = text.split("\n")
    keep = len(lines)
    while keep > 1 and TAIL_CHROME.fullmatch(lines[keep - 1]):
        keep -= 1
    if keep == len(lines):
        return text + "\n", []
    return "\n".join(lines[:keep]), ["\n".join(lines[keep:])]


TRUNCATED_TAIL = re.compile(r"[（(〔【][^（）()〔〕【】\n。；]{0,12}\s*\Z")


def truncated_tail(text: str) -> tuple[str, list[str]]:
    """A dangling unclosed fragment at the very end, such as ``（笔杆儿网``."""
    text, removed = _sub(TRUNCATED_TAIL, text.rstrip())
    return text.rstrip(), removed


BLANK_RUNS = re.compile(r"\n{2,}")


def whitespace(text: str) -> tuple[str, list[str]]:
    """Leading/trailing spaces on lines and runs of blank lines (not shown in the debug view)."""
    text = "\n".join(line.strip() for line in text.split("\n"))
    return BLANK_RUNS.sub("\n", text).strip("\n"), []


# A web copy that lost its line breaks keeps its headings inline, after a space: "…情况报告如下: 一、履行职责
# 情况 (一)抓动态化覆盖。…。 (二)抓标准化建设。" A heading marker (一、 / （一）) after a sentence's end and a
# space starts a line again, and so does a （一） after a space behind a top heading that opens a line. Only a
# space is replaced: a list written inline ("主要有：一、…；二、…") has none and stays.
INLINE_HEADING = re.compile(r"(?<=[。！？；;：:])[ \t\u3000]+(?=(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])\S)")
INLINE_SUBHEADING = re.compile(
    r"^([一二三四五六七八九十]+、[^\n。，,；;：:\s]{1,30})[ \t\u3000]+(?=[（(][一二三四五六七八九十]+[)）]\S)", re.M)


def inline_headings(text: str) -> tuple[str, list[str]]:
    """Headings a flattened web copy runs into its paragraphs, on lines of their own again (nothing removed)."""
    return INLINE_SUBHEADING.sub(r"\1\n", INLINE_HEADING.sub("\n", text)), []


def line_wraps(text: str) -> tuple[str, list[str]]:
    """Lines a page's width broke, joined again (``wraps.unwrap``; nothing removed)."""
    from .wraps import unwrap  # it reads headings and titles (sections), which read this module's page rows

    return unwrap(text), []


# Rules that read lines first (a running header, a page number, a site's lines are lines of the page),
# then the join, then the rules that read within a line: a site's note a page's width broke
# ("…精力少。（笔杆儿网原创，www.bgzj" / "y.cn）") reads whole only once its lines are joined — read
# line by line, the watermark-line rule took the report's own words with the note's first half.
RULES: list[tuple[str, Rule]] = [
    ("paid_marker", paid_markers),
    ("page_furniture", page_furniture),
    ("page_chrome", page_chrome),
    ("password", password_lines),
    ("page_number", page_numbers),
    ("line_wraps", line_wraps),
    ("watermark", watermarks),
    ("paywall", paywall_notes),
    ("inline_headings", inline_headings),
    ("whitespace", whitespace),
    ("truncated_tail", truncated_tail),
]


def clean(text: str) -> tuple[str, list[Removed]]:
    """Cleaned text and what each rule removed."""
    removed: list[Removed] = []
    for name, rule in RULES:
        text, pieces = rule(text)
        removed += [Removed(name, p.strip()) for p in pieces if p.strip()]
    return text, removed
