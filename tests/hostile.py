"""Hostile files for issue 22, each built here from nothing (no binary fixtures): corrupt, bomb-sized,
misnamed, pointing at the network. ``HOSTILE`` maps a file name to (bytes, what its error line says;
None: it must be read, within bounds)."""
from __future__ import annotations

import io
import os
import random
import zipfile

import docx
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image

from test_formats import ofd_package

GOOD = "{year}年度工作总结\n一、基本情况\n全年共开展“{word}”活动{n}次，覆盖党员{n}百人。\n二、存在问题\n宣传载体不够丰富。\n"


def good(word: str, n: int = 7, year: int = 2023) -> str:
    return GOOD.format(word=word, n=n, year=year)


# --- OFD ----------------------------------------------------------------------------------------


def ofd_with(size: str = "4.2", delta: str = "g 3 4.2") -> bytes:
    """A one-line OFD whose TextObject has the given Size and DeltaX."""
    data = ofd_package([[(25.0, "全年共开展红色走读活动")]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("Content.xml"):
                body = body.replace(b'Size="4.2"', f'Size="{size}"'.encode()).replace(
                    b'DeltaX="g 10 4.2"', f'DeltaX="{delta}"'.encode())
            dst.writestr(info, body)
    return out.getvalue()


def ofd_bad_crc() -> bytes:
    """An OFD whose page member is stored with one byte changed after its CRC was written."""
    data = ofd_package([[(25.0, "全年共开展红色走读活动")]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    raw = bytearray(out.getvalue())
    at = raw.index("红色走读".encode())
    raw[at] ^= 1
    return bytes(raw)


# --- web pages ------------------------------------------------------------------------------------


def mht(html: str, charset: str = "utf-8", parts: int = 0) -> bytes:
    """A saved web archive: its HTML part in ``charset``, then ``parts`` more (empty) parts."""
    head = ("From: <Saved by Blink>\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/related; type="text/html"; boundary="----B"\r\n\r\n')
    body = f'------B\r\nContent-Type: text/html; charset="{charset}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    tail = "".join(f"------B\r\nContent-Type: text/plain\r\nContent-Location: p{i}\r\n\r\nx\r\n" for i in range(parts))
    return head.encode() + body.encode() + html.encode("utf-8") + b"\r\n" + tail.encode() + b"------B--\r\n"


def page(text: str, listener: str | None = None) -> str:
    """A web page holding a report; with ``listener``, a stylesheet and an image fetched from it."""
    links = (f'<link rel="stylesheet" href="{listener}style.css"><script src="{listener}app.js"></script>'
             if listener else "")
    image = f'<img src="{listener}seal.png">' if listener else ""
    paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines())
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>工作总结</title>{links}</head>"
            f"<body><article>{image}{paragraphs}</article></body></html>")


def deep_html(depth: int = 25_000) -> bytes:
    return ("<html><body>" + "<div>" * depth + "全年共开展活动七次。" + "</div>" * depth + "</body></html>").encode()


# --- images and PDF -------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 0).save(out, "PNG")
    return out.getvalue()


def blank_tiff(frames: int = 100, side: int = 4000) -> bytes:
    out = io.BytesIO()
    frame = Image.new("1", (side, side), 1)
    frame.save(out, "TIFF", save_all=True, append_images=[frame] * (frames - 1), compression="group4")
    return out.getvalue()


def pdf(pages: list[tuple[float, float, bytes]], image: bool = False) -> bytes:
    """A PDF of pages (width pt, height pt, content stream); ``image``: a 1×1 image XObject Im0 and
    Helvetica F1 on every page."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font = 3 + 3 * len(pages)
    for width, height, content in pages:
        n = len(objects) + 1
        kids.append(f"{n} 0 R")
        resources = f"/Font << /F1 {font} 0 R >>" + (f" /XObject << /Im0 {n + 2} 0 R >>" if image else "")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] /Resources << {resources} >> "
                       f"/Contents {n + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                       b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def scanned_pdf(width: float, height: float) -> bytes:
    """One page that only draws an image stretched over it (a scan)."""
    return pdf([(width, height, b"q %g 0 0 %g 0 0 cm /Im0 Do Q" % (width, height))], image=True)


def templated_pdf(pages: int = 3) -> bytes:
    """Pages whose only text is the same template line."""
    line = b"BT /F1 12 Tf 72 760 Td (Shenzhen Municipal Template Header 2023) Tj ET"
    return pdf([(595, 842, line)] * pages)


# --- Word -----------------------------------------------------------------------------------------


def docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_grid_span(span: int = 100_000_000) -> bytes:
    d = docx.Document()
    d.add_paragraph("工作总结")
    cell = d.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = "合计"
    grid = etree.SubElement(cell._tc.get_or_add_tcPr(), qn("w:gridSpan"))
    grid.set(qn("w:val"), str(span))
    return docx_bytes(d)


def docx_vmerge(rows: int = 300, cols: int = 4) -> bytes:
    """A table whose every column is one cell merged down all rows (vMerge chains; python-docx's own
    ``row.cells`` took > 150 s on 300 rows). Built on the XML: ``table.cell`` resolves merges too."""
    d = docx.Document()
    d.add_paragraph("工作总结")
    table = d.add_table(rows=rows, cols=cols)
    for r, tr in enumerate(table._tbl.tr_lst):
        for c, tc in enumerate(tr.tc_lst):
            merge = etree.SubElement(tc.get_or_add_tcPr(), qn("w:vMerge"))
            if r == 0:
                merge.set(qn("w:val"), "restart")
                tc.p_lst[0].append(etree.fromstring(
                    f'<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:t>第{c + 1}栏</w:t></w:r>'))
    d.add_paragraph("全年共开展活动七次。")
    return docx_bytes(d)


# --- plain text -----------------------------------------------------------------------------------


def dots_txt(n: int = 40_000) -> bytes:
    return (good("句号") + "。" * n + "\n").encode()


def chrome_tail_txt(n: int = 20_000) -> bytes:
    return (good("收藏") + "\n收藏" * n).encode()


def nul_txt() -> bytes:
    return good("空字符").replace("活动", "活\x00动", 1).encode()


def random_bytes(n: int = 50_000) -> bytes:
    return random.Random(22).randbytes(n)


HOSTILE = {  # name → (bytes, what its error line must say; None: read, and indexed)
    "ofd_size.ofd": (lambda: ofd_with(size="abc"), "损坏的 OFD（字号不是数字"),
    "ofd_inf.ofd": (lambda: ofd_with(delta="g 1e400 1"), "损坏的 OFD（DeltaX"),
    "ofd_crc.ofd": (ofd_bad_crc, "损坏的 OFD（部件"),
    "ofd_bomb.ofd": (lambda: ofd_with(delta="g 1000000000 1"), "上限 1,000,000"),
    "charset.mht": (lambda: mht(page(good("未知字符集")), charset="x-no-such-charset"), None),
    "parts.mht": (lambda: mht(page(good("部件")), parts=100_000), "（上限 2,000，max_parts）"),
    "thin.png": (lambda: png(60_000, 1), "尺寸异常"),
    "thin.pdf": (lambda: scanned_pdf(14_400, 1), "尺寸异常"),
    "huge_page.pdf": (lambda: scanned_pdf(7_200, 7_200), "百万像素（上限 100 百万"),
    "span.docx": (docx_grid_span, "max_table_cells"),
    "vmerge.docx": (docx_vmerge, None),
    "dots.txt": (dots_txt, None),
    "chrome_tail.txt": (chrome_tail_txt, None),
    "deep.html": (deep_html, "网页元素嵌套"),
    "mht_saved_as.doc": (lambda: mht(page(good("另存为"))), None),
    "page_saved_as.wps": (lambda: page(good("网页另存")).encode(), None),
    "random.wps": (random_bytes, "binary content"),
    "nul.txt": (nul_txt, None),
    "templated.pdf": (templated_pdf, "清除噪声后没有正文"),
}
SLOW_TO_MAKE = {"blank.tif": (blank_tiff, "empty file")}  # 100 frames of 4000² (~1 s to build, ~10 s to read)


def write_corpus(folder, kinds: dict = HOSTILE) -> None:
    """The hostile files, good reports beside them, and a symlink loop."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (make, _) in kinds.items():
        (folder / name).write_bytes(make())
    (folder / "good_a.txt").write_text(good("红色走读"), encoding="utf-8")
    (folder / "good_b.txt").write_text(good("绿色骑行", 9, 2024), encoding="utf-8")
    os.symlink("loop_b.txt", folder / "loop_a.txt")
    os.symlink("loop_a.txt", folder / "loop_b.txt")
