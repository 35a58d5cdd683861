"""OFD (GB/T 33190, the national format for electronic official documents): text in page order.

Read from the package's XML as the standard defines it: ``OFD.xml`` → each ``DocRoot`` document
→ its ``Pages`` (``BaseLoc``) → the page's ``TextObject``/``TextCode`` elements, placed by
``Boundary`` and ``X``/``Y``. Text codes are grouped into lines and paragraphs by their geometry
(the same rule as OCR'd pages); page numbers are kept. No maintained permissively licensed
Python library read OFD text when this was written.
"""
from __future__ import annotations

import math
import posixpath
import re
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from ...errors import ReadError
from ..document import RawText
from .ocr import Line, page_text
from .options import ReadOptions
from .package import TextBudget, open_package

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
# A text code's DeltaX "g N d" repeats the advance d N times; no code is longer than the characters a
# file may hold (max_chars, 1 000 000), so N beyond that is a bomb ("g 1000000000 1": 7.7 GB expanded).
MAX_GLYPH_REPEAT = 1_000_000


class BadOfd(ValueError):
    """A value in the OFD's XML that is not what the standard says (reported as 损坏的 OFD（…）)."""


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def read_ofd(path: Path, data: bytes, options: ReadOptions) -> RawText:
    package = open_package(path, data, options, ".ofd")
    names = {n.lstrip("/").lower(): n for n in package.namelist()}

    def xml(name: str):
        key = posixpath.normpath(name.lstrip("/")).lower()
        if key not in names:
            raise ReadError(path, f"corrupt .ofd (missing part {name})")
        try:
            return etree.fromstring(package.read(names[key]), PARSER)
        except etree.XMLSyntaxError as exc:
            raise ReadError(path, f"corrupt .ofd ({name}: {exc})") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged member: bad CRC, bad deflate data
            raise ReadError(path, f"损坏的 OFD（部件 {name} 已损坏：{exc}）") from exc

    budget = TextBudget(path, options)
    pages: list[str] = []
    root = xml("OFD.xml")
    for doc_root in (e for e in root.iter() if local(e.tag) == "DocRoot"):
        doc_path = (doc_root.text or "").strip()
        document = xml(doc_path)
        base = posixpath.dirname(doc_path.lstrip("/"))
        for page in (e for e in document.iter() if local(e.tag) == "Page" and e.get("BaseLoc")):
            loc = page.get("BaseLoc")
            content = xml(loc if loc.startswith("/") else posixpath.join(base, loc))
            try:
                lines = text_lines(content)
            except BadOfd as exc:
                raise ReadError(path, f"损坏的 OFD（{exc}）") from exc
            pages.append(budget.take(page_text(lines, recognised=False)))
    if not pages:
        raise ReadError(path, "corrupt .ofd (no pages)")
    if not "".join(pages).strip():
        raise ReadError(path, "no text in the .ofd (a scanned document?)")
    starts, offset = [], 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 1
    return RawText("\n".join(pages), starts)


def numbers(value: str | None) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", value or "")]


def number(value: str | None, default: float, what: str) -> float:
    """An attribute that must be one finite number (``BadOfd`` naming ``what`` otherwise)."""
    if value is None or not value.strip():
        return default
    try:
        out = float(value)
    except ValueError:
        raise BadOfd(f"{what}不是数字：{value[:20]!r}") from None
    if not math.isfinite(out):
        raise BadOfd(f"{what}超出范围：{value[:20]!r}")
    return out


def advance(delta: str | None, chars: int, size: float) -> float:
    """Width of a text code from its ``DeltaX`` (``g n d`` repeats d n times), else one em a character.

    Computed without expanding the repeats: only the first ``chars - 1`` advances count.
    """
    if not delta:
        return chars * size
    tokens, width, need = delta.split(), 0.0, max(0, chars - 1)
    i = 0
    while i < len(tokens) and need > 0:
        if tokens[i] == "g" and i + 2 < len(tokens):
            repeat = number(tokens[i + 1], 0, "DeltaX 的重复次数")
            if repeat < 0 or repeat > MAX_GLYPH_REPEAT or repeat != int(repeat):
                raise BadOfd(f"DeltaX 重复 {tokens[i + 1][:20]} 次，上限 {MAX_GLYPH_REPEAT:,}")
            take = min(int(repeat), need)
            width += take * number(tokens[i + 2], 0, "DeltaX")
            need -= take
            i += 3
        else:
            width += number(tokens[i], 0, "DeltaX")
            need -= 1
            i += 1
    return width + size


def text_lines(content) -> list[Line]:
    """Every text code of a page as a Line in page coordinates (millimetres); ``BadOfd`` for a size,
    position or advance that is not a finite number."""
    lines = []
    for obj in (e for e in content.iter() if local(e.tag) == "TextObject"):
        x, y = (numbers(obj.get("Boundary")) + [0, 0])[:2]
        size = number(obj.get("Size"), 3.5, "字号")
        for code in (e for e in obj if local(e.tag) == "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x0 = x + number(code.get("X"), 0, "文字位置 X")
            baseline = y + number(code.get("Y"), size, "文字位置 Y")
            lines.append(Line(x0, baseline - size, x0 + advance(code.get("DeltaX"), len(text), size), baseline, text, 1.0))
    return lines
