"""Saved web pages (.html/.htm, .mht): the article text only, found by resiliparse's main-content
extraction (navigation, footers, scripts and styles left out).

What chrome stays (toolbars, "来源：…" lines) is removed later by the same cleaning rules as
scraped .txt reports. Table rows become lines naming their columns.
"""
from __future__ import annotations

import codecs
import email
import email.policy
import re
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import HTMLTree

from ...errors import ReadError
from ..document import RawText
from .options import ReadOptions
from .package import TextBudget
from .tables import row_lines

CELL = "\t\t"  # how resiliparse separates the cells of a table row
# Parsing and extraction slow down with the square of the nesting depth (25 000 nested <div>s: 18 s,
# 10 000: 5.4 s, 2 000: 0.23 s measured); real pages nest under 100 deep.
MAX_DOM_DEPTH = 1000
TAG = re.compile(rb"<(/?)([a-zA-Z][\w:-]{0,30})[^<>]*>")
# elements that hold nothing or that browsers close by themselves (<p>, <li>…): never nested in depth
FLAT = frozenset(b"area base br col colgroup dd dt embed hr img input li link meta option p param source tbody "
                 b"td tfoot th thead tr track wbr !doctype".split())
# MIME parts of an .mht are counted before it is parsed: each one costs the parser (100 000 parts: minutes)
BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^"\s;]{1,70})', re.I)


def read_html(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .html/.htm page, in its declared or detected encoding."""
    return RawText(TextBudget(path, options).take(html_text(path, data)))


def read_mht(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .mht/.mhtml web archive (MIME): its first HTML part (an unknown charset is detected)."""
    parts = sum(data.count(b"--" + boundary) for boundary in set(BOUNDARY.findall(data[:2**20])))
    if parts > options.max_parts:
        raise ReadError(path, f"网页归档有 {parts:,} 个部分（上限 {options.max_parts:,}，max_parts）")
    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            if charset and known_codec(charset):
                html = html.decode(charset, errors="replace")
            return RawText(TextBudget(path, options).take(html_text(path, html)))
    raise ReadError(path, "no web page inside the .mht archive")


def known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:  # charset="x-no-such-charset": the bytes' own encoding is detected instead
        return False
    return True


def dom_depth(html: str | bytes) -> int:
    """How deep a page's elements nest, from its tags (one pass; elements that close themselves aside)."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    depth = deepest = 0
    for closing, name in TAG.findall(data):
        if name.lower() in FLAT:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def html_text(path: Path, html: str | bytes) -> str:
    """The article of a web page as lines: title, paragraphs, list items, table rows."""
    depth = dom_depth(html)
    if depth > MAX_DOM_DEPTH:
        raise ReadError(path, f"网页元素嵌套 {depth:,} 层（上限 {MAX_DOM_DEPTH:,}）")
    tree = HTMLTree.parse(html) if isinstance(html, str) else HTMLTree.parse_from_bytes(html, detect_encoding(html))
    text = extract_plain_text(tree, main_content=True, preserve_formatting=True, list_bullets=False,
                              alt_texts=False, comments=False)
    lines = article_lines(text)
    if not lines:
        raise ReadError(path, "no article text found in the web page")
    title = " ".join((tree.title or "").split())
    if title and not any(line in title or title in line for line in lines[:3]):
        lines.insert(0, title)
    return "\n".join(lines)


def article_lines(text: str) -> list[str]:
    """Non-empty lines with runs of table rows turned into row lines naming their columns."""
    lines: list[str] = []
    table: list[list[str]] = []
    for line in text.split("\n") + [""]:
        if CELL in line:
            table.append([cell.strip() for cell in line.split(CELL)])
            continue
        if table:
            lines += row_lines(table)
            table = []
        if line.strip():
            lines.append(line.strip())
    return lines
