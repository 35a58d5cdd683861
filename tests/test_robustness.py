"""Robustness through real files and real processes: bad files, odd names, symlinks, a huge file,
concurrent runs and odd questions.

`python app.py index` prints one line per file it could not index ("<name>: <reason>"), a line
per duplicate, then a summary. Its exit status: 0 every file indexed; 2 some files not indexed
(all the others are); 3 another indexing run holds the lock (nothing done). `query` answers from
the live index while another run updates it, and exits 3 only while the very first index is
still being built.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

import docx
import pymupdf  # test-only (AGPL): writes the PDFs
import pytest

from retrieval.config import Settings
from retrieval.encode import load_encoder
from retrieval.engine import Yandu
from retrieval.store import update_index
from retrieval.store import current_generation

from conftest import CORPUS, ROOT, consistent

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser

REPORT = "2023年度工作总结\n一、基本情况\n全年共开展“{word}”活动{n}次。\n二、存在问题\n宣传载体不够丰富。\n"
SECRET = "绝密外部文件：此内容不得进入索引"
BUSY = re.compile(r"^error: the index in .+ is being updated by another process; try again when it finishes$", re.M)
QUESTION = "意识形态工作存在哪些问题？"


class Run(NamedTuple):
    code: int
    out: str
    err: str
    rss_mb: float  # peak resident memory of the process
    seconds: float


def command(*args) -> list:
    return [sys.executable, str(ROOT / "app.py"), *(a if isinstance(a, bytes) else str(a) for a in args)]


def start(*args, out=subprocess.DEVNULL, err=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdout=out, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def cli(*args, env: dict | None = None, timeout: float = 900) -> Run:
    """Run `python app.py ARGS` to the end; exit status, output, peak memory and wall time."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.monotonic()
        proc = subprocess.Popen(command(*args), stdout=out, stderr=err, env={**os.environ, **(env or {})})
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        _, status, usage = os.wait4(proc.pid, 0)
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        run = Run(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                  usage.ru_maxrss / 1024, time.monotonic() - began)
    assert "Traceback" not in run.err, run.err
    return run


def dirs(settings: Settings) -> tuple:
    return "--corpus", settings.corpus_dir, "--index-dir", settings.index_dir


def holds_lock(proc: subprocess.Popen, index_dir: Path) -> bool:
    """Does this process hold the index write lock (an flock, listed in /proc/locks)?"""
    try:
        inode = (index_dir / ".write.lock").stat().st_ino
    except FileNotFoundError:
        return False
    pattern = re.compile(rf"FLOCK\s+ADVISORY\s+WRITE\s+{proc.pid}\s+\S+:{inode}\s")
    return bool(pattern.search(Path("/proc/locks").read_text()))


def wait_for_lock(proc: subprocess.Popen, index_dir: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not holds_lock(proc, index_dir):
        assert proc.poll() is None, f"index run ended (status {proc.returncode}) before taking the lock"
        assert time.monotonic() < deadline, "index run never took the lock"
        time.sleep(0.01)


def settings_in(folder: Path, files=()) -> Settings:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for path in files:
        shutil.copy(path, corpus / path.name)
    return Settings().with_overrides(corpus_dir=corpus, index_dir=folder / "index")


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(Settings())


@pytest.fixture(scope="module")
def seeds(tmp_path_factory, encoder):
    """The five seed reports, indexed in-process; an app that searches them."""
    settings = settings_in(tmp_path_factory.mktemp("seeds"), sorted(CORPUS.glob("*.txt")))
    update_index(settings, encoder)
    app = Yandu(settings)
    app._encoder = encoder
    return app


# --- bad files, odd names, symlinks: one `python app.py index` over all of them -----------------


def write_docx(path: Path, lines: list[str]) -> None:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(path)


def write_pdf(path: Path, text: str | None, **save_options) -> None:
    document = pymupdf.open()
    page = document.new_page()
    if text is None:  # a scan: one picture, no text layer
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
        pixmap.clear_with(180)
        page.insert_image(pymupdf.Rect(72, 72, 472, 272), pixmap=pixmap)
    else:
        page.insert_text((72, 72), text, fontname="china-s")
    document.save(path, **save_options)


def encrypted_docx(path: Path) -> bool:
    """A .docx encrypted by the Office standard (msoffcrypto-tool); False when that is not installed."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return False
    plain = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("一、加密的报告")
    document.save(plain)
    plain.seek(0)
    with open(path, "wb") as f:
        OOXMLFile(plain).encrypt("密码123", f)
    return True


ODD_NAMES = {  # name -> the number of times its report says the activity happened
    "中文 名字 带 空格.txt": 21,
    "a..b.txt": 22,
    "长" * 80 + ".txt": 23,  # 244 bytes: near the 255-byte limit of Linux file names
    "x" * 240 + ".txt": 24,
    "-开头是横线.txt": 25,
}


def build_bad_corpus(root: Path) -> tuple[Settings, dict[str, str], set[str]]:
    """A corpus of good and bad files; (settings, expected line per bad file, names indexed)."""
    settings = settings_in(root)
    c = settings.corpus_dir
    good = {"good.txt": REPORT.format(word="红色走读", n=17)}
    for name, text in good.items():
        (c / name).write_text(text, encoding="utf-8")
    shutil.copy(c / "good.txt", c / "good copy.txt")
    (c / "gbk.txt").write_bytes(REPORT.format(word="绿色骑行", n=30).encode("gbk"))
    (c / "gb18030.txt").write_bytes(REPORT.format(word="㐀𠀀字", n=31).encode("gb18030"))
    (c / "utf16.txt").write_bytes(REPORT.format(word="蓝色课堂", n=32).encode("utf-16"))  # with BOM
    for name, n in ODD_NAMES.items():
        (c / name).write_text(REPORT.format(word="走访慰问", n=n), encoding="utf-8")
    write_docx(c / "正常.docx", REPORT.format(word="文档活动", n=40).split("\n"))
    write_pdf(c / "正常.pdf", REPORT.format(word="扫描活动", n=41))
    expected = {
        "empty.txt": "empty file",
        "binary.txt": "not a text file (binary content)",
        "corrupt.docx": "corrupt .docx (not a Word .docx package)",
        "truncated.docx": "corrupt .docx (not a Word .docx package)",
        "corrupt.pdf": "corrupt PDF (",  # … and pypdf's own words
        "scanned.pdf": "scanned PDF, OCR found no text on its pages",  # a blank page image
        "locked.pdf": "password-protected PDF",
        "big.txt": "file too large (50.0 MB; limit 20 MB)",
        "link.txt": "symlink leading out of the corpus (not followed)",
        "chain.txt": "symlink leading out of the corpus (not followed)",
        "linkdir": "symlink leading out of the corpus (not followed)",
        "dangling.txt": "broken symlink (its target does not exist)",
    }
    (c / "empty.txt").write_bytes(b"")
    (c / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(3000))
    (c / "corrupt.docx").write_bytes(random.Random(3).randbytes(5000))
    write_docx(root / "whole.docx", ["一、基本情况"] * 50)
    (c / "truncated.docx").write_bytes((root / "whole.docx").read_bytes()[:4000])
    (c / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + b"garbage " * 50)
    write_pdf(c / "scanned.pdf", None)
    write_pdf(c / "locked.pdf", "秘密报告", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    if encrypted_docx(c / "locked.docx"):
        expected["locked.docx"] = "password-protected document"
    line = (REPORT.format(word="大文件", n=50) * 300).encode("utf-8")  # real text, not one long line
    with open(c / "big.txt", "wb") as f:
        for _ in range(50 * 2**20 // len(line)):
            f.write(line)
        f.write(b"x" * (50 * 2**20 % len(line)))
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (c / "link.txt").symlink_to(outside / "secret.txt")
    (c / "chain.txt").symlink_to("link.txt")  # inside → inside → outside
    (c / "linkdir").symlink_to(outside, target_is_directory=True)
    (c / "dangling.txt").symlink_to(c / "nowhere.txt")
    (c / "inside-link.txt").symlink_to("good.txt")  # stays inside: a second name for good.txt
    (c / "loop").symlink_to(".", target_is_directory=True)  # not walked, so no endless loop
    indexed = {"good copy.txt", "gbk.txt", "gb18030.txt", "utf16.txt", "正常.docx", "正常.pdf", *ODD_NAMES}
    return settings, expected, indexed


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    settings, expected, indexed = build_bad_corpus(tmp_path_factory.mktemp("bad"))
    run = cli("index", *dirs(settings))
    return settings, expected, indexed, run


def test_index_exits_2_and_names_each_bad_file_on_one_line(bad):
    settings, expected, indexed, run = bad
    assert run.code == 2, run.err
    lines = run.out.splitlines()
    reported = dict(line.split(": ", 1) for line in lines[:-1])
    assert set(reported) == set(expected) | {"good.txt", "inside-link.txt"}
    for name, reason in expected.items():
        assert reported[name].startswith(reason), (name, reported[name])
    assert reported["corrupt.pdf"] != "corrupt PDF ("
    assert str(settings.corpus_dir) not in run.out  # reasons name the file, not where it lives
    assert lines[-1] == (f"{len(indexed)} reports, {len(indexed) * 2} chunks — added {len(indexed)}, updated 0, "
                         f"removed 0, unchanged 0, {len(expected)} not indexed")


def test_same_content_under_two_names_is_indexed_once(bad):
    settings, _, _, run = bad
    assert "good.txt: same content as good copy.txt (indexed once, both names known)" in run.out.splitlines()
    assert "inside-link.txt: same content as good copy.txt (indexed once, both names known)" in run.out.splitlines()
    doc = next(d for d in consistent(settings).documents() if d["source"] == "good copy.txt")
    assert doc["aliases"] == ["good.txt", "inside-link.txt"]


def test_every_readable_file_is_indexed_whatever_its_encoding_or_name(bad, encoder):
    settings, _, indexed, _ = bad
    snap = consistent(settings)
    assert {d["source"] for d in snap.documents()} == indexed
    texts = {d["source"]: snap.document(d["source"])["text"] for d in snap.documents()}
    assert "绿色骑行" in texts["gbk.txt"] and "㐀𠀀字" in texts["gb18030.txt"] and "蓝色课堂" in texts["utf16.txt"]
    assert "文档活动" in texts["正常.docx"] and "扫描活动" in texts["正常.pdf"]
    app = Yandu(settings)
    app._encoder = encoder
    for name, n in ODD_NAMES.items():
        passages = app.search("走访慰问活动开展了几次？", reports=[name]).passages
        assert passages and {p.source for p in passages} == {name}
        assert f"活动{n}次" in passages[0].text


def test_nothing_outside_the_corpus_is_read_through_symlinks(bad):
    settings, _, _, _ = bad
    secret = SECRET.encode("utf-8")
    for path in settings.index_dir.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    snap = consistent(settings)
    assert not any(SECRET in snap.document(d["source"])["text"] for d in snap.documents())


def test_a_50_mb_text_is_refused_by_size_without_reading_it(bad):
    """Policy: a 50 MB text is ~70 000 chunks, about an hour of embedding on this CPU, so files over
    `max_file_mb` (20 MB, env YANDU_MAX_FILE_MB) are refused by size before they are read."""
    settings, _, _, run = bad
    assert "big.txt: file too large (50.0 MB; limit 20 MB)" in run.out.splitlines()
    assert "big.txt" not in {d["source"] for d in consistent(settings).documents()}


def test_size_limit_boundary(tmp_path, encoder, monkeypatch):
    monkeypatch.setenv("YANDU_MAX_FILE_MB", "1")
    settings = settings_in(tmp_path, [next(CORPUS.glob("004_*.txt"))])
    assert settings.max_file_mb == 1
    (settings.corpus_dir / "at-limit.txt").write_bytes(bytes(range(256)) * 4096)  # exactly 1 MB, binary
    (settings.corpus_dir / "over-limit.txt").write_bytes("报".encode() * (2**20 // 3) + b"xx")  # 1 MB + 1 byte
    report = update_index(settings, encoder)
    assert report.errors == {"at-limit.txt": "not a text file (binary content)",  # read: under the limit
                             "over-limit.txt": "file too large (1.0 MB; limit 1 MB)"}
    assert len(report.added) == 1


def test_rerun_reports_the_same_lines_and_keeps_the_index(bad):
    settings, _, indexed, first = bad
    live = current_generation(settings.index_dir)
    again = cli("index", *dirs(settings))
    assert again.code == 2
    assert again.out.splitlines()[:-1] == first.out.splitlines()[:-1]
    assert f"unchanged {len(indexed)}" in again.out.splitlines()[-1]
    assert current_generation(settings.index_dir) == live  # nothing changed: no new generation
    assert "chunk" not in again.err  # and no empty progress bar
    # failed files and symlinks do not make the index look stale: a question re-indexes nothing
    query = cli("query", "红色走读活动开展了几次？", "--json", *dirs(settings))
    assert query.code == 0 and "not a text file" not in query.err and "not indexed" not in query.err
    assert json.loads(query.out)["passages"][0]["source"] == "good copy.txt"


def test_exit_status_0_once_the_bad_files_are_gone(bad, tmp_path):
    settings, expected, indexed, _ = bad
    copy = settings.with_overrides(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    shutil.copytree(settings.index_dir, copy.index_dir)
    copy.corpus_dir.mkdir()
    for path in settings.corpus_dir.iterdir():
        if path.name not in expected and not path.is_symlink():
            shutil.copy(path, copy.corpus_dir / path.name)
    run = cli("index", *dirs(copy))
    assert run.code == 0, run.out
    assert run.out.splitlines() == [
        "good.txt: same content as good copy.txt (indexed once, both names known)",
        # inside-link.txt, a second name for good copy.txt, is gone
        f"{len(indexed)} reports, {len(indexed) * 2} chunks — added 0, updated 0, removed 1, unchanged {len(indexed)}",
    ]


# --- concurrency: a second writer, and questions while an index run is in progress ---------------


def test_second_index_run_is_refused_with_exit_3_and_questions_are_answered(tmp_path, encoder):
    settings = settings_in(tmp_path, sorted(CORPUS.glob("*.txt")))
    update_index(settings, encoder)
    for n in range(2):  # new reports for the running index to embed
        text = next(CORPUS.glob(f"00{n}_*.txt")).read_text(encoding="utf-8")
        (settings.corpus_dir / f"新增{n}.txt").write_text(f"第{n}号新增工作总结\n{text}", encoding="utf-8")
    app = Yandu(settings)
    app._encoder = encoder
    with open(tmp_path / "first.err", "wb") as err:
        first = start("index", *dirs(settings), err=err)
    try:
        wait_for_lock(first, settings.index_dir)
        first.send_signal(signal.SIGSTOP)  # hold it there: a slow run, whatever this machine's speed
        second = cli("index", *dirs(settings))
        assert second.code == 3 and second.out == ""
        assert BUSY.search(second.err), second.err
        query = cli("query", QUESTION, "--json", *dirs(settings))
        assert query.code == 0, query.err
        assert "answering from the current index" in query.err
        assert json.loads(query.out)["passages"][0]["source"].startswith("001_")
        assert app.search(QUESTION).passages[0].source.startswith("001_")
    finally:
        first.send_signal(signal.SIGCONT)
    answered = 0
    while first.poll() is None:  # the run goes on: embedding, writing, flipping the live index
        assert app.search(QUESTION).passages
        answered += 1
        time.sleep(0.1)
    assert first.returncode == 0, (tmp_path / "first.err").read_text()
    assert answered > 0
    assert len(consistent(settings).documents()) == 7
    # the new generation is live for the same app
    assert "新增1.txt" in {p.source for p in app.search("第1号新增工作总结", 10).passages}


def test_question_during_the_very_first_index_exits_3(tmp_path):
    settings = settings_in(tmp_path, [next(CORPUS.glob("004_*.txt"))])
    first = start("index", *dirs(settings))
    try:
        wait_for_lock(first, settings.index_dir)
        first.send_signal(signal.SIGSTOP)
        query = cli("query", QUESTION, "--json", *dirs(settings))
        assert query.code == 3 and query.out == ""
        assert BUSY.search(query.err), query.err
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=600) == 0
    assert cli("query", QUESTION, "--json", *dirs(settings)).code == 0


# --- questions ------------------------------------------------------------------------------------

QUESTIONS = {
    "empty": "",
    "whitespace": " \t\u3000\n ",
    "10000 chars": (QUESTION * 800)[:10000],
    "emoji": "😀🎉🙈",
    "english": "What problems exist in ideological work?",
    "traditional": "意識形態工作存在哪些問題？",
    "matches nothing": "How do I bake sourdough bread?",
    "control chars": "\x07\x1b[31m\x7f",
}


def check_answer(kind: str, message: str, passages: list[dict]) -> None:
    assert message or passages  # always something to show
    if kind in ("empty", "whitespace"):
        assert (message, passages) == ("请输入问题。", [])
    if kind == "10000 chars":
        assert message.startswith("问题过长，只用了前 2000 个字。") and passages
    if kind in ("emoji", "matches nothing", "control chars"):
        assert passages or "没有找到" in message
    for p in passages:
        assert p["text"] and p["source"] and p["rank"] >= 1


@pytest.mark.parametrize("kind", QUESTIONS)
def test_questions_through_the_library(seeds, kind):
    result = seeds.search(QUESTIONS[kind])
    check_answer(kind, result.message, [p.to_json() for p in result.passages])


def test_traditional_chinese_finds_the_same_top_passage(seeds):
    simplified = seeds.search(QUESTION).passages[0]
    traditional = seeds.search(QUESTIONS["traditional"]).passages[0]
    assert (traditional.source, traditional.start) == (simplified.source, simplified.start)
    assert traditional.source.startswith("001_") and "意识形态" in traditional.text


@pytest.mark.parametrize("kind", QUESTIONS)
def test_questions_through_the_cli(seeds, kind):
    run = cli("query", QUESTIONS[kind], "--json", *dirs(seeds.settings))
    assert run.code == 0, run.err
    answer = json.loads(run.out)
    assert answer["question"] == QUESTIONS[kind]
    check_answer(kind, answer["message"], answer["passages"])
    if kind == "traditional":
        assert answer["passages"][0]["source"].startswith("001_")


def test_question_bytes_that_are_not_utf8_through_the_cli(seeds):
    run = cli("query", "问题".encode("gbk") + b"\xff", "--json", *dirs(seeds.settings))
    assert run.code == 0, run.err
    answer = json.loads(run.out)
    assert "\ufffd" in answer["question"] and (answer["message"] or answer["passages"])


def test_lone_surrogate_through_the_library(seeds):
    result = seeds.search("\ud800" + QUESTION)
    assert result.message or result.passages


def test_one_line_fast_path_knows_every_character_it_escapes():
    """one_line returns a name untouched when its regex finds nothing: that regex must match exactly the
    characters the slow path escapes (checked over every code point)."""
    import unicodedata

    from retrieval.ingest.corpus import _BIDI, _ESCAPED, _NAMED

    for code in range(0x110000):
        ch = chr(code)
        escaped = unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI or ch in _NAMED
        assert bool(_ESCAPED.search(ch)) == escaped, hex(code)
