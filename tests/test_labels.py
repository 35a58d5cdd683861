"""One label for a report everywhere (issue 24): its title when it has one — a title equal to the file
name is a title — else a readable name from the file; checked on every file of ../shared/bench and the
seeds, and through every facade call the page and the API show a report's name with."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.ingest import ReadOptions, parse_file, read_report
from retrieval.labels import has_title, readable_name, report_label, report_labels

ROOT = Path(__file__).resolve().parent.parent
BENCH = (ROOT.parent / "shared" / "bench").resolve()
SEEDS = sorted((ROOT / "corpus").glob("*.txt"))
HASH_NAME = re.compile(r"\d{3}_[0-9a-f]{16}")


def parsed(path: Path) -> dict:
    got = read_report(path.parent, path, 20 * 2**20)
    doc = parse_file(path, path.name, data=got.data, options=ReadOptions.from_settings(Settings()))
    return {"source": path.name, "title": doc.title, "text": doc.text, "year": doc.year}


@pytest.fixture(scope="module")
def bench_docs() -> list[dict]:
    if not BENCH.is_dir():
        pytest.skip("../shared/bench is not present")
    return [parsed(p) for p in sorted(BENCH.rglob("*")) if p.is_file()]


def test_every_bench_report_is_called_by_its_title(bench_docs):
    assert len(bench_docs) >= 100
    labels = report_labels(bench_docs)
    named_after_title = [d for d in bench_docs if d["title"] == Path(d["source"]).stem]
    assert len(named_after_title) >= 30  # the 2025 provincial .docx files: "title equals file stem" is a title
    for d in bench_docs:
        label = labels[d["source"]]
        assert "无标题" not in label, d["source"]
        assert label.startswith(d["title"]), (d["source"], label)
    assert labels["2025年北京市政府工作报告.docx"] == "2025年北京市政府工作报告"
    # four 2026 reports are titled just "政府工作报告": each gets its file's name beside the title
    assert len(set(labels.values())) == len(bench_docs)
    assert labels["广东省_2026.txt"] == "政府工作报告（广东省 2026）"


def test_seeds_are_called_by_their_titles_and_the_untitled_one_readably():
    docs = [parsed(p) for p in SEEDS]
    labels = report_labels(docs)
    for d in docs:
        label = labels[d["source"]]
        assert not HASH_NAME.fullmatch(label), label  # never a bare file-name hash
        if d["source"].startswith("003_"):
            assert label == "无标题报告（2022 年 · 一年来，在县委的正确领导下，在党…）"
        else:
            assert label == d["title"] and "无标题" not in label


@pytest.mark.parametrize("source, title, text, has", [
    ("2025年北京市政府工作报告.docx", "2025年北京市政府工作报告", "2025年北京市政府工作报告\n各位代表：", True),
    ("003_b29ff4d5ebd0983d.txt", "003_b29ff4d5ebd0983d", "一年来，在县委的正确领导下，全年举办培训班12期。", False),
    ("述职.txt", "述职", "一年来，在县委的正确领导下，我始终严格要求自己。", False),
    ("a.txt", "某局2024年工作总结", "", True),  # the parser only ever falls back to the stem
])
def test_has_title(source, title, text, has):
    assert has_title(source, title, text) is has


def test_a_readable_file_name_names_an_untitled_report():
    assert readable_name("王某_述职.txt") == "王某 述职" and readable_name("003_b29ff4d5ebd0983d.txt") is None
    assert report_label("王某_述职.txt", "王某_述职", "一年来，我始终严格要求自己。", 2023) == "王某 述职"
    assert report_label("x1.txt", "x1", "", None) == "无标题报告（x1.txt）"
