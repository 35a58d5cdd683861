"""Rendering: the chat's messages as HTML (the chat renders no Markdown: a message is drawn once,
and never parsed again while the conversation grows), question terms marked, the context view, the
status panel and the Markdown export. Pure functions over the passages' ``to_json()`` form.

Quotes are never altered: source text is only HTML-escaped, never rewritten.
"""
from __future__ import annotations

import html
import re
from datetime import datetime

from ..config import SECTION_TYPE_NAMES
from ..ingest import one_line
from ..text import normalize, tokenize
from ..answer import Answer

TITLE = "研读 · 工作报告检索"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
# A line that Markdown would read as a list item or quote: "15." "1、" are kept, the marker's punctuation
# escaped ("15\." renders as "15."; a backslash before the digit would be shown literally).
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+>])|(\d+)([.)]))", re.M)


def _md_escape(text: str) -> str:
    """Text safe inside Markdown with inline HTML: HTML-escaped, Markdown syntax disarmed; renders as
    the original characters (every backslash added escapes ASCII punctuation, which Markdown drops)."""
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)),
                              text)


def highlight_terms(question: str) -> list[str]:
    """The question's terms worth marking (matching form): two characters or more, longest first."""
    terms = {t for t in tokenize(question or "") if len(t) >= 2}
    return sorted(terms, key=lambda t: (-len(t), t))


def mark_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Character spans of `text` where a term occurs, matched in normalised form (NFKC, lower case)."""
    if not terms or not text:
        return []
    norm_chars, owner = [], []
    for i, ch in enumerate(text):
        n = normalize(ch)
        norm_chars.append(n)
        owner.extend([i] * len(n))
    norm = "".join(norm_chars)
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(norm):
        if m.end() > m.start():
            spans.append((owner[m.start()], owner[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def marked(text: str, terms: list[str], escape=_md_escape) -> str:
    out, pos = [], 0
    for s, e in mark_spans(text, terms):
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


def _type_label(section_type: str) -> str:
    return SECTION_TYPE_NAMES.get(section_type, section_type or "其他")


def _badge(section_type: str) -> str:
    kind = section_type if section_type in SECTION_TYPE_NAMES else "other"
    return f'<span class="yd-badge yd-{kind}">{html.escape(_type_label(section_type))}</span>'




def cite(turn: int, rank: int) -> str:
    """A clickable citation: opens passage `rank` of turn `turn` in context (see layout.CITE_JS)."""
    return f'<a class="yd-cite" href="#cite-{turn}-{rank}" title="在原文中查看">[{rank}]</a>'


def rate_links(turn: int, rank: int) -> str:
    """A passage's own 有用/无用 ("#rate-<turn>-<rank>-up|down": page.js hands it to ``WebApp.passage_feedback``)."""
    return (f'<a class="yd-rate" href="#rate-{turn}-{rank}-up" title="这一段有用">有用</a> '
            f'<a class="yd-rate" href="#rate-{turn}-{rank}-down" title="这一段无用">无用</a>')


def filters_note(reports, years, section_types, titles: dict[str, str] | None = None, data_years=()) -> str:
    parts = []
    if reports:
        parts.append("报告：" + "、".join((titles or {}).get(r, r) for r in reports))
    if years:
        parts.append("报告年份：" + "、".join(str(y) for y in years))
    if data_years:
        parts.append("数据年份：" + "、".join(str(y) for y in data_years))
    if section_types:
        parts.append("类型：" + "、".join(_type_label(t) for t in section_types))
    return "；".join(parts)


def direct_answer_lines(turn_n: int, answer: Answer | None) -> list[str]:
    """The extractive direct answer (figure sentence, or numbered list items), each with its [n]."""
    if answer is None:
        return []
    if answer.kind == "figure":
        figure = answer.quotes[0]
        return [f'<div class="yd-direct">{html.escape(figure.text)} {cite(turn_n, figure.rank)}</div>']
    rows = "".join(f"<li>{html.escape(q.text)} {cite(turn_n, q.rank)}</li>" for q in answer.quotes)
    return [f'<div class="yd-direct"><ol>{rows}</ol></div>']


ANSWER = '<div class="yd-answer">'  # how every chat answer starts (an older, Markdown one does not)


def _quote(body: str) -> str:
    """A passage's text (escaped and marked already) as a quote: its blank lines part paragraphs, its
    other line breaks are kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    return "<blockquote>" + "".join(f"<p>{'<br>'.join(p.split(chr(10)))}</p>" for p in paragraphs) + "</blockquote>"


def render_answer(question: str, passages: list[dict], message: str, note: str = "", turn_n: int = 0,
                  topic: str = "", rate: bool = False, direct: Answer | None = None) -> str:
    """The assistant message (HTML): the extractive ``direct`` answer when there is one, then the passages in
    rank order (a report's name shown where the report changes), each with a clickable [n], its heading
    path, role badge and page (and, with ``rate``, its own 有用/无用), and the question's terms marked in the quote."""
    out = [ANSWER]
    if topic:
        out.append(f'<p><span class="yd-note">按上一问的主题：{html.escape(topic)}</span></p>')
    if not passages:
        out += [f"<p><strong>{html.escape(message or '没有找到相关内容。')}</strong></p>",
                "<p>可以换一种说法、减少筛选条件，或在“添加报告”中上传相关报告。</p>"]
        if note:
            out.append(f'<p><span class="yd-note">当前筛选 — {html.escape(note)}</span></p>')
        return "".join(out) + "</div>"
    terms = highlight_terms(question)
    reports = len({(p.get("base"), p["source"]) for p in passages})
    head = f"找到 <strong>{len(passages)}</strong> 段相关内容，来自 <strong>{reports}</strong> 份报告"
    if note:
        head += f'（<span class="yd-note">筛选 — {html.escape(note)}</span>）'
    out.append(f"<p>{head}：</p>")
    if message:
        out.append(f"<p><em>{html.escape(message)}</em></p>")
    out += direct_answer_lines(turn_n, direct)
    shown = None
    for p in passages:
        if (p.get("base"), p["source"]) != shown:
            shown = (p.get("base"), p["source"])
            year = f"{p['year']} 年 · " if p.get("year") else ""
            base = f"{html.escape(p['base_title'])} · " if p.get("base_title") else ""  # several bases: which one
            out.append(f'<p><span class="yd-report">{html.escape(p["title"])}</span> '
                       f'<span class="yd-src">{base}{year}{html.escape(p["source"])}</span></p>')
        section = html.escape(section_shown(p) or "（导语）")
        page = f'<span class="yd-src">第 {p["page"]} 页</span>' if p.get("page") else ""
        rated = rate_links(turn_n, p["rank"]) if rate else ""
        out.append(f"<p>{cite(turn_n, p['rank'])} {section} {_badge(p['section_type'])} {page} {rated}".rstrip() + "</p>")
        out.append(_quote(marked(p["text"].strip(), terms, html.escape)))
    return "".join(out) + "</div>"


def render_compare(question: str, rows: list[dict], note: str = "") -> str:
    """A comparison as an HTML table: one row per report, its best passage or "未找到"."""
    found = sum(1 for r in rows if r.get("passage"))
    head = (f"<p><strong>对比：{html.escape(question)}</strong> — {len(rows)} 份报告，{found} 份找到相关内容"
            + (f'（<span class="yd-note">{html.escape(note)}</span>）' if note else "") + "</p>")

    def cells(*texts: str) -> str:
        return "<tr>" + "".join(f"<td>{html.escape(' '.join(t.split()))}</td>" for t in texts) + "</tr>"

    body = []
    for r in rows:
        p = r.get("passage")
        year = str(r.get("year") or "—")
        if p is None:
            body.append(cells(r["title"], year, "—", "未找到"))
        else:
            excerpt = p["text"].strip()
            excerpt = excerpt if len(excerpt) <= 160 else excerpt[:159] + "…"
            body.append(cells(r["title"], year, section_shown(p) or "（导语）", excerpt))
    return (f"{ANSWER}{head}<table><thead><tr><th>报告</th><th>年份</th><th>章节</th><th>最相关段落</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def section_shown(p: dict) -> str:
    """Where a passage stands in its report: its heading path; for one that joins a report's outermost
    sections (``parts``), the first and the last of them; "" for the report's opening."""
    parts = sorted(p.get("parts") or [], key=p["text"].find)  # as the report reads
    return p.get("section") or (f"{parts[0]} … {parts[-1]}" if parts else "")


def _citation(p: dict) -> str:
    cite_parts = ([f"知识库：{p['base_title']}"] if p.get("base_title") else []) + [f"来源：{p['source']}"]
    if p.get("year"):
        cite_parts.append(f"{p['year']} 年")
    if p.get("page"):
        cite_parts.append(f"第 {p['page']} 页")
    cite_parts.append(f"字符 {p['start']}–{p['end']}")
    return "，".join(cite_parts)


def _direct_quotes(turn: dict) -> list[tuple[str, int]]:
    """The direct answer the chat showed for ``turn`` (kept in it: not computed again per export)."""
    answer = Answer.from_json(turn.get("direct"))
    return [(q.text, q.rank) for q in answer.quotes] if answer else []


def _heading_text(question: str) -> str:
    """A question as a Markdown heading that shows it as typed: one line, HTML and Markdown disarmed."""
    return _md_escape(" ".join(question.split()))


def export_markdown(turns: list[dict]) -> str:
    """The conversation (answers and comparisons) as Markdown with full citations."""
    out = [f"# {TITLE} · 问答记录", "", f"导出时间：{datetime.now():%Y-%m-%d %H:%M}", ""]
    for n, turn in enumerate(turns, 1):
        if turn.get("kind") == "compare":
            out += [f"## 对比 {n}：{_heading_text(turn['question'])}", ""]
            if turn.get("note"):
                out += [f"范围：{turn['note']}", ""]
            out += ["| 报告 | 年份 | 章节 | 最相关段落 | 来源 |", "|---|---|---|---|---|"]
            for r in turn["rows"]:
                p = r.get("passage")
                esc = lambda t: str(t).replace("|", "\\|").replace("\n", " ")  # noqa: E731
                out.append(f"| {esc(r['title'])} | {r.get('year') or '—'} | {esc(p.get('section') or '（导语）') if p else '—'} | "
                           f"{esc(p['text'].strip()) if p else '未找到'} | {esc(_citation(p)) if p else esc(r['source'])} |")
            out.append("")
            continue
        out += [f"## 问题 {n}：{_heading_text(turn['question'])}", ""]
        if turn.get("topic"):
            out += [f"按上一问的主题：{turn['topic']}", ""]
        if turn.get("note"):
            out += [f"筛选：{turn['note']}", ""]
        if not turn["passages"]:
            out += [turn.get("message") or "没有找到相关内容。", ""]
            continue
        if turn.get("message"):
            out += [turn["message"], ""]
        quotes = _direct_quotes(turn)
        if quotes:
            out += ["**直接回答（摘自原文）**", ""]
            out += [f"{i}. {text} [{rank}]" for i, (text, rank) in enumerate(quotes, 1)] + [""]
        for p in turn["passages"]:
            where = " › ".join(x for x in (p["title"], section_shown(p)) if x)
            out += [f"### [{p['rank']}] {where}", ""]
            out += [f"- {_citation(p)}", f"- 类型：{_type_label(p['section_type'])}", ""]
            out += ["> " + line if line.strip() else ">" for line in p["text"].strip().split("\n")]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def export_docx(turns: list[dict], path) -> None:
    """The conversation as a Word document: questions, direct answers, quoted passages with citations,
    comparisons as tables."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading(f"{TITLE} · 问答记录", 0)
    doc.add_paragraph(f"导出时间：{datetime.now():%Y-%m-%d %H:%M}")
    grey = RGBColor(0x6B, 0x72, 0x80)
    for n, turn in enumerate(turns, 1):
        if turn.get("kind") == "compare":
            doc.add_heading(f"对比 {n}：{turn['question']}", 1)
            if turn.get("note"):
                doc.add_paragraph(f"范围：{turn['note']}")
            table = doc.add_table(rows=1, cols=4)
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, ("报告", "年份", "最相关段落", "来源")):
                cell.text = text
            for r in turn["rows"]:
                p = r.get("passage")
                cells = table.add_row().cells
                cells[0].text = r["title"]
                cells[1].text = str(r.get("year") or "—")
                cells[2].text = p["text"].strip() if p else "未找到"
                cells[3].text = f"{p.get('section') or '（导语）'}；{_citation(p)}" if p else r["source"]
            continue
        doc.add_heading(f"问题 {n}：{turn['question']}", 1)
        if turn.get("topic"):
            doc.add_paragraph(f"按上一问的主题：{turn['topic']}")
        if turn.get("note"):
            doc.add_paragraph(f"筛选：{turn['note']}")
        if not turn["passages"]:
            doc.add_paragraph(turn.get("message") or "没有找到相关内容。")
            continue
        quotes = _direct_quotes(turn)
        if quotes:
            doc.add_paragraph().add_run("直接回答（摘自原文）").bold = True
            for text, rank in quotes:
                doc.add_paragraph(f"{text} [{rank}]", style="List Number")
        for p in turn["passages"]:
            doc.add_heading(f"[{p['rank']}] " + " › ".join(x for x in (p["title"], section_shown(p)) if x), 2)
            run = doc.add_paragraph().add_run(f"{_citation(p)}；类型：{_type_label(p['section_type'])}")
            run.font.color.rgb, run.font.size = grey, Pt(9)
            doc.add_paragraph(p["text"].strip(), style="Quote")
    doc.save(str(path))


def render_context(ctx: dict | None, passage: dict | None) -> str:
    """The passage inside its whole top-level section, the passage marked (``mark.yd-focus``)."""
    if ctx is None or passage is None:
        return '<div class="yd-ctx yd-ctx-empty">该段落已不在当前索引中（报告可能已被移除），请重新提问。</div>'
    section = html.escape(ctx["section"] or "（导语）")
    tail = passage["text"].strip()[-20:]
    stale = "" if tail in ctx["passage"] else \
        '<div class="yd-note">该报告在提问后已更新，标出的位置可能有偏差；重新提问可得到最新结果。</div>'
    page = f" · 第 {passage['page']} 页" if passage.get("page") else ""
    return (
        f'<div class="yd-ctx">{stale}'
        f'<div class="yd-ctx-head"><span class="yd-ctx-rank">[{passage["rank"]}]</span> '
        f'<b>{html.escape(ctx["title"])}</b> <span class="yd-ctx-path">› {section}</span> '
        f'{_badge(passage["section_type"])}'
        f'<span class="yd-src">{html.escape(ctx["source"])}{page}</span></div>'
        f'<div class="yd-ctx-body">{html.escape(ctx["before"])}'
        f'<mark class="yd-focus">{html.escape(ctx["passage"])}</mark>'
        f'{html.escape(ctx["after"])}</div></div>'
    )


CONTEXT_HINT = ('<div class="yd-ctx yd-ctx-empty">点击回答中的引用编号（如 [1]），这里会显示该段落所在的整节原文，'
                "段落本身以黄色标出，并可下载报告原文。</div>")


def _code(name: str) -> str:
    """A file name as inline code on one line: control characters escaped (``one_line``), backticks
    cannot close it early."""
    return "`" + one_line(str(name)).replace("`", "'") + "`"


def one_line_html(text) -> str:
    """A name or reason in HTML: on one line (control characters escaped, ``one_line``), as text."""
    return html.escape(one_line(str(text)))


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def waiting_markdown(message: str) -> str:
    """The answer-to-be while a question waits for the first index: the stage and an estimate (HTML)."""
    return (f'{ANSWER}<p><strong>请稍候</strong> <span class="yd-note">{html.escape(message)}</span></p>'
            "<p>索引就绪后会立即回答这个问题，无需重新提问。</p></div>")


def question_html(question: str) -> str:
    """A question in the chat: exactly as typed (plain text; its line breaks kept)."""
    return "<br>".join(html.escape(question).split("\n"))


def status_markdown(s: dict, watch: bool = False, indexing: str | None = None, waiting: str | None = None) -> str:
    """The index status panel; ``indexing`` is the running index run's progress line, if any;
    ``waiting`` what a question would wait for (the first start: the model, the first index)."""
    lines = [f"**{html.escape(waiting)}**（提问会等待，就绪后即回答）"] if waiting else []
    if s.get("index_lost"):
        lines.append(f"**索引文件夹已被删除**：{_code(s['index_lost'])}。仍用内存中的索引回答，正在从报告文件夹重建。")
    lines += [
        f"**{s['reports']}** 份报告 · **{s['chunks']}** 个段落",
        f"模型：`{s['model']}`",
        f"更新于：{_fmt_time(s.get('updated'))}",
    ]
    if watch:
        lines.append("自动更新：正在监视报告文件夹")
    if indexing and not waiting:  # the waiting line says it already
        lines.append(f"**正在更新索引**：{indexing}（可继续提问）")
    if s.get("update_error"):
        lines.append(f"**索引未更新**：{html.escape(s['update_error'])}（仍使用上次的索引回答）")
    if s.get("problem"):
        lines.append(f"**读取索引出错**：{html.escape(s['problem'])}")
    text = "  \n".join(lines)
    errors = s.get("errors") or {}
    if errors:
        text += f"\n\n**未能索引的文件（{len(errors)}）**\n\n"
        text += "\n".join(f"- {_code(n)}：{html.escape(r)}" for n, r in sorted(errors.items()))
    return text


def index_summary(report) -> str:
    """What an index run did (a ``store.IndexReport``), as the page says it."""
    parts = [f"新增 {len(report.added)}", f"更新 {len(report.updated)}", f"移除 {len(report.removed)}",
             f"未变 {report.unchanged}"]
    if report.errors:
        parts.append(f"{len(report.errors)} 份未能索引")
    if report.notes:
        parts.append(f"{len(report.notes)} 份本次跳过")
    return (f"{report.files} 份报告，{report.chunks} 个段落" + ("（全部重建）" if report.rebuilt else "")
            + " — " + "，".join(parts))


def outline_html(outline: dict, info: dict | None = None) -> str:
    """A report's section tree (the ``parse`` view): headings with role badges, removed noise."""
    def tree(sections: list[dict]) -> str:
        if not sections:
            return ""
        items = "".join(f"<li>{html.escape(s['heading'])} {_badge(s['section_type'])}{tree(s['children'])}</li>"
                        for s in sections)
        return f"<ul>{items}</ul>"

    meta = [x for x in (outline.get("unit"), f"{outline['year']} 年" if outline.get("year") else None,
                        f"{outline['passages']} 个段落") if x]
    removed = outline.get("removed") or []
    noise = ""
    if removed:
        rows = "".join(f"<li><code>{html.escape(r['rule'])}</code> {html.escape(r['text'][:80])}</li>" for r in removed[:50])
        noise = f"<details><summary>已去除的噪声（{len(removed)}）</summary><ul>{rows}</ul></details>"
    error = f'<div class="yd-note">未能索引：{html.escape(info["error"])}</div>' if info and info.get("error") else ""
    return (f'<div class="yd-outline"><div class="yd-ctx-head"><b>{html.escape(outline["title"])}</b> '
            f'<span class="yd-src">{html.escape(outline["source"])} · {" · ".join(html.escape(m) for m in meta)}</span></div>'
            f'{error}{tree(outline["sections"]) or "<p>（没有识别出章节）</p>"}{noise}</div>')
