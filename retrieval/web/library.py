"""The 报告库 tab's list: its rows sorted, drawn as a table (cards on a phone: style.css), and the trash.

Rows are dicts made by ``WebApp.library_rows`` / ``WebApp.trash_rows``; a click on a row, a column
header or a trash button is passed to the server by panels.js (``data-yd-go`` and ``data-yd-key``).
"""
from __future__ import annotations

import html
from datetime import datetime

from ..ingest import one_line
from .render import one_line_html

LIBRARY_HINT = ('<div class="yd-ctx yd-ctx-empty">点击列表中的一份报告，查看它的章节结构；可重新索引或删除'
                "（删除的报告先放入回收站，可恢复）。</div>")

# (key, header, direction a header click sorts by first); the sections column is not sorted
COLUMNS = [("title", "报告", "asc"), ("unit", "单位", "asc"), ("year", "年份", "desc"), ("kind", "类型", "asc"),
           ("sections", "章节（按类型）", None), ("passages", "段落", "desc"), ("added", "添加时间", "desc"),
           ("state", "状态", "desc")]
# what each order is called in the 排序 box (six characters at most: it is half a phone wide): column →
# (ascending, descending)
SORT_WORDS = {"added": ("最早添加在前", "最近添加在前"), "year": ("年份从旧到新", "年份从新到旧"),
              "title": ("报告名称升序", "报告名称降序"), "unit": ("单位升序", "单位降序"), "kind": ("类型升序", "类型降序"),
              "passages": ("段落从少到多", "段落从多到少"), "state": ("已索引的在前", "未索引的在前")}
DEFAULT_SORT = "added:desc"  # what was added last comes first: an upload is found at the top


def sort_choices() -> list[tuple[str, str]]:
    """The 排序 box's choices: (words, "column:asc|desc")."""
    return [(words, f"{key}:{way}") for key, pair in SORT_WORDS.items() for words, way in zip(pair, ("asc", "desc"))]


def parse_sort(sort: str | None) -> tuple[str, str]:
    """(column, direction) of a sort value; anything unknown is the default order."""
    key, _, way = str(sort or "").partition(":")
    if key not in SORT_WORDS or way not in ("asc", "desc"):
        key, _, way = DEFAULT_SORT.partition(":")
    return key, way


def next_sort(current: str | None, column: str) -> str:
    """A click on a column's header: that column in its first direction, or the other one when it is
    already the order (a column that cannot be sorted keeps the order)."""
    first = dict((k, d) for k, _, d in COLUMNS).get(column)
    if first is None:
        return "{}:{}".format(*parse_sort(current))
    key, way = parse_sort(current)
    if key == column:
        return f"{column}:{'asc' if way == 'desc' else 'desc'}"
    return f"{column}:{first}"


def sort_rows(rows: list[dict], sort: str | None) -> list[dict]:
    """Rows in the chosen order; rows without the value (no unit, no year) last either way, ties by title."""
    key, way = parse_sort(sort)
    field = "problem" if key == "state" else key  # states in order: indexed, a duplicate, not indexed
    rows = sorted(rows, key=lambda r: (r["title"], r["key"]))
    known = [r for r in rows if r.get(field) not in (None, "")]
    missing = [r for r in rows if r.get(field) in (None, "")]
    return sorted(known, key=lambda r: r[field], reverse=way == "desc") + missing


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "—"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def _cell(label: str, text, cls: str = "") -> str:
    return f'<td class="{cls}" data-label="{label}">{one_line_html(text) if text not in (None, "") else "—"}</td>'


def library_html(rows: list[dict], sort: str | None, selected: str = "", filtered: bool = False) -> str:
    """The library as a table: headers that sort on a click, one row per report (the selected one marked);
    on a phone each row is a card (style.css)."""
    key, way = parse_sort(sort)
    head = []
    for col, label, first in COLUMNS:
        if first is None:
            head.append(f'<th scope="col">{label}</th>')
            continue
        on = col == key
        arrow = ("▲" if way == "asc" else "▼") if on else ""
        aria = f' aria-sort="{"ascending" if way == "asc" else "descending"}"' if on else ""
        head.append(f'<th scope="col"{aria}><button type="button" class="yd-sort{" yd-sorted" if on else ""}" '
                    f'data-yd-go="sort" data-yd-key="{col}" title="按{label}排序">{label}<span class="yd-arrow">{arrow}'
                    "</span></button></th>")
    body = []
    for r in rows:
        picked = " yd-picked" if r["key"] == selected else ""
        problem = " yd-problem" if r["problem"] else ""
        base = f'<span class="yd-lib-base">{one_line_html(r["base_title"])}</span>' if r.get("base_title") else ""
        body.append(
            f'<tr class="yd-lib-row{picked}{problem}" data-yd-go="pick" data-yd-key="{html.escape(r["key"])}" '
            f'tabindex="0" aria-selected="{"true" if picked else "false"}">'
            f'<td class="yd-c-title" data-label="报告">{base}<b>{one_line_html(r["title"])}</b>'
            f'<div class="yd-file">{one_line_html(r["source"])}</div></td>'
            + _cell("单位", r["unit"], "yd-c-meta") + _cell("年份", r["year"], "yd-c-meta")
            + _cell("类型", r["kind"], "yd-c-meta") + _cell("章节", r["sections"], "yd-c-sections")
            + _cell("段落", r["passages"], "yd-c-meta") + _cell("添加时间", _when(r["added"]), "yd-c-meta")
            + _cell("状态", r["state"], "yd-c-meta yd-c-state") + "</tr>")
    if not body:
        empty = "没有符合条件的报告，请换个查找词或类型。" if filtered else "报告库中还没有报告。"
        body.append(f'<tr class="yd-lib-none"><td colspan="{len(COLUMNS)}">{empty}</td></tr>')
    count = f'<div class="yd-lib-count">共 {len(rows)} 份报告</div>' if rows else ""
    return (f'<div class="yd-lib">{count}<div class="yd-lib-scroll"><table class="yd-lib-table"><thead><tr>'
            f'{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table></div></div>')


def trash_html(rows: list[dict], several: bool = False, filtered: bool = False) -> str:
    """The trash: each removed report (its title then, its file) with when it was removed, 恢复 and 永久删除
    (which asks first: ``data-yd-ask``, panels.js)."""
    heads = ["报告", *(["知识库"] if several else []), "删除时间", "大小", "操作"]
    body = []
    for r in rows:
        key, name, title = html.escape(r["key"]), one_line_html(r["name"]), one_line_html(r["title"])
        base = _cell("知识库", r.get("base_title"), "yd-c-meta") if several else ""
        ask = html.escape(f"永久删除“{one_line(r['title'])}”（{one_line(r['name'])}）？\n删除后无法找回。")
        body.append(
            f'<tr class="yd-lib-row yd-trash-row"><td class="yd-c-title" data-label="报告"><b>{title}</b>'
            f'<div class="yd-file">{name}</div></td>{base}'
            + _cell("删除时间", _when(r["removed"]), "yd-c-meta") + _cell("大小", _size(r["size"]), "yd-c-meta")
            + '<td class="yd-c-acts" data-label="操作">'
            f'<button type="button" class="yd-act" data-yd-go="restore" data-yd-key="{key}">恢复</button>'
            f'<button type="button" class="yd-act yd-danger" data-yd-go="purge" data-yd-key="{key}" data-yd-ask="{ask}">'
            "永久删除</button>"
            "</td></tr>")
    if not body:
        empty = "回收站中没有符合条件的报告。" if filtered else "回收站是空的。删除的报告会先放在这里，可以恢复，也可以永久删除。"
        body.append(f'<tr class="yd-lib-none"><td colspan="{len(heads)}">{empty}</td></tr>')
    count = (f'<div class="yd-lib-count">回收站中有 {len(rows)} 个文件：恢复后重新加入报告库和索引；'
             "永久删除后无法找回。</div>") if rows else ""
    return (f'<div class="yd-lib yd-trash">{count}<div class="yd-lib-scroll"><table class="yd-lib-table"><thead><tr>'
            + "".join(f'<th scope="col">{h}</th>' for h in heads) + f'</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div></div>")
