"""Rendering: the answer as Markdown with inline HTML, question terms marked, the context view,
the status panel and the Markdown export. Pure functions over the passages' ``to_json()`` form.

Quotes are never altered: source text is only HTML-escaped, never rewritten.
"""
from __future__ import annotations

import html
import re
from datetime import datetime

from ..config import SECTION_TYPE_NAMES
from ..ingest import one_line
from ..text import normalize, tokenize

TITLE = "研读 · 工作报告检索"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_MD_LINE_START = re.compile(r"^(\s*)([-+>]|\d+[.)])", re.M)


def _md_escape(text: str) -> str:
    """Text safe inside Markdown with inline HTML: HTML-escaped, Markdown syntax disarmed."""
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


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


def _why(p: dict) -> str:
    why = p.get("why") or {}
    bits = []
    if (why.get("dense") or {}).get("rank"):
        bits.append(f"语义第 {why['dense']['rank']}")
    if (why.get("keyword") or {}).get("rank"):
        bits.append(f"关键词第 {why['keyword']['rank']}")
    if why.get("role"):
        bits.append("类型相符")
    return " · ".join(bits)


def group_by_report(passages: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Passages grouped under their report, reports in the order of their best passage."""
    groups: dict[str, list[dict]] = {}
    for p in passages:
        groups.setdefault(p["source"], []).append(p)
    return [(ps[0], ps) for ps in groups.values()]


def filters_note(reports, years, section_types, titles: dict[str, str] | None = None) -> str:
    parts = []
    if reports:
        parts.append("报告：" + "、".join((titles or {}).get(r, r) for r in reports))
    if years:
        parts.append("年份：" + "、".join(str(y) for y in years))
    if section_types:
        parts.append("类型：" + "、".join(_type_label(t) for t in section_types))
    return "；".join(parts)


def render_answer(question: str, passages: list[dict], message: str, note: str = "") -> str:
    """The assistant message: passages grouped by report, with citation, badge, score, marks."""
    if not passages:
        hint = "可以换一种说法、减少筛选条件，或在右侧“添加报告”上传相关报告。"
        lines = [f"**{html.escape(message or '没有找到相关内容。')}**", "", hint]
        if note:
            lines += ["", f'<span class="yd-note">当前筛选 — {html.escape(note)}</span>']
        return "\n".join(lines)
    terms = highlight_terms(question)
    groups = group_by_report(passages)
    head = f"找到 **{len(passages)}** 段相关内容，来自 **{len(groups)}** 份报告"
    if note:
        head += f'（<span class="yd-note">筛选 — {html.escape(note)}</span>）'
    lines = [head + "：", ""]
    if message:
        lines += [f"*{html.escape(message)}*", ""]
    for first, ps in groups:
        year = f"{first['year']} 年 · " if first.get("year") else ""
        lines.append(f'<span class="yd-report">{html.escape(first["title"])}</span> '
                     f'<span class="yd-src">{year}{html.escape(first["source"])}</span>')
        lines.append("")
        for p in ps:
            section = _md_escape(p["section"]) if p.get("section") else "（导语）"
            page = f" · 第 {p['page']} 页" if p.get("page") else ""
            meta = f'<span class="yd-score">得分 {p["score"]:.4f}{page}'
            why = _why(p)
            meta += f" · {why}</span>" if why else "</span>"
            lines.append(f"**[{p['rank']}]** {section} {_badge(p['section_type'])} {meta}")
            lines.append("")
            body = marked(p["text"].strip(), terms)
            lines.extend("> " + (line if line.strip() else "") for line in body.split("\n"))
            lines.append("")
    return "\n".join(lines).rstrip()


def export_markdown(turns: list[dict]) -> str:
    """The whole conversation as Markdown with full citations."""
    out = [f"# {TITLE} · 问答记录", "", f"导出时间：{datetime.now():%Y-%m-%d %H:%M}", ""]
    for n, turn in enumerate(turns, 1):
        out += [f"## 问题 {n}：{turn['question']}", ""]
        if turn.get("note"):
            out += [f"筛选：{turn['note']}", ""]
        if not turn["passages"]:
            out += [turn.get("message") or "没有找到相关内容。", ""]
            continue
        if turn.get("message"):
            out += [turn["message"], ""]
        for p in turn["passages"]:
            where = " › ".join(x for x in (p["title"], p.get("section")) if x)
            out += [f"### [{p['rank']}] {where}", ""]
            cite = [f"来源：{p['source']}"]
            if p.get("year"):
                cite.append(f"{p['year']} 年")
            if p.get("page"):
                cite.append(f"第 {p['page']} 页")
            cite.append(f"字符 {p['start']}–{p['end']}")
            out += [f"- {'，'.join(cite)}", f"- 类型：{_type_label(p['section_type'])}；得分：{p['score']:.4f}", ""]
            out += ["> " + line if line.strip() else ">" for line in p["text"].strip().split("\n")]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_context(ctx: dict | None, passage: dict | None) -> str:
    if ctx is None or passage is None:
        return '<div class="yd-ctx yd-ctx-empty">该段落已不在当前索引中（报告可能已被移除），请重新提问。</div>'
    section = html.escape(ctx["section"] or "（导语）")
    tail = passage["text"].strip()[-20:]
    stale = "" if tail in ctx["passage"] else \
        '<div class="yd-note">该报告在提问后已更新，标出的位置可能有偏差；重新提问可得到最新结果。</div>'
    return (
        f'<div class="yd-ctx">{stale}'
        f'<div class="yd-ctx-head"><span class="yd-ctx-rank">[{passage["rank"]}]</span> '
        f'<b>{html.escape(ctx["title"])}</b> <span class="yd-ctx-path">› {section}</span> '
        f'{_badge(passage["section_type"])}'
        f'<span class="yd-src">{html.escape(ctx["source"])} · 字符 {passage["start"]}–{passage["end"]}</span></div>'
        f'<div class="yd-ctx-body">{html.escape(ctx["before"])}'
        f'<mark class="yd-focus">{html.escape(ctx["passage"])}</mark>'
        f'{html.escape(ctx["after"])}</div></div>'
    )


CTX_LABEL = "选择段落，在原文中查看"
CONTEXT_HINT = '<div class="yd-ctx yd-ctx-empty">提问后，选择一个段落并点击“在原文中查看”，这里会显示它所在的整节原文，段落本身以黄色标出；点击对话中的某条回答可切换到该问题的段落。</div>'


def _code(name: str) -> str:
    """A file name as inline code on one line: control characters escaped (``one_line``), backticks
    cannot close it early."""
    return "`" + one_line(str(name)).replace("`", "'") + "`"


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def status_markdown(s: dict, watch: bool = False, indexing: str | None = None) -> str:
    """The index status panel; ``indexing`` is the running index run's progress line, if any."""
    lines = [
        f"**{s['reports']}** 份报告 · **{s['chunks']}** 个段落",
        f"模型：`{s['model']}`",
        f"更新于：{_fmt_time(s.get('updated'))}",
    ]
    if watch:
        lines.append("自动更新：正在监视报告文件夹")
    if indexing:
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


def upload_markdown(results: list[dict]) -> str:
    """One line per offered file, from the structured results of ``WebApp.add_files``."""
    lines = []
    for r in results:
        if r["outcome"] == "duplicate":
            lines.append(f"**已存在** {_code(r['original'])}：内容与 {_code(r['name'])} 相同，未重复添加")
        elif r["outcome"] == "rejected":
            lines.append(f"**未添加** {_code(r['original'])}：{html.escape(r['reason'])}")
        elif r["outcome"] == "not_indexed":
            lines.append(f"**未索引** {_code(r['name'])}：已保存，但索引未完成 — {html.escape(r['reason'])}")
        elif r["outcome"] == "duplicate_indexed":
            lines.append(f"**已存在** {_code(r['original'])}：内容与 {_code(r['duplicate_of'])} 相同")
        elif r["outcome"] == "unreadable":
            lines.append(f"**无法读取** {_code(r['name'])}：已保存，但 {html.escape(r['reason'])}")
        else:
            renamed = f"（保存为 {_code(r['name'])}）" if r["name"] != r["original"] else ""
            lines.append(f"**已添加** {_code(r['original'])}{renamed}：已加入索引，{r['passages']} 个段落")
    return "\n".join(f"- {line}" for line in lines)
