"""The faults an adversarial test found (issue 15), each reproduced with fixtures built here.

Nothing lost (a missing corpus, files that vanish or change mid-run, index write failures),
nothing leaked (symlink races, file names that forge lines), bounded work per file. The first
tests need no model (unit tier); the rest index real files with the real encoder (slow).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.errors import CorpusMissing, ReadError
from retrieval.ingest import corpus_files, read_file
from retrieval.ingest.corpus import FileMoved, escape_name, read_report

from conftest import ROOT, consistent

REPORT = "{year}年度工作总结\n一、基本情况\n全年共开展“{word}”活动{n}次。\n二、存在问题\n宣传载体不够丰富。\n"
SECRET = "绝密外部文件：此内容不得进入索引"
GBK_NAME = b"\xb9\xa4\xd7\xf7.txt"  # "工作.txt" in GBK: what unzipping a Chinese archive leaves on Linux
FORGED = "evil\n1 reports, 1 chunks — added 1, updated 0, removed 0, unchanged 0\x1b[2K.txt"


def report(word: str, n: int = 7, year: int = 2023) -> str:
    return REPORT.format(word=word, n=n, year=year)


# --- names: escaped, one line, one-to-one (unit tier) -------------------------------------------


def test_names_are_escaped_one_to_one():
    assert escape_name(os.fsdecode(GBK_NAME)) == "\\xb9\\xa4\\xd7\\xf7.txt"
    assert escape_name("a\nb\r\tc\x1b\x7f\u2028\u202e.txt") == "a\\nb\\r\\tc\\x1b\\x7f\\u2028\\u202e.txt"
    assert escape_name("中文 名字（一）.docx") == "中文 名字（一）.docx"
    # a backslash is escaped too, so a real "\n" in a name cannot pass for a newline
    assert escape_name("a\\nb.txt") == "a\\\\nb.txt" != escape_name("a\nb.txt")


def test_corpus_lists_a_non_utf8_name_escaped_and_printable(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(os.path.join(os.fsencode(corpus), GBK_NAME), "w", encoding="utf-8") as f:
        f.write(report("工作"))
    (corpus / FORGED).write_text(report("伪造"), encoding="utf-8")
    files, skipped = corpus_files(corpus)
    assert set(files) == {"\\xb9\\xa4\\xd7\\xf7.txt", escape_name(FORGED)} and not skipped
    for name, path in files.items():
        name.encode("utf-8")  # no lone surrogates: printable, storable in SQLite and JSON
        assert "\n" not in name and "\x1b" not in name
        assert read_report(corpus, path, 2**20).data.decode("utf-8").startswith("2023")


# --- reading: once, without following links, checked on the opened file (unit tier) --------------


@pytest.fixture
def race(tmp_path):
    """A corpus listed while it was clean; the test then swaps things before the read."""
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (outside / "sub").mkdir()
    (outside / "sub" / "b.txt").write_text(SECRET, encoding="utf-8")
    (corpus / "a.txt").write_text(report("甲"), encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text(report("乙"), encoding="utf-8")
    files, _ = corpus_files(corpus)
    return corpus, outside, files


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(race):
    corpus, outside, files = race
    (corpus / "a.txt").unlink()
    (corpus / "a.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(FileMoved, match="replaced by a symlink"):
        read_report(corpus, files["a.txt"], 2**20)


def test_a_folder_swapped_for_a_link_after_listing_is_not_followed(race):
    corpus, outside, files = race
    shutil.rmtree(corpus / "sub")
    (corpus / "sub").symlink_to(outside / "sub", target_is_directory=True)
    with pytest.raises(FileMoved):
        read_report(corpus, files["sub/b.txt"], 2**20)


def test_a_file_swapped_for_a_fifo_is_refused_without_hanging(race):
    corpus, _, files = race
    (corpus / "a.txt").unlink()
    os.mkfifo(corpus / "a.txt")
    with pytest.raises(FileMoved, match="no longer a regular file"):
        read_report(corpus, files["a.txt"], 2**20)


def test_a_file_grown_past_the_limit_is_refused_unread(race):
    corpus, _, files = race
    (corpus / "a.txt").write_bytes(b"x" * (2**20 + 1))
    with pytest.raises(ReadError, match=r"file too large \(1.0 MB; limit 1 MB\)"):
        read_report(corpus, files["a.txt"], 2**20)


def test_readers_parse_the_bytes_given_not_the_file_on_disk(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(SECRET, encoding="utf-8")
    assert read_file(path, data=report("给定").encode("gbk")).text == report("给定")


# --- with the model: the indexer and the CLI ------------------------------------------------------


slow = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder():
    from retrieval.encode import load_encoder

    return load_encoder(Settings())


def make(tmp_path: Path, files: dict[str, str] | None = None, **overrides) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Settings().with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index", **overrides)


def app_for(settings: Settings, encoder):
    from retrieval.engine import Yandu

    app = Yandu(settings)
    app._encoder = encoder
    return app


def cli(*args) -> subprocess.CompletedProcess:
    args = [a if isinstance(a, bytes) else str(a) for a in args]
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), *args], capture_output=True, timeout=600)
    run.out, run.err = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")  # strict: output is UTF-8
    assert "Traceback" not in run.err, run.err
    return run


def dirs(settings: Settings) -> tuple:
    return "--corpus", settings.corpus_dir, "--index-dir", settings.index_dir


class Events:
    """A progress callback that records events and can act when one arrives."""

    def __init__(self, on=None):
        self.events, self.on = [], on

    def __call__(self, event):
        self.events.append(event)
        if self.on:
            self.on(event)

    def read(self) -> list[str]:
        return [e.name for e in self.events if e.stage.value == "reading"]


# 1. A missing or empty corpus never empties the index


@slow
def test_a_missing_or_empty_corpus_never_empties_the_index(tmp_path, encoder):
    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("红色走读"), "b.txt": report("绿色骑行")})
    update_index(settings, encoder)
    typo = settings.with_overrides(corpus_dir=tmp_path / "typo-folder")
    with pytest.raises(CorpusMissing, match="does not exist.*not changed and still holds 2 reports"):
        update_index(typo, encoder)
    assert not typo.corpus_dir.exists()  # not created either
    for path in settings.corpus_dir.iterdir():
        path.unlink()
    with pytest.raises(CorpusMissing, match="holds no reports but the index holds 2"):
        update_index(settings, encoder)
    assert len(consistent(settings).documents()) == 2
    # a query over the missing folder answers from the index and says why it was not updated
    app = app_for(typo, encoder)
    assert app.ensure_index() is None and "does not exist" in app.update_error
    assert app.search("红色走读活动开展了几次？").passages[0].source == "a.txt"
    assert app.status()["update_error"] == app.update_error
    # the user confirms: now the index is emptied
    assert update_index(settings, encoder, allow_empty=True).removed == ["a.txt", "b.txt"]
    assert consistent(settings).documents() == []


@slow
def test_index_over_a_typo_folder_exits_1_with_one_line_and_query_still_answers(tmp_path, encoder):
    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("红色走读")})
    update_index(settings, encoder)
    typo = ("--corpus", tmp_path / "typo", "--index-dir", settings.index_dir)
    run = cli("index", *typo)
    assert run.returncode == 1 and run.out == ""
    assert run.err.strip().startswith("error: corpus folder") and len(run.err.strip().splitlines()) == 1
    run = cli("query", "红色走读活动开展了几次？", "--json", *typo)
    assert run.returncode == 0, run.err
    assert json.loads(run.out)["passages"][0]["source"] == "a.txt"
    assert "index not updated: corpus folder" in run.err and "answering from the current index" in run.err
    assert not (tmp_path / "typo").exists()
    run = cli("index", "--allow-empty", *typo)
    assert run.returncode == 0 and run.out.strip().endswith("removed 1, unchanged 0")


# 2. File names that are not UTF-8 (and 11. names that would forge output lines)


@slow
def test_non_utf8_and_newline_names_are_indexed_and_shown_escaped(tmp_path, encoder):
    settings = make(tmp_path, {"good.txt": report("红色走读"), FORGED: report("伪造名字", 9)})
    with open(os.path.join(os.fsencode(settings.corpus_dir), GBK_NAME), "w", encoding="utf-8") as f:
        f.write(report("乱码名字", 8))
    with open(os.path.join(os.fsencode(settings.corpus_dir), b"copy-" + GBK_NAME), "w", encoding="utf-8") as f:
        f.write(report("红色走读"))  # same content as good.txt, under a name that is not UTF-8
    run = cli("index", *dirs(settings))
    assert run.returncode == 0, run.err
    lines = run.out.splitlines()
    assert lines == ["good.txt: same content as copy-\\xb9\\xa4\\xd7\\xf7.txt (indexed once, both names known)",
                     "3 reports, 6 chunks — added 3, updated 0, removed 0, unchanged 0"]
    run = cli("query", "乱码名字活动开展了几次？", "--json", *dirs(settings))
    assert run.returncode == 0 and "reports," not in run.err  # up to date: not re-indexed
    assert json.loads(run.out)["passages"][0]["source"] == "\\xb9\\xa4\\xd7\\xf7.txt"
    run = cli("query", "伪造名字活动开展了几次？", *dirs(settings))
    assert run.returncode == 0
    assert escape_name(FORGED) in run.out and "\n1 reports" not in run.out and "\x1b" not in run.out


@slow
def test_watch_keeps_indexing_after_a_non_utf8_name_appears(tmp_path, encoder):
    from retrieval.web.worker import CorpusWatcher, IndexWorker

    settings = make(tmp_path, {"a.txt": report("红色走读")})
    app = app_for(settings, encoder)
    worker = IndexWorker(app)
    assert worker.wait(worker.request(), timeout=300).report.added == ["a.txt"]
    watcher = CorpusWatcher(settings.corpus_dir, worker, debounce=0.5)
    watcher.start()
    try:
        with open(os.path.join(os.fsencode(settings.corpus_dir), GBK_NAME), "w", encoding="utf-8") as f:
            f.write(report("乱码名字", 8))
        deadline = time.monotonic() + 300
        while "\\xb9\\xa4\\xd7\\xf7.txt" not in {d["source"] for d in app.status().get("documents", [])}:
            assert time.monotonic() < deadline and not (worker.last_run and worker.last_run.error)
            time.sleep(0.5)
        (settings.corpus_dir / "b.txt").write_text(report("绿色骑行"), encoding="utf-8")  # and the next file too
        while "b.txt" not in {d["source"] for d in app.status().get("documents", [])}:
            assert time.monotonic() < deadline and not worker.last_run.error
            time.sleep(0.5)
    finally:
        watcher.stop()


# 3. The symlink race, through the indexer


@slow
def test_a_file_swapped_for_an_outside_link_during_a_run_is_not_indexed(tmp_path, encoder):
    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("甲活动"), "b.txt": report("乙活动")})
    (tmp_path / "secret.txt").write_text(report(SECRET), encoding="utf-8")

    def swap(event):  # a.txt has been read; b.txt has been listed but not read yet
        if event.name == "a.txt":
            (settings.corpus_dir / "b.txt").unlink()
            (settings.corpus_dir / "b.txt").symlink_to(tmp_path / "secret.txt")

    result = update_index(settings, encoder, progress=Events(swap))
    assert result.added == ["a.txt"] and result.notes == {
        "b.txt": "replaced by a symlink during the run (skipped; checked again next run)"}
    for path in settings.index_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    # next run: the link is listed, and refused as leading out of the corpus
    assert update_index(settings, encoder).errors == {"b.txt": "symlink leading out of the corpus (not followed)"}


# 6. A file deleted while it is embedded; 7. a file changed during a run


@slow
def test_a_file_deleted_while_embedded_is_skipped_with_a_note(tmp_path, encoder):
    from retrieval.store import is_stale, update_index

    settings = make(tmp_path, {"a.txt": report("删除前甲"), "b.txt": report("删除前乙")})
    gone = settings.corpus_dir / "b.txt"
    result = update_index(settings, encoder, progress=Events(
        lambda e: e.stage.value == "embedding" and gone.unlink(missing_ok=True)))
    assert result.added == ["a.txt"] and result.notes == {"b.txt": "removed during the run (skipped)"}
    assert [d["source"] for d in consistent(settings).documents()] == ["a.txt"]
    assert not is_stale(settings, encoder.model_id)


@slow
def test_a_file_changed_during_a_run_is_skipped_and_picked_up_next_run(tmp_path, encoder):
    from retrieval.store import is_stale, update_index

    settings = make(tmp_path, {"a.txt": report("旧内容甲"), "b.txt": report("旧内容乙")})
    update_index(settings, encoder)
    b = settings.corpus_dir / "b.txt"
    b.write_text(report("第二版乙"), encoding="utf-8")

    def edit(event):  # same size, new text: only the hash can tell
        if event.stage.value == "embedding" and "第二版" in b.read_text(encoding="utf-8"):
            time.sleep(0.05)  # an edit a moment after the read (file times have a coarse clock)
            b.write_text(report("第三版乙"), encoding="utf-8")

    result = update_index(settings, encoder, progress=Events(edit))
    assert result.notes == {"b.txt": "changed during the run (skipped; indexed on the next run)"}
    assert "旧内容乙" in consistent(settings).document("b.txt")["text"]  # the last version stays searchable
    app = app_for(settings, encoder)
    assert is_stale(settings, encoder.model_id)
    assert app.ensure_index().updated == ["b.txt"]
    assert app.search("第三版乙活动开展了几次？").passages[0].source == "b.txt"


# Bounded work: passages per file, failures remembered by content hash


@slow
def test_a_file_with_too_many_passages_is_refused_before_embedding_and_remembered(tmp_path, encoder):
    from retrieval.store import update_index

    many = "工作报告\n" + "".join(f"{n}. 第{n}项工作。" + "内容" * 300 + "\n" for n in range(1, 40))
    settings = make(tmp_path, {"a.txt": report("正常报告"), "many.txt": many}, max_chunks=20)
    (settings.corpus_dir / "bad.docx").write_bytes(b"PK\x03\x04" + os.urandom(4000))
    events = Events()
    result = update_index(settings, encoder, progress=events)
    assert result.errors["many.txt"].endswith(" passages in one file (limit 20, max_chunks)")
    assert result.errors["bad.docx"].startswith("corrupt .docx")
    assert max(e.total for e in events.events if e.stage.value == "embedding") == 2  # a.txt's only
    # the next runs do not read them again (same content), and still name them
    (settings.corpus_dir / "c.txt").write_text(report("新增报告"), encoding="utf-8")
    events = Events()
    again = update_index(settings, encoder, progress=events)
    assert events.read() == ["c.txt"] and again.errors == result.errors
    # changed content is tried again
    (settings.corpus_dir / "many.txt").write_text(report("改好了"), encoding="utf-8")
    events = Events()
    assert update_index(settings, encoder, progress=events).added == ["many.txt"] and events.read() == ["many.txt"]


# 8. Index write failures: one line each; query answers from the last good index


def mount_tmpfs(path: Path, size_kb: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
                                           capture_output=True).returncode:
        pytest.skip("needs root to mount a small tmpfs (disk full / read-only index folder)")


@pytest.fixture
def mounts():
    done = []
    yield done
    for path in done:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@slow
def test_an_index_path_that_is_a_file_is_one_line(tmp_path):
    settings = make(tmp_path, {"a.txt": report("甲")})
    settings.index_dir.write_text("not a folder")
    read = (f"error: cannot read the index in {settings.index_dir}: that path is a file, not a folder (give "
            "--index-dir a folder, or move the file away)")
    (tmp_path / "new.txt").write_text(report("乙"), encoding="utf-8")
    for command in (["index"], ["query", "红色走读活动开展了几次？"], ["query", "--json", "党建"], ["library"],
                    ["compare", "存在问题"], ["add", tmp_path / "new.txt"], ["reindex", "a.txt"], ["serve", "--port", "1"]):
        run = cli(*command, *dirs(settings))  # cli() asserts there is no traceback
        assert run.returncode == 1 and run.out == "", (command, run.out)
        assert run.err.strip() in (read, read.replace("read", "write", 1) + "; the index in use was not changed"), \
            (command, run.err)
    assert settings.index_dir.read_text() == "not a folder"


@slow
def test_a_command_that_fails_early_lets_the_model_conversion_it_began_finish(tmp_path, monkeypatch):
    # The query starts loading the model beside its index check; on a first start that load converts
    # it. Exiting under it aborted the process (exit -6) or left the conversion cut off half done.
    monkeypatch.setenv("YANDU_MODELS", str(tmp_path / "models"))
    settings = make(tmp_path, {"a.txt": report("甲")})
    settings.index_dir.write_text("not a folder")
    run = cli("query", "红色走读活动开展了几次？", *dirs(settings))
    assert run.returncode == 1 and run.out == ""
    assert run.err.splitlines()[0].startswith(f"error: cannot read the index in {settings.index_dir}: "), run.err
    assert "terminate" not in run.err
    assert list((tmp_path / "models" / "onnx").glob("*/model-*.onnx")), run.err


@slow
def test_ctrl_c_while_the_model_converts_says_so_and_a_second_one_quits(tmp_path, monkeypatch):
    import signal
    import threading

    monkeypatch.setenv("YANDU_MODELS", str(tmp_path / "models"))
    settings = make(tmp_path, {"a.txt": report("甲")})
    settings.index_dir.write_text("not a folder")
    # Ctrl-C as a terminal sends it: a test run started in the background (``pytest &``) ignores SIGINT, and a
    # child that inherits that disposition never turns it into KeyboardInterrupt.
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "query", "党建", *map(str, dirs(settings))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()

    def seen(text: str, within: float = 120) -> bool:
        end = time.monotonic() + within
        while time.monotonic() < end and not any(text in line for line in lines):
            time.sleep(0.1)
        return any(text in line for line in lines)

    try:
        assert seen("error: cannot read the index"), lines  # the query has failed; the conversion goes on
        proc.send_signal(signal.SIGINT)
        assert seen("press Ctrl-C again to quit now", 30), lines
        assert proc.poll() is None  # still waiting for the conversion
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
    assert not any("terminate" in line or "Traceback" in line for line in lines), lines


@slow
def test_disk_full_and_read_only_index_are_one_line_and_query_answers(tmp_path, encoder, mounts):
    from retrieval.store import update_index

    built = make(tmp_path / "built", {"a.txt": report("红色走读")})
    update_index(built, encoder)
    sizes = [p.stat().st_size for p in built.index_dir.rglob("*") if p.is_file()]
    index_dir = tmp_path / "small"
    mount_tmpfs(index_dir, sum(-(-s // 4096) * 4 for s in sizes) + 8)  # what the index takes, and 8 KB
    mounts.append(index_dir)
    shutil.copytree(built.index_dir, index_dir, dirs_exist_ok=True)
    settings = built.with_overrides(index_dir=index_dir)
    (settings.corpus_dir / "b.txt").write_text(report("新增报告"), encoding="utf-8")
    run = cli("index", *dirs(settings))
    assert run.returncode == 1 and run.out == "", run.err
    assert run.err.strip().splitlines()[-1] == (f"error: cannot write the index in {index_dir}: 磁盘已满 (the disk is "
                                                "full); the index in use was not changed")
    run = cli("query", "红色走读活动开展了几次？", "--json", *dirs(settings))
    assert run.returncode == 0 and json.loads(run.out)["passages"][0]["source"] == "a.txt"
    assert "index not updated: cannot write the index" in run.err
    subprocess.run(["mount", "-o", "remount,ro", str(index_dir)], check=True)
    run = cli("index", *dirs(settings))
    assert run.returncode == 1
    assert run.err.strip().splitlines()[-1] == (f"error: cannot write the index in {index_dir}: the folder is "
                                                "read-only (no permission to write); the index in use was not changed")
    run = cli("query", "红色走读活动开展了几次？", "--json", *dirs(settings))
    assert run.returncode == 0 and json.loads(run.out)["passages"][0]["source"] == "a.txt"


# --- the web: nothing leaked, login throttled, listens at once, uploads leave nothing behind -------


def test_login_throttle_grows_per_address_and_name_and_a_success_clears_it():
    from retrieval.access.throttle import SignInThrottle

    now = [0.0]
    throttle = SignInThrottle(first=1.0, most=8.0, clock=lambda: now[0])
    assert [round(throttle.failed("10.0.0.1", "alice")) for _ in range(5)] == [1, 2, 4, 8, 8]
    assert 7 < throttle.wait_left("10.0.0.1", "alice") <= 8
    assert throttle.wait_left("10.0.0.1", "bob") == 0  # a colleague behind the same address is not locked out
    throttle.succeeded("10.0.0.1", "alice")
    assert throttle.wait_left("10.0.0.1", "alice") == 0 and round(throttle.failed("10.0.0.1", "alice")) == 1


def test_web_shows_line_forging_names_on_one_line():
    from retrieval.web.batch import UploadBatch
    from retrieval.web.render import status_markdown

    batch = UploadBatch.of([FORGED])
    batch.done([{"original": FORGED, "name": "", "outcome": "rejected", "reason": "不支持的文件类型",
                 "passages": 0, "duplicate_of": None}])
    shown = batch.html()
    assert len(shown.splitlines()) == 1 and "\x1b" not in shown and "evil\\n1 reports" in shown
    status = status_markdown({"reports": 1, "chunks": 2, "model": "m", "updated": None,
                              "errors": {FORGED: "empty file", "ok.txt": "empty file"}})
    assert sum("empty file" in line for line in status.splitlines()) == 2 and "\x1b" not in status


def test_only_gradio_upload_copies_are_discarded(tmp_path, monkeypatch):
    from retrieval.web.handlers import discard_uploads

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    copy = tmp_path / "gradio" / "abc123" / "报告.txt"
    copy.parent.mkdir(parents=True)
    copy.write_text("x", encoding="utf-8")
    mine = tmp_path / "mine.txt"
    mine.write_text("y", encoding="utf-8")
    discard_uploads([str(copy), str(mine)])
    assert not copy.parent.exists() and mine.exists()


def get(url: str, cookie: str = "") -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def login(url: str, password: str) -> tuple[int, str, str]:
    """POST /login as the page does; (status, body, cookie header to send back)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode({"username": "alice", "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=data), timeout=30) as r:
            cookies = [c.split(";")[0] for c in r.headers.get_all("Set-Cookie") or []]
            return r.status, r.read().decode(), "; ".join(cookies)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), ""


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, encoder):
    from test_web import Server

    from retrieval.store import update_index

    folder = tmp_path_factory.mktemp("auth")
    settings = make(folder, {"机密单位甲2019.txt": report("红色走读", year=2019), "机密单位乙.txt": report("绿色骑行")})
    update_index(settings, encoder)
    srv = Server(folder, "--auth", "alice:s3cret").wait()
    yield srv
    srv.stop()


@slow
def test_the_login_page_shows_no_report_names_years_or_api(auth_server):
    url = auth_server.url
    for path in ("", "gradio_api/runs", "config", "gradio_api/info", "gradio_api/openapi.json", "gradio_api/info?all_endpoints=true"):
        code, body = get(url + path)
        assert code in (200, 401), (path, code)
        for secret in ("机密单位", "2019", '"/search"', "add_reports", "section_types"):
            assert secret not in body, (path, secret)
    code, _, cookie = login(url, "s3cret")
    assert code == 200
    code, body = get(url, cookie)  # logged in: the page and its API (so the check above can fail) …
    assert code == 200 and '"/search"' in body and "机密单位" not in body  # … whose config names no report:
    from gradio_client import Client  # each user's reports come with their own session

    status = Client(url, auth=("alice", "s3cret"), verbose=False).predict(api_name="/status")
    assert "机密单位甲2019.txt" in {d["source"] for d in status["documents"]}


@slow
def test_wrong_passwords_wait_longer_each_time(auth_server):
    url = auth_server.url
    code, body, _ = login(url, "guess-1")
    assert code == 401 and "1 秒后再试" in body
    code, body, _ = login(url, "s3cret")  # too soon: refused without checking, even the right password
    assert code == 429
    time.sleep(1.1)
    code, body, _ = login(url, "guess-2")
    assert code == 401 and "2 秒后再试" in body
    time.sleep(1.0)
    assert login(url, "guess-3")[0] == 429
    time.sleep(1.1)
    assert login(url, "s3cret")[0] == 200  # waited long enough: the right password works, the count is cleared
    code, body, _ = login(url, "guess-4")
    assert code == 401 and "1 秒后再试" in body
    time.sleep(1.1)


@slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium is not installed")
def test_the_login_page_still_works_in_a_browser(auth_server):
    from playwright.sync_api import sync_playwright

    time.sleep(1.1)  # any throttle left by another test has expired
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(auth_server.url)
        page.locator("input[type=password]").wait_for()
        assert "机密单位" not in page.content()
        page.locator("input[type=text]").first.fill("alice")
        page.locator("input[type=password]").fill("s3cret")
        page.keyboard.press("Enter")
        page.locator("#yd-question textarea").wait_for()
        browser.close()


@slow
def test_serve_listens_at_once_and_serves_the_last_index_while_an_update_waits_or_fails(tmp_path, encoder):
    from filelock import FileLock
    from gradio_client import Client
    from test_web import Server

    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("红色走读")})
    update_index(settings, encoder)
    (settings.corpus_dir / "b.txt").write_text(report("绿色骑行"), encoding="utf-8")  # stale: needs a run
    lock = FileLock(str(settings.index_dir / ".write.lock"))
    lock.acquire()  # another writer holds the index for as long as this test wants
    srv = Server(tmp_path)
    try:
        srv.wait(indexed=False)  # listening although the index cannot be updated yet
        api = Client(srv.url, verbose=False)
        assert api.predict("红色走读活动开展了几次？", 1, api_name="/search")[0]["source"] == "a.txt"
        assert api.predict(api_name="/status")["indexing"] is True
        lock.release()
        deadline = time.monotonic() + 300
        while api.predict("绿色骑行活动开展了几次？", 1, api_name="/search")[0]["source"] != "b.txt":
            assert time.monotonic() < deadline, srv.output()[-2000:]
            time.sleep(1)
    finally:
        if lock.is_locked:
            lock.release()
        srv.stop()
    # the corpus folder disappears (an unmounted share): the server still starts and answers, and says why
    shutil.rmtree(settings.corpus_dir)
    srv = Server(tmp_path)
    try:
        srv.wait()
        api = Client(srv.url, verbose=False)
        deadline = time.monotonic() + 120
        while not (status := api.predict(api_name="/status")).get("update_error"):
            assert time.monotonic() < deadline, srv.output()[-2000:]
            time.sleep(1)
        assert "does not exist" in status["update_error"] and status["reports"] == 2
        assert api.predict("绿色骑行活动开展了几次？", 1, api_name="/search")[0]["source"] == "b.txt"
    finally:
        srv.stop()
    assert not settings.corpus_dir.exists()


@slow
def test_refused_uploads_leave_nothing_in_gradio_temp_folder(tmp_path, encoder, monkeypatch):
    from gradio_client import Client, handle_file
    from test_web import Server

    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("红色走读")})
    update_index(settings, encoder)
    temp = tmp_path / "gradio-temp"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(temp))
    offered = tmp_path / "offered"
    offered.mkdir()
    (offered / "程序.exe").write_bytes(b"MZ" + b"\0" * 100)
    (offered / "空.txt").write_bytes(b"")
    (offered / "副本.txt").write_text(report("红色走读"), encoding="utf-8")
    srv = Server(tmp_path)
    try:
        srv.wait()
        api = Client(srv.url, verbose=False)
        api.predict([handle_file(str(p)) for p in sorted(offered.iterdir())], api_name="/add_reports")
        left = [p.name for p in temp.rglob("*") if p.is_file() and p.name in {"程序.exe", "空.txt", "副本.txt"}]
        assert left == []
        assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["a.txt"]
    finally:
        srv.stop()


# --- operators' mistakes (issue 22): another model, a deleted index, a full disk, temp files left ---


def test_each_model_and_quantisation_has_an_index_of_its_own():
    from retrieval.store import rebuild_command

    default = Settings().with_overrides(index_dir="/srv/index", corpus_dir="/srv/corpus")
    assert default.variant == "" and default.store_dir == Path("/srv/index")
    int8 = default.with_overrides(quantize="int8")
    bge = default.with_overrides(model="/opt/models/bge-small-zh-v1.5")
    bge_int8 = bge.with_overrides(quantize="int8")
    folders = {s.store_dir for s in (default, int8, bge, bge_int8)}
    assert len(folders) == 4 and all(f.parent == Path("/srv/index/models") for f in folders - {default.store_dir})
    assert int8.variant.startswith("multilingual_e5_small_int8_") and bge.variant.startswith("bge_small_zh_v1_5_")
    assert all(v.replace("_", "").isalnum() for v in (int8.variant, bge.variant))  # a Milvus collection name too
    assert rebuild_command(bge_int8) == ("YANDU_QUANTIZE=int8 python app.py index --rebuild --corpus /srv/corpus "
                                         "--index-dir /srv/index --model /opt/models/bge-small-zh-v1.5")


def test_a_full_disk_says_so_in_chinese():
    import errno

    from retrieval.errors import os_reason
    from retrieval.store.indexer import write_failure

    short = OSError("120192 requested and 15328 written")  # numpy's short write: no errno
    assert os_reason(short) == os_reason(OSError(errno.ENOSPC, "No space left on device")) == "磁盘已满"
    assert os_reason(OSError(errno.EACCES, "Permission denied")) == "Permission denied"
    assert write_failure(Path("/srv/index"), short) == ("cannot write the index in /srv/index: 磁盘已满 (the disk is "
                                                        "full); the index in use was not changed")


def test_temp_folders_of_stopped_servers_are_swept_and_a_running_ones_kept(tmp_path):
    from retrieval.web.temp import LEGACY_AGE, expire_uploads, sweep_left_behind

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone, running = int(dead.stdout), os.getppid()  # a process that has exited; one that runs (pytest's parent)
    for name in (f"yandu-{gone}", f"yandu-{running}", f"yandu-{os.getpid()}", "yandu-export-old", "yandu-export-new",
                 "gradio", "yandu-12x"):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "file.txt").write_text("x", encoding="utf-8")
    old = time.time() - LEGACY_AGE - 60
    os.utime(tmp_path / "yandu-export-old", (old, old))
    removed = sweep_left_behind(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f"yandu-{gone}", "yandu-export-old"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"yandu-{running}", f"yandu-{os.getpid()}",
                                                                 "yandu-export-new", "gradio", "yandu-12x"])
    # uploads no request claimed expire after the TTL, with their folders; fresh ones stay
    stale, fresh = tmp_path / "gradio" / "h1" / "a.txt", tmp_path / "gradio" / "h2" / "b.txt"
    for path in (stale, fresh):
        path.parent.mkdir()
        path.write_text("x", encoding="utf-8")
    uploaded = {str(stale), str(fresh)}
    assert expire_uploads(uploaded, age=600, now=time.time() + 300) == 0
    assert expire_uploads({str(stale)}, age=600, now=time.time() + 601) == 1
    assert not stale.parent.exists() and fresh.exists()


def test_estimates_read_as_the_page_says_them():
    from retrieval.web.handlers import about

    assert [about(s) for s in (None, 2, 14, 38, 55, 100, 400)] == [
        "正在估计时间", "即将完成", "约 10 秒", "约 40 秒", "约 1 分钟", "约 2 分钟", "约 7 分钟"]


@slow
def test_another_model_gets_its_own_index_and_never_rebuilds_the_shared_one(tmp_path, encoder):
    from retrieval.encode import load_encoder
    from retrieval.errors import ModelMismatch
    from retrieval.store import current_generation, update_index

    settings = make(tmp_path, {"a.txt": report("红色走读"), "b.txt": report("绿色骑行")})
    update_index(settings, encoder)
    live = current_generation(settings.index_dir)
    made = (live / "manifest.json").stat().st_mtime_ns
    other = tmp_path / "other-e5"  # the same weights under another name: another model id, as --model gives
    shutil.copytree(Settings().models_dir / "multilingual-e5-small", other)
    changed = settings.with_overrides(model=str(other))
    run = cli("query", "绿色骑行活动开展了几次？", "--json", "--model", other, *dirs(settings))
    assert run.returncode == 0 and json.loads(run.out)["passages"][0]["source"] == "b.txt"
    assert changed.store_dir.parent == settings.index_dir / "models"
    assert consistent(changed).manifest.model_id == str(other)
    # the default index was not touched: same generation, same manifest, and default queries need no run
    assert current_generation(settings.index_dir) == live and (live / "manifest.json").stat().st_mtime_ns == made
    assert not app_for(settings, encoder).ensure_index()
    # an index found built with another model (a folder from an older version) is refused, naming the command
    shutil.rmtree(changed.store_dir)
    shutil.copytree(settings.index_dir, changed.store_dir, ignore=shutil.ignore_patterns("models"))
    other_encoder = load_encoder(changed)
    with pytest.raises(ModelMismatch, match=r"built with multilingual-e5-small, not .*other-e5.*left as it is.*"
                                            r"python app.py index --rebuild .*--model .*other-e5"):
        update_index(changed, other_encoder)
    run = cli("query", "绿色骑行活动开展了几次？", "--model", other, *dirs(settings))
    assert run.returncode == 1 and run.out == "" and len(run.err.strip().splitlines()) == 1
    assert run.err.startswith("error: the index in ") and "app.py index --rebuild" in run.err
    assert consistent(changed).manifest.model_id == "multilingual-e5-small"  # left as it was
    assert update_index(changed, other_encoder, rebuild=True).rebuilt  # the command it names rebuilds it
    assert consistent(changed).manifest.model_id == str(other)


@slow
def test_a_milvus_lite_file_in_folders_that_do_not_exist_is_created(tmp_path):
    pytest.importorskip("pymilvus")
    settings = make(tmp_path, {"a.txt": report("红色走读"), "b.txt": report("绿色骑行")})
    db, index_dir = tmp_path / "new" / "milvus" / "yandu.db", tmp_path / "also" / "new" / "index"
    args = ("--corpus", settings.corpus_dir, "--index-dir", index_dir, "--store", db)
    run = cli("index", *args)
    assert run.returncode == 0, run.err
    assert run.out.strip().splitlines()[-1].startswith("2 reports")
    run = cli("query", "绿色骑行活动开展了几次？", "--json", *args)
    assert run.returncode == 0 and json.loads(run.out)["passages"][0]["source"] == "b.txt"
    assert db.exists() and (index_dir / "embeddings.sqlite").is_file()


@slow
def test_a_deleted_index_folder_under_serve_is_noticed_served_from_memory_and_rebuilt(tmp_path, encoder):
    from gradio_client import Client
    from test_web import Server

    from retrieval.store import current_generation, update_index

    settings = make(tmp_path, {"a.txt": report("红色走读"), "b.txt": report("绿色骑行")})
    update_index(settings, encoder)
    srv = Server(tmp_path)
    try:
        srv.wait()
        api = Client(srv.url, verbose=False)
        assert api.predict("绿色骑行活动开展了几次？", 1, api_name="/search")[0]["source"] == "b.txt"
        shutil.rmtree(settings.index_dir)  # an operator's mistake
        status = api.predict(api_name="/status")
        assert status["index_lost"] == str(settings.index_dir) and status["reports"] == 2, status
        assert api.predict("绿色骑行活动开展了几次？", 1, api_name="/search")[0]["source"] == "b.txt"
        deadline = time.monotonic() + 300
        while (status := api.predict(api_name="/status"))["index_lost"] or current_generation(settings.index_dir) is None:
            assert time.monotonic() < deadline, srv.output()[-2000:]
            assert status["reports"] == 2 and status["state"] == "ready"  # never "0 份报告" meanwhile
            time.sleep(1)
        assert "was deleted: answering from the index in memory; rebuilding it" in srv.output()
        assert len(consistent(settings).documents()) == 2
        assert api.predict("红色走读活动开展了几次？", 1, api_name="/search")[0]["source"] == "a.txt"
    finally:
        srv.stop()


@slow
def test_a_killed_serve_leaves_nothing_for_good_and_unclaimed_uploads_expire(tmp_path, encoder, monkeypatch):
    import signal
    import urllib.request

    from gradio_client import Client
    from test_web import Server

    from retrieval.store import update_index

    settings = make(tmp_path, {"a.txt": report("红色走读")})
    update_index(settings, encoder)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(temp))
    monkeypatch.setenv("YANDU_UPLOAD_TTL", "4")
    srv = Server(tmp_path)
    try:
        srv.wait()
        mine = temp / f"yandu-{srv.proc.pid}"
        assert (mine / "gradio").is_dir() and (mine / "export").is_dir()
        Client(srv.url, verbose=False).predict("红色走读活动开展了几次？", api_name="/chat")  # writes an export
        assert list((mine / "export").rglob("*.md"))
        body = (b"--XX\r\nContent-Disposition: form-data; name=\"files\"; filename=\"raw.txt\"\r\n"
                b"Content-Type: text/plain\r\n\r\n" + report("无人认领").encode() + b"\r\n--XX--\r\n")
        request = urllib.request.Request(srv.url + "gradio_api/upload", data=body,
                                         headers={"Content-Type": "multipart/form-data; boundary=XX"})
        with urllib.request.urlopen(request, timeout=30) as r:
            raw = Path(json.loads(r.read())[0])
        assert raw.is_file() and raw.is_relative_to(mine / "gradio")
        deadline = time.monotonic() + 60
        while raw.exists():  # unclaimed: gone after the TTL (4 s here; 10 minutes by default)
            assert time.monotonic() < deadline, srv.output()[-2000:]
            time.sleep(0.5)
        srv.proc.send_signal(signal.SIGKILL)  # killed: no cleanup runs
        srv.proc.wait(15)
    finally:
        srv.stop()
    assert mine.exists()
    srv = Server(tmp_path)
    try:
        srv.wait()
        assert not mine.exists() and (temp / f"yandu-{srv.proc.pid}").is_dir()  # swept at start
    finally:
        srv.stop()
    assert not (temp / f"yandu-{srv.proc.pid}").exists()  # a stopped server removes its own


@slow
def test_the_first_start_waits_for_the_index_showing_the_stage_and_the_api_tells_not_ready_from_no_match(tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from test_web import SEEDS, Server

    settings = make(tmp_path)
    for seed in SEEDS:  # five reports: the first index takes half a minute on the 2-core box
        shutil.copy(seed, settings.corpus_dir / seed.name)
    srv = Server(tmp_path)
    try:
        srv.wait(indexed=False)
        # one session per job and one for the polls: see test_web.client
        chat = Client(srv.url, verbose=False).submit("意识形态工作存在哪些问题？", api_name="/chat")
        search = Client(srv.url, verbose=False).submit("意识形态工作存在哪些问题？", 3, api_name="/search")
        api = Client(srv.url, verbose=False)
        states = []
        while not (chat.done() and search.done()):
            status = api.predict(api_name="/status")
            states.append((status["state"], status["message"]))
            time.sleep(0.5)
        status = api.predict(api_name="/status")  # the jobs may end between the last poll and "ready"
        states.append((status["state"], status["message"]))
        waiting = [m for s, m in states if s in ("preparing_model", "indexing")]
        assert waiting, states
        assert all(m.startswith(("正在准备模型（约", "正在建立索引")) for m in waiting), waiting
        assert states[-1] == ("ready", "")
        passages = search.result()
        assert passages and passages[0]["section_type"] == "problem"  # waited for the index: answered, not []
        frames = [out[0][-1]["content"] for out in chat.outputs() if out and out[0]]
        assert any("请稍候" in str(f) and "正在" in str(f) for f in frames), frames  # the stage shown while waiting
        assert "找到" in str(frames[-1]) and "意识形态" in str(frames[-1])
        print(f"first start: {len(waiting)} status polls while waiting; e.g. {waiting[len(waiting) // 2]}")
    finally:
        srv.stop()
    # an index with no reports: the API says so with a status, never a bare []
    empty = tmp_path / "empty"
    make(empty)
    srv = Server(empty)
    try:
        srv.wait()
        api = Client(srv.url, verbose=False)
        deadline = time.monotonic() + 120
        while (status := api.predict(api_name="/status"))["state"] != "empty":
            assert time.monotonic() < deadline and status["state"] in ("preparing_model", "indexing"), status
            time.sleep(1)
        assert status["message"].startswith("索引为空")
        with pytest.raises(AppError) as raised:
            api.predict("意识形态工作存在哪些问题？", 3, api_name="/search")
        assert raised.value.title == "empty" and raised.value.message.startswith("索引为空")
        with pytest.raises(AppError, match="索引为空"):
            api.predict("存在问题", [], [], [], api_name="/compare")
    finally:
        srv.stop()
