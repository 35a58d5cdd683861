"""OCR on scans made by the tests from a seed report (skew, blur, noise, JPEG, a red seal): scanned
PDF, PNG, multi-page TIFF with a turned page, a mixed PDF; the page cache; answers from a scanned
copy equal answers from the text; a number only in a table row is found with its column names.

Slow: every page costs seconds of CPU (pages are cached by content across these tests).
"""
from __future__ import annotations

import difflib
import io
import shutil

import docx
import pymupdf
import pytest

from conftest import CORPUS, DEV_QUESTIONS, load_jsonl, seed
from retrieval.ingest import ReadError, ReadOptions, parse_file, parse_raw, read_file
from retrieval.ingest.readers import ocr
from retrieval.progress import Stage
from scans import character_error, image_pdf, scanned_pages, typeset

pytestmark = pytest.mark.slow

SEED_PATH = seed("004")
SEED = SEED_PATH.read_text(encoding="utf-8")
SEAL_TEXT = "某某市人民政府"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ocr") / "ocr.sqlite"


@pytest.fixture(scope="module")
def pages():
    return scanned_pages(SEED)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, pages, cache):
    """The scanned copy as a PDF, read once (OCR events recorded)."""
    path = tmp_path_factory.mktemp("scan") / "扫描件.pdf"
    path.write_bytes(image_pdf(pages))
    events = []
    raw = read_file(path, options=ReadOptions(ocr_cache=cache, progress=events.append))
    return path, raw, events


def test_scanned_pdf_reads_like_the_text(scanned, pages):
    path, raw, events = scanned
    assert character_error(SEED, raw.text) <= 0.01
    assert len(raw.page_starts) == len(pages) >= 2
    assert SEAL_TEXT not in raw.text  # the red seal's own text stays out of the body
    doc = parse_raw(raw, path.name)
    text_doc = parse_file(SEED_PATH)
    assert doc.title == text_doc.title
    assert [(s.level, s.heading) for s in doc.walk()] == [(s.level, s.heading) for s in text_doc.walk()]
    ocr_events = [e for e in events if e.stage is Stage.OCR]
    assert [e.done for e in ocr_events] == list(range(len(pages) + 1))
    assert {(e.total, e.name) for e in ocr_events} == {(len(pages), "扫描件.pdf")}


def test_page_numbers_stay_on_chunks(scanned):
    from retrieval.ingest import chunk_document

    path, raw, _ = scanned
    doc = parse_raw(raw, path.name)
    chunks = chunk_document(doc)
    pages = [c.page for c in chunks]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == len(raw.page_starts)
    assert set(pages) == set(range(1, len(raw.page_starts) + 1))


def test_cached_pages_are_not_read_again(scanned, cache):
    path, raw, _ = scanned
    ocr._drop_pool()
    again = read_file(path, options=ReadOptions(ocr_cache=cache))
    assert again.text == raw.text
    assert ocr._POOL is None  # no worker was started: every page came from the cache


def test_png_page(tmp_path, pages, cache):
    path = tmp_path / "第一页.png"
    pages[0].save(path)
    raw = read_file(path, options=ReadOptions(ocr_cache=cache))
    first = "".join(raw.text.split())
    assert character_error("".join(SEED.split())[:len(first)], first) <= 0.01
    assert raw.page_starts == [0]


def test_multipage_tiff_with_a_turned_page(tmp_path, pages, cache):
    top = pages[1].crop((0, 0, pages[1].width, pages[1].height // 3))  # a third of a page: fewer CPU-seconds
    path = tmp_path / "两页.tif"
    top.save(path, save_all=True, append_images=[top.rotate(90, expand=True)], compression="tiff_deflate")
    raw = read_file(path, options=ReadOptions(ocr_cache=cache))
    first, second = raw.text[:raw.page_starts[1]], raw.text[raw.page_starts[1]:]
    assert len(raw.page_starts) == 2 and len(first.strip()) > 100
    assert character_error(first, second) <= 0.02  # the turned page is read upright


def test_mixed_pdf_ocrs_only_the_scanned_page(tmp_path, pages, cache):
    """Page 1 has a text layer, page 2 is the scan's page 2 (its OCR comes from the cache)."""
    typed = typeset(SEED)
    scan = pymupdf.open(stream=image_pdf(pages))
    mixed = pymupdf.open()
    mixed.insert_pdf(typed, from_page=0, to_page=0)
    mixed.insert_pdf(scan, from_page=1, to_page=1)
    path = tmp_path / "混合.pdf"
    mixed.save(path)
    events = []
    raw = read_file(path, options=ReadOptions(ocr_cache=cache, progress=events.append))
    assert max(e.total for e in events) == 1  # one page needed OCR
    assert len(raw.page_starts) == 2
    assert character_error(SEED, raw.text) <= 0.01


def test_ocr_page_cap_and_switch(tmp_path, pages):
    path = tmp_path / "扫描件.pdf"
    path.write_bytes(image_pdf(pages))
    with pytest.raises(ReadError) as info:
        read_file(path, options=ReadOptions(ocr_max_pages=1))
    assert info.value.reason == f"{len(pages)} pages need OCR (limit 1, ocr_max_pages)"
    with pytest.raises(ReadError) as info:
        read_file(tmp_path / "a.png", b"x", ReadOptions(ocr=False))
    assert info.value.reason == "an image needs OCR, which is switched off (ocr setting)"


def test_corrupt_image(tmp_path):
    with pytest.raises(ReadError) as info:
        read_file(tmp_path / "坏.png", b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert info.value.reason.startswith("corrupt image (")


# --- answers ------------------------------------------------------------------------------------


def index_of(tmp_path, corpus_files, ocr_cache=None):
    from retrieval.config import Settings
    from retrieval.engine import Yandu

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in corpus_files.items():
        (corpus / name).write_bytes(data)
    index = tmp_path / "index"
    if ocr_cache:
        index.mkdir()
        shutil.copy(ocr_cache, index / "ocr.sqlite")  # pages already read above are not read again
    app = Yandu(Settings().with_overrides(corpus_dir=corpus, index_dir=index))
    report = app.index()
    assert not report.errors, report.errors
    return app


def test_scanned_copy_gives_the_same_top_passages(tmp_path, scanned, seed_app, cache):
    path, _, _ = scanned
    files = {p.name: p.read_bytes() for p in CORPUS.glob("*.txt") if p != SEED_PATH}
    files[SEED_PATH.stem + ".pdf"] = path.read_bytes()
    app = index_of(tmp_path, files, cache)
    questions = [q for q in load_jsonl(DEV_QUESTIONS) if any(g["doc"] == SEED_PATH.name for g in q["gold"])]
    assert len(questions) >= 4
    for q in questions:
        want = seed_app.search(q["question"], 1).passages[0]
        got = app.search(q["question"], 1).passages[0]
        assert got.source.rsplit(".", 1)[0] == want.source.rsplit(".", 1)[0], q["question"]
        assert got.heading_path == want.heading_path, q["question"]
        same = difflib.SequenceMatcher(None, "".join(got.text.split()), "".join(want.text.split())).ratio()
        assert same >= 0.98, q["question"]
        if got.source.endswith(".pdf"):
            assert got.page is not None


def test_number_in_a_table_row_is_found_with_its_columns(tmp_path):
    document = docx.Document()
    results_end = SEED.split("\n").index("二、存在问题")  # the table closes the results section, as in real reports
    for paragraph in SEED.split("\n")[:results_end]:
        document.add_paragraph(paragraph)
    document.add_paragraph("附表：机关党建主要指标")
    table = document.add_table(rows=4, cols=4)
    rows = [["指标", "2021年", "2022年", "增减"], ["新发展党员", "12名", "17名", "增加5名"],
            ["党员志愿服务时长", "860小时", "1130小时", "增加270小时"], ["党支部书记培训", "3期", "4期", "增加1期"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for paragraph in SEED.split("\n")[results_end:]:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    app = index_of(tmp_path, {"报告.docx": buffer.getvalue()})
    top = app.search("2022年党员志愿服务时长是多少小时？", 3).passages
    row = "指标：党员志愿服务时长，2021年：860小时，2022年：1130小时，增减：增加270小时"
    assert row in top[0].text.split("\n")
