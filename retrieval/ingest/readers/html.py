"""Saved web pages (.html/.htm, .mht): the article text only, found by trafilatura.

Site navigation, footers and scripts are left out by the extractor; what chrome stays (toolbars,
"来源：…" lines) is removed later by the same cleaning rules as scraped .txt reports. Tables
come out as row lines naming their columns.
"""
from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

import trafilatura
from lxml import etree

from ...errors import ReadError
from ..document import RawText
from .options import ReadOptions
from .package import TextBudget
from .tables import row_lines

logging.getLogger("trafilatura").setLevel(logging.ERROR)
CONTAINERS = {"list", "quote", "div"}  # trafilatura XML elements holding blocks


def read_html(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .html/.htm page (its declared or detected encoding)."""
    return RawText(TextBudget(path, options).take(html_text(path, data)))


def read_mht(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A saved .mht/.mhtml web archive: its first HTML part."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            if charset:
                html = html.decode(charset, errors="replace")
            return RawText(TextBudget(path, options).take(html_text(path, html)))
    raise ReadError(path, "no web page inside the .mht archive")


def html_text(path: Path, html: str | bytes) -> str:
    """The article of a web page as lines: title, paragraphs, list items, table rows."""
    try:
        xml = trafilatura.extract(html, output_format="xml", include_tables=True, include_comments=False,
                                  include_images=False, with_metadata=True, favor_recall=True)
    except Exception as exc:  # trafilatura raises parser errors of lxml and its own alike
        raise ReadError(path, f"corrupt web page ({type(exc).__name__}: {exc})") from exc
    if not xml:
        raise ReadError(path, "no article text found in the web page")
    root = etree.fromstring(xml.encode())
    title = (root.get("title") or "").strip()
    main = root.find("main")
    lines = list(block_lines(main)) if main is not None else []
    if title and (not lines or title not in lines[0]):
        lines.insert(0, title)
    return "\n".join(lines)


def block_lines(element) -> list[str]:
    """Lines of trafilatura's XML blocks in order: tables as row lines, lists and quotes item by item."""
    lines: list[str] = []
    for child in element:
        if child.tag == "table":
            lines += row_lines([["".join(cell.itertext()) for cell in row.iter("cell")] for row in child.iter("row")])
        elif child.tag in CONTAINERS:
            lines += block_lines(child)
        else:
            text = " ".join("".join(child.itertext()).split())
            if text:
                lines.append(text)
    return lines
