"""Readers on real files written by the tests: encodings, Word, PDF, and every kind of bad input."""
from __future__ import annotations

import bisect
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pymupdf  # test-only (AGPL): builds the PDFs that pypdf reads
import pytest

from retrieval.ingest import ReadError, ReadOptions, read_file

BENCH_DOCX = Path("/work/shared/bench/gov_provincial_2025_docx")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REPORT = "一、基本情况\r\n2024年全省地区生产总值增长5.2%。\r\n二、存在问题\n（一）产业结构不优。\n"
EXPECTED = REPORT.replace("\r\n", "\n")


def read_error(path: Path) -> str:
    """The reason a file fails to read, after checking the message names it on one line."""
    with pytest.raises(ReadError) as info:
        read_file(path)
    message = str(info.value)
    assert message == f"{path.name}: {info.value.reason}"
    assert "\n" not in message and info.value.path == path
    return info.value.reason


# --- plain text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [
    lambda s: s.encode("utf-8"),
    lambda s: s.encode("utf-8-sig"),
    lambda s: s.encode("gbk"),
    lambda s: s.encode("gb18030"),
    lambda s: s.encode("utf-16"),  # little-endian with BOM on this platform
    lambda s: b"\xff\xfe" + s.encode("utf-16-le"),
    lambda s: b"\xfe\xff" + s.encode("utf-16-be"),
    lambda s: s.encode("utf-16-le"),  # no BOM: found by its NUL bytes
    lambda s: s.encode("utf-16-be"),
], ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"])
def test_text_encodings(tmp_path, encode):
    path = tmp_path / "报告.txt"
    path.write_bytes(encode(REPORT))
    raw = read_file(path)
    assert raw.text == EXPECTED  # BOM stripped, CRLF normalised, nothing else changed
    assert raw.page_starts is None


def test_gb18030_beyond_gbk(tmp_path):
    text = "㐀𠀀字：全角ＡＢＣ１２３"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    path = tmp_path / "扩展.md"
    path.write_bytes(text.encode("gb18030"))
    assert read_file(path).text == text  # no NFKC: full-width forms stay


def test_old_mac_line_endings(tmp_path):
    path = tmp_path / "mac.txt"
    path.write_bytes("第一行\r第二行\r".encode())
    assert read_file(path).text == "第一行\n第二行\n"


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 8,  # NUL bytes, not UTF-16
    bytes(b for b in random.Random(7).randbytes(4000) if b),  # no NULs, still binary
    b"\x89PNG\r\n\x1a\n" + bytes(random.Random(1).randbytes(2000)),
], ids=["all-bytes", "random-no-nul", "png"])
def test_binary_renamed_txt(tmp_path, data):
    path = tmp_path / "图片.txt"
    path.write_bytes(data)
    assert read_error(path) == "not a text file (binary content)"


@pytest.mark.parametrize("data", [b"", b" \r\n\t\n", "\u3000\n".encode(), b"\xef\xbb\xbf", b"\xff\xfe"],
                         ids=["zero-bytes", "whitespace", "ideographic-space", "utf8-bom-only", "utf16-bom-only"])
def test_empty_text(tmp_path, data):
    path = tmp_path / "空.txt"
    path.write_bytes(data)
    assert read_error(path) == "empty file"


# --- Word ---------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    document = docx.Document()
    document.add_heading("一、基本情况", level=1)
    document.add_paragraph("全年经济运行稳中有进。")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["指标", "数值", "增速"], ["GDP", "5.3万亿", "5.2%"], ["", "", ""]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(2, 0).merge(table.cell(2, 2)).text = "合计"  # one cell spanning the whole row
    document.add_heading("二、下一步工作", level=1)
    document.add_paragraph("  保持原样的段落\t含制表符  ")
    path = tmp_path / "报告.docx"
    document.save(path)
    assert read_file(path).text.split("\n") == [
        "一、基本情况", "全年经济运行稳中有进。", "指标：GDP，数值：5.3万亿，增速：5.2%", "合计",
        "二、下一步工作", "  保持原样的段落\t含制表符  ",
    ]


def test_docx_heading_is_its_own_line(tmp_path):
    document = docx.Document()
    document.add_paragraph("（一）稳增长", style="Heading 2")
    document.add_paragraph("正文。")
    path = tmp_path / "标题.docx"
    document.save(path)
    assert read_file(path).text == "（一）稳增长\n正文。"


def test_docx_without_text(tmp_path):
    path = tmp_path / "空白.docx"
    docx.Document().save(path)
    assert read_error(path) == "empty file"


def test_corrupt_docx_random_bytes(tmp_path):
    path = tmp_path / "坏.docx"
    path.write_bytes(random.Random(3).randbytes(5000))
    assert read_error(path).startswith("corrupt .docx (")


def test_corrupt_docx_missing_document_xml(tmp_path):
    good, path = tmp_path / "good.docx", tmp_path / "缺正文.docx"
    docx.Document().save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item))
    assert read_error(path).startswith("corrupt .docx (")


def ole_file(*names: str) -> bytes:
    """Just enough of an OLE compound file: the magic number and UTF-16 directory names."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"".join(n.encode("utf-16-le") for n in names)


def test_password_protected_docx(tmp_path):
    path = tmp_path / "加密.docx"
    path.write_bytes(ole_file("EncryptionInfo", "EncryptedPackage"))
    assert read_error(path) == "password-protected document"


def test_doc_renamed_docx(tmp_path):
    path = tmp_path / "旧格式.docx"
    path.write_bytes(ole_file("WordDocument"))
    assert read_error(path).startswith("corrupt .docx (")


@pytest.mark.skipif(not BENCH_DOCX.is_dir(), reason="bench corpus not present")
@pytest.mark.parametrize("path", sorted(BENCH_DOCX.glob("*.docx")) if BENCH_DOCX.is_dir() else [],
                         ids=lambda p: p.stem)
def test_bench_docx(path):
    assert len(read_file(path).text.strip()) > 1000


# --- .doc / .wps --------------------------------------------------------------------------------


@pytest.mark.skipif(SOFFICE is not None, reason="LibreOffice is installed")
@pytest.mark.parametrize("name", ["旧报告.doc", "金山.wps"])
def test_doc_without_libreoffice(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ole_file("WordDocument"))
    assert read_error(path) == ("LibreOffice is needed to read .doc/.wps files "
                                "(install it, e.g. apt-get install libreoffice-writer-nogui)")


@pytest.mark.slow  # LibreOffice starts in ~5 s
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_doc_and_wps_through_libreoffice(tmp_path):
    """A .doc made by LibreOffice from a seed report with a table reads back as the report (a .wps
    from WPS Writer is the same Word binary format)."""
    from conftest import seed

    paragraphs = [p for p in seed("004").read_text(encoding="utf-8").split("\n") if p.strip()]
    source = tmp_path / "src.html"  # Writer keeps an HTML table through .doc (python-docx's default one it drops)
    source.write_text("<html><head><meta charset='utf-8'></head><body>" + "".join(f"<p>{p}</p>" for p in paragraphs)
                      + "<table border='1'><tr><td>指标</td><td>2021年</td><td>2022年</td></tr>"
                      "<tr><td>新发展党员</td><td>12名</td><td>17名</td></tr></table></body></html>", encoding="utf-8")
    subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path), str(source)],
                   check=True, timeout=120, capture_output=True)
    data = (tmp_path / "src.doc").read_bytes()
    for name in ("旧报告.doc", "金山.wps"):
        lines = [line for line in read_file(tmp_path / name, data).text.split("\n") if line.strip()]
        assert lines == paragraphs + ["指标：新发展党员，2021年：12名，2022年：17名"], name
    assert not (tmp_path / "旧报告.doc").exists()  # read from the bytes given, never from the path


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_damaged_doc_through_libreoffice(tmp_path):
    path = tmp_path / "坏.doc"
    path.write_bytes(ole_file("WordDocument"))
    assert read_error(path).startswith("LibreOffice could not convert the file")


# --- PDF ----------------------------------------------------------------------------------------


def write_pdf(path: Path, pages: list[str], **save_options) -> Path:
    document = pymupdf.open()
    for text in pages:
        document.new_page().insert_text((72, 72), text, fontname="china-s")
    document.save(path, **save_options)
    return path


def test_pdf_pages(tmp_path):
    pages = ["一、基本情况\n地区生产总值增长5.2%。", "二、存在问题\n产业结构不优。", "三、下一步工作"]
    raw = read_file(write_pdf(tmp_path / "报告.pdf", pages))
    assert [line for line in raw.text.split("\n") if line] == "\n".join(pages).split("\n")
    assert len(raw.page_starts) == 3 and raw.page_starts[0] == 0
    page_of = lambda s: bisect.bisect_right(raw.page_starts, raw.text.index(s))  # 1-based
    assert (page_of("地区生产总值"), page_of("产业结构不优"), page_of("下一步")) == (1, 2, 3)
    assert raw.text[raw.page_starts[1]:].startswith("二、存在问题")


def test_pdf_without_text_or_images(tmp_path):
    document = pymupdf.open()
    document.new_page().draw_rect(pymupdf.Rect(72, 72, 300, 400), color=(0, 0, 0), fill=(0.6, 0.6, 0.6))
    document.new_page()
    path = tmp_path / "空白.pdf"
    document.save(path)
    assert read_error(path) == "no text in the PDF (no text layer, no scanned page)"


def test_scanned_pdf_with_ocr_off(tmp_path):
    document = pymupdf.open()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pixmap.set_rect(pixmap.irect, (200, 200, 200))
    document.new_page().insert_image(pymupdf.Rect(72, 72, 300, 300), pixmap=pixmap)
    path = tmp_path / "扫描件.pdf"
    document.save(path)
    with pytest.raises(ReadError) as info:
        read_file(path, options=ReadOptions(ocr=False))
    assert str(info.value) == "扫描件.pdf: scanned PDF, no text layer (OCR is switched off)"


def test_password_protected_pdf(tmp_path):
    path = write_pdf(tmp_path / "加密.pdf", ["秘密"],
                     encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user", owner_pw="owner")
    assert read_error(path) == "password-protected PDF"


def test_pdf_with_owner_password_only_reads(tmp_path):
    path = write_pdf(tmp_path / "限制.pdf", ["限制复制的报告"],
                     encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", permissions=0)
    assert read_file(path).text.strip() == "限制复制的报告"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + b"garbage " * 50, b"not a pdf at all", b""],
                         ids=["truncated", "not-pdf", "zero-bytes"])
def test_corrupt_pdf(tmp_path, data):
    path = tmp_path / "坏.pdf"
    path.write_bytes(data)
    assert read_error(path).startswith("corrupt PDF (")


# --- anything else ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, suffix", [("数据.xlsx", ".xlsx"), ("README", "(no extension)")])
def test_unsupported_suffix(tmp_path, name, suffix):
    path = tmp_path / name
    path.write_text("x")
    assert read_error(path) == f"unsupported file type {suffix}"


def test_uppercase_suffix(tmp_path):
    path = tmp_path / "NOTES.TXT"
    path.write_text("说明", encoding="utf-8")
    assert read_file(path).text == "说明"


def test_missing_file(tmp_path):
    assert read_error(tmp_path / "不存在.txt").startswith("cannot read file (")
