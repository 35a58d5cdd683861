"""Formats beyond plain text and PDF, built by the tests from the seed texts: tables in .docx, nested
tables and content controls, OFD, saved web pages, mixed encodings, HTML saved as .txt, limits on
the work a file can cause (decompression bombs), and running headers/footers."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from conftest import seed
from retrieval.config import SUPPORTED_SUFFIXES, Settings
from retrieval.errors import SettingsError
from retrieval.ingest import ReadError, ReadOptions, chunk_document, chunk_file, parse_file, parse_raw, read_file
from retrieval.ingest.readers import READERS
from scans import typeset

SEED = seed("004").read_text(encoding="utf-8")
PARAGRAPHS = [p for p in SEED.split("\n") if p.strip()]


def reason(path: Path, data: bytes | None = None, **options) -> str:
    with pytest.raises(ReadError) as info:
        read_file(path, data, ReadOptions(**options))
    assert str(info.value).startswith(f"{path.name}: ") and "\n" not in str(info.value)
    return info.value.reason


def test_every_supported_suffix_has_a_reader():
    assert set(READERS) == set(SUPPORTED_SUFFIXES)


def test_read_file_uses_the_given_bytes_not_the_path(tmp_path):
    path = tmp_path / "报告.txt"  # does not exist: the bytes are the file
    assert read_file(path, "一、总体情况\n正文。".encode()).text == "一、总体情况\n正文。"
    assert parse_file(path, data="一、总体情况\n正文。".encode()).sections[0].heading == "一、总体情况"


# --- plain text ---------------------------------------------------------------------------------


def test_txt_mixing_utf8_and_gbk_lines(tmp_path):
    """Issue 15: a file pieced together from a UTF-8 and a GBK file was refused as binary."""
    lines = PARAGRAPHS[:6]
    data = b"\n".join(line.encode("utf-8" if i % 2 else "gbk") for i, line in enumerate(lines))
    path = tmp_path / "拼接.txt"
    path.write_bytes(data)
    assert read_file(path).text == "\n".join(lines)


def test_html_saved_as_txt_gives_the_article(tmp_path):
    """Issue 15: a web page saved as .txt was indexed with its tags and scripts."""
    path = tmp_path / "网页.txt"
    path.write_text(web_page(PARAGRAPHS[:12]), encoding="utf-8")
    text = read_file(path).text
    assert "<p>" not in text and "function" not in text and "网站地图" not in text
    assert PARAGRAPHS[3] in text.split("\n")


# --- saved web pages ----------------------------------------------------------------------------


def web_page(paragraphs: list[str], table: bool = False) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs[1:])
    rows = ("<table><tr><th>指标</th><th>2021年</th><th>2022年</th></tr>"
            "<tr><td>新发展党员</td><td>12名</td><td>17名</td></tr></table>") if table else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{paragraphs[0]}</title>"
            "<script>function track(){ document.title = 'x'; }</script><style>p{margin:0}</style></head><body>"
            "<div class='nav'><a href='/'>首页</a> | <a href='/news'>要闻</a> | <a href='/gk'>政府信息公开</a></div>"
            f"<div class='article'><h1>{paragraphs[0]}</h1>{body}{rows}</div>"
            "<div class='footer'><a href='/map'>网站地图</a> 版权所有 某某市人民政府办公室 备案号：X</div></body></html>")


def test_saved_web_page(tmp_path):
    path = tmp_path / "报告.html"
    path.write_text(web_page(PARAGRAPHS, table=True), encoding="utf-8")
    doc = parse_file(path)
    assert doc.title == PARAGRAPHS[0]
    assert [s.heading for s in doc.walk()] == [s.heading for s in parse_file(seed("004")).walk()]
    assert "首页" not in doc.text and "网站地图" not in doc.text and "track" not in doc.text
    assert "指标：新发展党员，2021年：12名，2022年：17名" in doc.text.split("\n")


def test_saved_web_page_in_gbk_htm(tmp_path):
    path = tmp_path / "报告.htm"
    path.write_bytes(web_page(PARAGRAPHS[:10]).replace("utf-8", "gbk").encode("gbk"))
    assert PARAGRAPHS[5] in read_file(path).text


def test_mht_web_archive(tmp_path):
    html = web_page(PARAGRAPHS[:10]).encode("utf-8")
    import base64
    body = base64.encodebytes(html).decode()
    mht = ("From: <Saved by Blink>\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/related; type="text/html"; boundary="----B"\r\n\r\n'
           "------B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
           f"Content-Location: http://example.invalid/a.html\r\n\r\n{body}\r\n------B--\r\n")
    path = tmp_path / "报告.mht"
    path.write_text(mht, encoding="ascii")
    assert PARAGRAPHS[5] in read_file(path).text


def test_web_page_without_article(tmp_path):
    path = tmp_path / "空.html"
    path.write_text("<html><body><script>var a = 1;</script></body></html>", encoding="utf-8")
    assert reason(path) == "no article text found in the web page"


# --- Word tables --------------------------------------------------------------------------------


def test_docx_table_rows_name_their_columns_and_survive_chunking(tmp_path):
    document = docx.Document()
    for p in PARAGRAPHS[:4]:
        document.add_paragraph(p)
    rows = [["指标", "2021年", "2022年", "增长"]] + [[f"指标{i}", f"{i}.1亿元", f"{i}.9亿元", f"{i}%"] for i in range(30)]
    table = document.add_table(rows=len(rows), cols=4)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for p in PARAGRAPHS[4:8]:
        document.add_paragraph(p)
    path = tmp_path / "带表格.docx"
    document.save(path)
    doc = parse_file(path)
    chunks = chunk_document(doc)
    for i in range(30):  # every row is whole in exactly one chunk, with its column names
        line = f"指标：指标{i}，2021年：{i}.1亿元，2022年：{i}.9亿元，增长：{i}%"
        assert sum(line in c.text.split("\n") for c in chunks) == 1, line
    assert len({c.id for c in chunks if "指标：指标" in c.text}) > 1  # a long table is split by rows


def test_docx_vertically_merged_cell_repeats_on_each_row(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["地区", "指标", "数值"], ["甲市", "生产总值", "100亿元"], ["", "财政收入", "8亿元"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))
    path = tmp_path / "合并.docx"
    document.save(path)
    assert read_file(path).text.split("\n") == ["地区：甲市，指标：生产总值，数值：100亿元",
                                                 "地区：甲市，指标：财政收入，数值：8亿元"]


def test_docx_nested_table_and_content_controls(tmp_path):
    """Issue 15: text in nested tables and block-level content controls (w:sdt) was dropped."""
    document = docx.Document()
    document.add_paragraph("一、基本情况")
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外层单元格"
    inner = outer.cell(0, 1).add_table(rows=2, cols=2)
    for r, row in enumerate([["项目", "进度"], ["嵌套表格里的数字", "87%"]]):
        for c, value in enumerate(row):
            inner.cell(r, c).text = value
    sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>内容控件里的段落</w:t></w:r></w:p>'
                    "</w:sdtContent></w:sdt>")
    document.element.body.insert(len(document.element.body) - 1, sdt)  # before sectPr
    path = tmp_path / "控件.docx"
    document.save(path)
    text = read_file(path).text
    assert "项目：嵌套表格里的数字，进度：87%" in text
    assert "内容控件里的段落" in text.split("\n")
    assert text.index("外层单元格") < text.index("嵌套表格里的数字") < text.index("内容控件里的段落")


# --- limits (decompression bombs) ---------------------------------------------------------------


def bomb_docx(xml_mb: float) -> bytes:
    """A valid .docx whose document.xml inflates to ``xml_mb`` MB from a few KB."""
    good = io.BytesIO()
    docx.Document().save(good)
    filler = "<w:p><w:r><w:t>炸弹</w:t></w:r></w:p>"
    body = filler * int(xml_mb * 2**20 / len(filler.encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + body.encode())
            dst.writestr(item.filename, data)
    return out.getvalue()


def test_docx_bomb_refused_before_inflating(tmp_path):
    """Issue 15: a 124 KB .docx of 60 MB XML took 120 s and 3 GB on every run."""
    data = bomb_docx(12)
    assert len(data) < 200_000
    path = tmp_path / "炸弹.docx"
    assert re.fullmatch(r"\.docx holds 1[23] MB of XML \(limit 10 MB; a decompression bomb\?\)", reason(path, data))
    assert re.fullmatch(r"\.docx unpacks to 1[23] MB \(limit 5 MB; a decompression bomb\?\)",
                        reason(path, data, max_unpacked_mb=5))


def test_package_with_too_many_parts(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(30):
            z.writestr(f"word/media/{i}.png", b"x")
    assert reason(tmp_path / "多.docx", out.getvalue(), max_parts=20) == \
        "too many parts in the .docx package (30; limit 20)"


def test_character_limit_while_reading(tmp_path):
    data = bomb_docx(1)  # 1 MB of "炸弹" paragraphs: ~55 000 characters
    assert reason(tmp_path / "长.docx", data, max_chars=20_000) == \
        "more than 20,000 characters of text (limit max_chars)"
    text = ("一、标题\n" * 40).encode()
    assert reason(tmp_path / "长.txt", text, max_chars=100) == "more than 100 characters of text (limit max_chars)"


def test_chunk_limit(tmp_path):
    """Issue 15: a 1 MB file became 60 001 chunks (hours of embedding)."""
    path = tmp_path / "碎.txt"
    doc = parse_file(path, data="".join(f"{i % 9 + 1}、第{i}项\n内容{i}。\n" for i in range(400)).encode())
    with pytest.raises(ReadError) as info:
        chunk_file(doc, path, 500, 800, ReadOptions(max_chunks=100))
    assert info.value.reason == "400 passages in one file (limit 100, max_chunks)"
    assert len(chunk_file(doc, path, 500, 800, ReadOptions())) == 400
    # Paragraphs that each turn to another role are cut apart (a chunk each): the same limit holds.
    turning = parse_file(path, data=("一、主要工作\n" + "我们也清醒看到，工作还存在不足。\n下一步，我们将加强学习。\n" * 200).encode())
    with pytest.raises(ReadError) as info:
        chunk_file(turning, path, 500, 800, ReadOptions(max_chunks=100))
    assert info.value.reason == "400 passages in one file (limit 100, max_chunks)"


def test_limits_are_settings():
    options = ReadOptions.from_settings(Settings(max_chars=123, max_xml_mb=2.5, ocr=False, ocr_max_pages=7))
    assert (options.max_chars, options.max_xml_mb, options.ocr, options.ocr_max_pages) == (123, 2.5, False, 7)
    assert options.ocr_cache.name == "ocr.sqlite"
    for bad in ({"max_chars": 0}, {"max_xml_mb": 0}, {"ocr_max_pages": 0}, {"ocr_workers": -1}):
        with pytest.raises(SettingsError):
            Settings(**bad)


# --- OFD ----------------------------------------------------------------------------------------

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def ofd_package(pages: list[list[tuple[float, str]]], size: float = 4.2) -> bytes:
    """An OFD (GB/T 33190) with one TextObject per line; each page a list of (x mm, text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} DocType="OFD" Version="1.0">'
                              "<ofd:DocBody><ofd:DocInfo><ofd:DocID>1</ofd:DocID></ofd:DocInfo>"
                              "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        refs = "".join(f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
        z.writestr("Doc_0/Document.xml", f'<ofd:Document {NS}><ofd:CommonData><ofd:MaxUnitID>999</ofd:MaxUnitID>'
                                         '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
                                         f"</ofd:CommonData><ofd:Pages>{refs}</ofd:Pages></ofd:Document>")
        for i, lines in enumerate(pages):
            objects = "".join(
                f'<ofd:TextObject ID="{n + 100}" Boundary="{x} {25 + n * size * 1.8} {185 - x} {size * 1.5}" '
                f'Font="1" Size="{size}"><ofd:TextCode X="0" Y="{size}" DeltaX="g {len(text) - 1} {size}">'
                f"{text}</ofd:TextCode></ofd:TextObject>" for n, (x, text) in enumerate(lines))
            z.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", f'<ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">'
                                                            f"{objects}</ofd:Layer></ofd:Content></ofd:Page>")
    return out.getvalue()


def ofd_lines(paragraphs: list[str], size: float = 4.2, width: float = 160) -> list[tuple[float, str]]:
    """Paragraphs laid out in lines: first line indented two characters, others filled to the margin."""
    per_line = int(width / size)
    lines = []
    for p in paragraphs:
        first = p[: per_line - 2]
        lines.append((25 + 2 * size, first))
        lines += [(25, p[i:i + per_line]) for i in range(len(first), len(p), per_line)]
    return lines


def test_ofd_text_in_page_order(tmp_path):
    lines = ofd_lines(PARAGRAPHS)
    pages = [lines[i:i + 30] for i in range(0, len(lines), 30)]
    path = tmp_path / "公文.ofd"
    path.write_bytes(ofd_package(pages))
    raw = read_file(path)
    assert raw.text.split("\n") == PARAGRAPHS or "".join(raw.text.split()) == "".join(SEED.split())
    assert len(raw.page_starts) == len(pages) > 1
    doc = parse_raw(raw, path.name)
    assert [s.heading for s in doc.walk()] == [s.heading for s in parse_file(seed("004")).walk()]
    first_on_page_2 = pages[1][0][1]
    assert doc.page_at(doc.text.index(first_on_page_2)) == 2


def test_corrupt_ofd(tmp_path):
    assert reason(tmp_path / "坏.ofd", b"not a zip") == "corrupt .ofd (not an OFD package)"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("OFD.xml", f"<ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
                              "</ofd:DocBody></ofd:OFD>")
    assert reason(tmp_path / "缺.ofd", out.getvalue()) == "corrupt .ofd (missing part Doc_0/Document.xml)"


# --- running headers and footers ----------------------------------------------------------------


def test_running_header_and_footer_removed_from_text_layer_pdf(tmp_path):
    path = tmp_path / "带页眉.pdf"
    typeset(seed("001").read_text(encoding="utf-8"), header="某某市委组织部文件", footer=True).save(path)
    doc = parse_file(path)
    assert "某某市委组织部文件" not in doc.text and "- 2 -" not in doc.text
    furniture = [r.text for r in doc.removed if r.rule == "page_furniture"]
    assert furniture.count("某某市委组织部文件") == len(doc.page_starts) >= 3
    assert "- 2 -" in furniture
    assert [s.heading for s in doc.walk()] == [s.heading for s in parse_file(seed("001")).walk()]


def test_a_line_on_one_page_only_is_kept(tmp_path):
    path = tmp_path / "无页眉.pdf"
    typeset(SEED).save(path)
    doc = parse_file(path)
    assert not [r for r in doc.removed if r.rule == "page_furniture"]
    assert doc.title == PARAGRAPHS[0]


def test_uploads_accept_the_new_types(tmp_path):
    from retrieval.ingest import save_uploads

    corpus = tmp_path / "corpus"
    names = ["公文.ofd", "网页.html", "网页.htm", "归档.mht", "扫描.png", "扫描.jpg", "扫描.tif", "扫描.bmp", "旧.wps"]
    paths = []
    for n, name in enumerate(names):
        path = tmp_path / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(f"内容{n}".encode())
        paths.append(str(path))
    outcomes = {u.original: u.outcome for u in save_uploads(corpus, paths, max_file_mb=20)}
    assert "rejected" not in outcomes.values(), outcomes
    assert sorted(p.name for p in corpus.iterdir()) == sorted(names)


def test_pdf_table_rows_name_their_columns(tmp_path):
    import pymupdf

    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((72, 72), "一、主要指标完成情况", fontname="china-s", fontsize=12)
    rows = [["指标", "2021年", "2022年", "增长"], ["地区生产总值", "5.3万亿元", "5.6万亿元", "5.2%"],
            ["一般公共预算收入", "3200亿元", "3350亿元", "4.7%"], ["城镇新增就业", "12万人", "13万人", "8.3%"]]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((72 + c * 120, 100 + r * 20), cell, fontname="china-s", fontsize=11)
    page.insert_text((72, 200), "全年经济运行稳中有进，主要指标好于预期。", fontname="china-s", fontsize=12)
    path = tmp_path / "指标.pdf"
    document.save(path)
    assert read_file(path).text.split("\n") == [
        "一、主要指标完成情况", "指标：地区生产总值，2021年：5.3万亿元，2022年：5.6万亿元，增长：5.2%",
        "指标：一般公共预算收入，2021年：3200亿元，2022年：3350亿元，增长：4.7%",
        "指标：城镇新增就业，2021年：12万人，2022年：13万人，增长：8.3%", "全年经济运行稳中有进，主要指标好于预期。"]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels in a few bytes (what a decompression bomb starts with)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(30000, 30000), (12000, 12000)], ids=["pillow-limit", "ours"])
def test_image_bomb_refused_before_decoding(tmp_path, width, height):
    assert reason(tmp_path / "炸弹.png", png_header_only(width, height)) == "image too large to OCR (a decompression bomb?)"


def test_tiff_with_more_frames_than_the_ocr_cap(tmp_path):
    from PIL import Image

    path = tmp_path / "多页.tif"
    frame = Image.new("L", (20, 20), 255)
    frame.save(path, save_all=True, append_images=[frame] * 4)
    assert reason(path, ocr_max_pages=3) == "5 pages need OCR (limit 3, ocr_max_pages)"
