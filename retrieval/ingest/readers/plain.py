"""Plain text (.txt/.md): UTF-8, UTF-16, GB18030/GBK — also mixed line by line — and HTML saved as text."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from ...errors import ReadError
from ..document import RawText
from .html import html_text
from .options import ReadOptions
from .package import TextBudget

HTML_START = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<meta\s|<!--)", re.I)
# [^<>]: a tag ends before the next "<", so "<p <p <p …" is scanned once, not from every "<p" to the end
HTML_TAG = re.compile(r"</?(?:p|div|span|br|script|style|td|tr|table|li|a|body)\b[^<>]*>", re.I)


def read_text(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A .txt/.md file with line endings normalised to \\n; a web page saved as .txt gives its article."""
    text = decode(data)
    if text is None or looks_binary(text):
        raise ReadError(path, "not a text file (binary content)")
    text = text.replace("\x00", "")  # a stray NUL (an editor's or a copy's slip) is no character
    if looks_html(text):
        return RawText(TextBudget(path, options).take(html_text(path, text)))
    return RawText(TextBudget(path, options).take(text.replace("\r\n", "\n").replace("\r", "\n")))


def looks_html(text: str) -> bool:
    """A document that starts as HTML, or whose lines are mostly tags."""
    if HTML_START.match(text) and HTML_TAG.search(text):
        return True
    lines = [line for line in text[:20000].split("\n") if line.strip()]
    return len(lines) >= 3 and sum(bool(HTML_TAG.search(line)) for line in lines) > 0.5 * len(lines)


def decode(data: bytes) -> str | None:
    """Decode text bytes, or None when they are not text in any encoding we accept."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return try_decode(data, "utf-16")  # the codec reads and strips the BOM
    if b"\x00" in data:  # BOM-less UTF-16; else a stray NUL in text (judged by looks_binary)
        text = utf16_without_bom(data)
        if text is not None:
            return text
    text = try_decode(data, "utf-8-sig")
    if text is not None:
        return text
    text = by_line(data)
    if text is not None:
        return text
    best = from_bytes(data).best()
    return str(best) if best is not None else None


def by_line(data: bytes) -> str | None:
    """Each line as UTF-8 if it is, else GB18030 (a file pieced together from both); None if any fails.

    Valid UTF-8 with Chinese in it is practically never also meant as GBK, so trying UTF-8 first
    per line reads pure GBK files as before and mixed files correctly.
    """
    lines = []
    for line in data.split(b"\n"):
        text = try_decode(line, "utf-8") if lines else try_decode(line, "utf-8-sig")
        if text is None:
            text = try_decode(line, "gb18030")
        if text is None:
            return None
        lines.append(text)
    return "\n".join(lines)


def try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def utf16_without_bom(data: bytes) -> str | None:
    """BOM-less UTF-16 (ASCII leaves a NUL in every other byte) that decodes to common text."""
    if len(data) % 2:
        return None
    little = data[1::2].count(0) >= data[0::2].count(0)
    for encoding in ("utf-16-le", "utf-16-be") if little else ("utf-16-be", "utf-16-le"):
        text = try_decode(data, encoding)
        if text and sum(map(is_common, text)) >= 0.95 * len(text):
            return text
    return None


def is_common(ch: str) -> bool:
    """ASCII, CJK symbols/ideographs, general punctuation or full-width forms."""
    return ch < "\x80" or "\u3000" <= ch <= "\u9fff" or "\u2000" <= ch <= "\u206f" or "\uff00" <= ch <= "\uffef"


def looks_binary(text: str) -> bool:
    """True when over 2% of the characters are control characters or unassigned code points."""
    bad = sum(1 for ch in text if ch not in "\t\n\r\f" and unicodedata.category(ch) in ("Cc", "Cn"))
    return bad > 0.02 * len(text)
