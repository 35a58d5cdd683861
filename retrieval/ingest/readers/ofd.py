"""OFD (GB/T 33190, the national format for electronic official documents): text in page order.

Read from the package's XML as the standard defines it: ``OFD.xml`` → each ``DocRoot`` document
→ its ``Pages`` (``BaseLoc``) → the page's ``TextObject``/``TextCode`` elements, placed by
``Boundary`` and ``X``/``Y``. Text codes are grouped into lines and paragraphs by their geometry
(the same rule as OCR'd pages); page numbers are kept. No maintained permissively licensed
Python library read OFD text when this was written.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from lxml import etree

from ...errors import ReadError
from ..document import RawText
from .ocr import Line, page_text
from .options import ReadOptions
from .package import TextBudget, open_package

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


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
            pages.append(budget.take(page_text(text_lines(content), recognised=False)))
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


def advance(delta: str | None, chars: int, size: float) -> float:
    """Width of a text code from its ``DeltaX`` (``g n d`` repeats d n times), else one em a character."""
    if not delta:
        return chars * size
    tokens, widths = delta.split(), []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            widths += [float(tokens[i + 2])] * int(float(tokens[i + 1]))
            i += 3
        else:
            widths.append(float(tokens[i]))
            i += 1
    return sum(widths[:max(0, chars - 1)]) + size


def text_lines(content) -> list[Line]:
    """Every text code of a page as a Line in page coordinates (millimetres)."""
    lines = []
    for obj in (e for e in content.iter() if local(e.tag) == "TextObject"):
        x, y = (numbers(obj.get("Boundary")) + [0, 0])[:2]
        size = float(obj.get("Size") or 3.5)
        for code in (e for e in obj if local(e.tag) == "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x0 = x + float(code.get("X") or 0)
            baseline = y + float(code.get("Y") or size)
            lines.append(Line(x0, baseline - size, x0 + advance(code.get("DeltaX"), len(text), size), baseline, text, 1.0))
    return lines
