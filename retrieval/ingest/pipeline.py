"""One report file → Document → chunks: read, clean (page numbers carried through), parse, chunk."""
from __future__ import annotations

from pathlib import Path

from ..errors import ReadError
from .chunker import chunk_document
from .clean import PAGE_MARK, clean, written_year
from .document import Chunk, Document, RawText, Removed
from .readers import ReadOptions, read_file
from .sections import parse_text

# Bump whenever a change to reading, cleaning, parsing, roles or chunking changes what is indexed:
# every index built with another number is rebuilt. (Editing a comment must not force a rebuild.)
PARSER_VERSION = 24  # 24: a report is written after every event its opening dates to a month ("2023年10月…巡察，2024年1月18日…反馈": 2024); 23: a kind of report named two ways is one kind (研判分析报告, 分析研判报告: a row of data/report_kinds.txt); 22: headings a flattened web copy runs inline after a space ("…报告如下: 一、履行职责情况 (一)抓…") start lines again (clean.inline_headings); 21: a page's heading naming another year over the article's title passed over (the line above the body is the title); 研判分析报告, 通报, 汇报 and 小结 are kinds of report (data/report_kinds.txt); 20: a doc-sharing site's buttons above a report ("海报", "侵权投诉": data/page_chrome.txt) and its "---此处隐藏2464字,下载后查看---" removed; 19: lines a page's width broke are joined again (ingest/wraps: a PDF's text layer, OCR, a .txt copied from a PDF) before the rules that read within a line (watermarks, paywall notes), and a title broken inside its kind of report is one title; 18: 调研报告 and 对照检查材料 are kinds of report (data/report_kinds.txt), their proposals about their own year; 17: a procurement site's notice fields above a report it posts ("公告摘要", "项目编号-"…: data/page_chrome.txt) removed, not read as its title; 16: a government site's disclosure table above a document ("索引号", "主题分类", "发布机构", "标题"…: data/page_chrome.txt) removed, its date of writing the report's year when the title names none; 15: a sentence opening "我们将继续" (we, an organ or I, will go on / further) states a plan; 14: a report whose title and file name name no kind takes the one its opening says ("……述职如下", data/report_openings.txt); 13: an opening whose last sentence turns to a plan ("下步，要聚焦…") makes the untyped top-level sections below it plans; 12: a turn is about the years of the roles it turns to ("2024年，我将…" closing a 2023 report: 2023–2024); 11: a chunk's stated roles pass over its numbered items, and of a heading naming several roles a chunk stating some of them plays only those; 10: an unnumbered paragraph turning to a role its section does not play starts a chunk and a span of its own; paragraph role cues read the second sentence too, and a concession ("虽然有成绩，但…还有一定不足") states a problem; 9: the opening before any heading is about the year the report reviews; 8: a web copy's own lines above a report (breadcrumbs, greetings, post metadata; data/page_chrome.txt) removed, its category label above the title passed over, "存在问题的原因分析" is a cause section; 7: files read by content (.doc that is a web page or MHT; a stray NUL in a .txt), Word merges walked once; 6: items under a combined heading ("存在的问题及下一步打算") play the role they state, a heading above a chunk adds no role to it; 5: unnumbered top headings naming a report part ("2024年工作回顾"); 4: unit, kind, section years, paragraph roles; table rows name their columns; running headers/footers removed


def parse_raw(raw: RawText, source: str) -> Document:
    """Clean a reader's output and parse it; page numbers follow the text through cleaning, and the
    date a site's table above the report gives (``written_year``) dates it when its title does not."""
    text, removed, page_starts = clean_with_pages(raw)
    doc = parse_text(text, source, page_starts, written=written_year(removed))
    doc.removed = removed
    return doc


def clean_with_pages(raw: RawText):
    """Clean, carrying page starts through by private-use marks that no rule touches.

    Each mark is a line of its own: a rule that removes a whole line (a watermark at the top
    of a page) cannot take the mark with it, and line rules still see the page's first line.
    """
    if not raw.page_starts:
        text, removed = clean(raw.text)
        return text, removed, None
    cuts = sorted(raw.page_starts)
    pages = [raw.text[a:b].replace(PAGE_MARK, "") for a, b in zip([0, *cuts], [*cuts, len(raw.text)])]
    text, removed = clean((PAGE_MARK + "\n").join(pages))
    removed = [Removed(r.rule, r.text.replace(PAGE_MARK, "").strip()) for r in removed]
    out: list[str] = []
    starts: list[int] = []
    for ch in text:
        if ch == PAGE_MARK:
            starts.append(len(out))
        elif ch != "\n" or (out and out[-1] != "\n"):  # a mark alone on a line leaves no blank line
            out.append(ch)
    joined = "".join(out).rstrip("\n")
    return joined, removed, [min(s, len(joined)) for s in starts]


def parse_file(path: Path, source: str | None = None, data: bytes | None = None,
               options: ReadOptions | None = None) -> Document:
    """Read, clean and parse one report file (raises ReadError with a one-line reason).

    ``data``: the file's bytes when the caller has opened it (the path is then not opened again).
    """
    return parse_raw(read_file(path, data, options), source or Path(path).name)


def chunk_file(doc: Document, path: Path, target: int, limit: int, options: ReadOptions | None = None) -> list[Chunk]:
    """The chunks of a parsed file, refused (ReadError) when more than ``options.max_chunks``, or
    none: every line was noise (a page template repeated on each page, say)."""
    chunks = chunk_document(doc, target, limit)
    if not chunks:
        example = next((r.text[:30] for r in doc.removed if r.text), "")
        raise ReadError(path, "清除噪声后没有正文（删去的都是页眉页脚、水印等重复内容"
                              + (f"，如「{example}」）" if example else "）"))
    most = (options or ReadOptions()).max_chunks
    if len(chunks) > most:
        raise ReadError(path, f"{len(chunks):,} passages in one file (limit {most:,}, max_chunks)")
    return chunks
