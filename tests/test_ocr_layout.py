"""The parts of OCR that need no model: paragraphs from line geometry, quotes, red ink, the page cache."""
from __future__ import annotations

import numpy as np

from retrieval.ingest.readers.ocr import Line, OcrCache, fix_punctuation, page_key, page_text, without_red


def test_paragraphs_from_indent_and_short_rows():
    h = 20
    lines = [Line(300, 0, 700, h, "某某报告", 1.0),  # centred title
             Line(80, 40, 1000, 40 + h, "今年以来，我们坚持", 1.0),  # indented first line
             Line(40, 70, 1000, 70 + h, "稳中求进，", 1.0),  # full line
             Line(40, 100, 500, 100 + h, "成效明显。", 1.0),  # short last line
             Line(80, 130, 400, 130 + h, "一、基本情况", 1.0),
             Line(80, 160, 1000, 160 + h, "（一）抓学习。全年", 1.0),
             Line(40, 190, 700, 190 + h, "学习12次。", 1.0),
             Line(40, 300, 1000, 300 + h, "隔开很远的一行", 1.0),  # after a gap
             Line(3, 400, 18, 415, "3", 1.0)]  # a stray box in the margin moves no margin
    assert page_text(lines).split("\n") == ["某某报告", "今年以来，我们坚持稳中求进，成效明显。", "一、基本情况",
                                            "（一）抓学习。全年学习12次。", "隔开很远的一行", "3"]


def test_boxes_of_one_row_join_left_to_right_and_keep_a_wide_gap():
    lines = [Line(600, 10, 800, 30, "12名", 1.0), Line(40, 12, 200, 31, "新发展党员", 1.0)]
    assert page_text(lines) == "新发展党员 12名"


def test_quotes_pair_up_within_sentences():
    assert fix_punctuation("打造”五心组工”品牌，推进”两个”建设。落实“一岗双责”。") == \
        "打造“五心组工”品牌，推进“两个”建设。落实“一岗双责”。"
    assert page_text([Line(0, 0, 100, 20, "a”b”", 1.0)], recognised=False) == "a”b”"  # a text layer stays as written


def test_red_ink_removed_black_kept():
    page = np.full((4, 4, 3), 255, np.uint8)
    page[0, 0] = (210, 40, 40)  # seal red
    page[1, 1] = (20, 20, 20)  # text black
    page[2, 2] = (120, 120, 120)  # grey
    out = without_red(page)
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == (20, 20, 20) and tuple(out[2, 2]) == (120,) * 3


def test_cache_by_page_content(tmp_path):
    page = np.zeros((8, 8, 3), np.uint8)
    cache = OcrCache(tmp_path / "ocr.sqlite")
    cache.put(page_key(page), [Line(1, 2, 3, 4, "字", 0.9)])
    cache.close()
    again = OcrCache(tmp_path / "ocr.sqlite")
    assert again.get(page_key(page.copy())) == [Line(1, 2, 3, 4, "字", 0.9)]
    other = page.copy()
    other[0, 0] = 1
    assert again.get(page_key(other)) is None


def test_damaged_cache_is_not_used(tmp_path):
    path = tmp_path / "ocr.sqlite"
    path.write_bytes(b"not a database" * 100)
    cache = OcrCache(path)
    assert cache.db is None and cache.get("x") is None
