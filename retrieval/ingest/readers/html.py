"""Saved web pages (.html/.htm, .mht): the article text only, found by resiliparse's main-content
extraction (navigation, footers, scripts and styles left out).

What chrome stays (toolbars, "来源：…" lines) is removed later by the same cleaning rules as
scraped .txt reports. Table rows become lines naming their columns.
"""
from __future__ import annotations

import email
import email.policy
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


def read_html(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .html/.htm page, in its declared or detected encoding."""
    return RawText(TextBudget(path, options).take(html_text(path, data)))


def read_mht(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .mht/.mhtml web archive (MIME): its first HTML part."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            return RawText(TextBudget(path, options).take(
                html_text(path, html.decode(charset, errors="replace") if charset else html)))
    raise ReadError(path, "no web page inside the .mht archive")


def html_text(path: Path, html: str | bytes) -> str:
    """The article of a web page as lines: title, paragraphs, list items, table rows."""
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
