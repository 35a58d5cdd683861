"""The audit log (retrieval/access/audit.py): append-only, filtered newest first, CSV for Excel, safe
across threads, and nothing a writer reported committed is lost when it is killed mid-write."""
from __future__ import annotations

import csv
import io
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta

import pytest

from retrieval.access import ACTIONS, AuditError, AuditLog, write_csv

from conftest import ROOT


@pytest.fixture
def audit(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    yield log
    log.close()


def test_record_and_filter_newest_first(audit):
    audit.record("张三", "sign_in", client="10.0.0.7")
    audit.record("张三", "ask", base="jijian", detail="今年党风廉政建设有哪些举措？")
    audit.record("李四", "open", base="default", target="2023_总结.docx", detail={"page": 3, "段": "（二）"})
    audit.record(None, "sign_in_failed", target="admin' OR 1=1", client="10.0.0.9")
    newest = audit.entries()
    assert [e.action for e in newest] == ["sign_in_failed", "open", "ask", "sign_in"]
    assert [e.label for e in newest] == ["登录失败", "查看原文", "提问", "登录"]
    assert [e.action for e in audit.entries(user="张三")] == ["ask", "sign_in"]
    assert [e.action for e in audit.entries(base="jijian")] == ["ask"]
    assert [e.action for e in audit.entries(action="open")] == ["open"]
    assert len(audit.entries(limit=2)) == 2
    opened = audit.entries(action="open")[0]
    assert opened.detail == '{"page": 3, "段": "（二）"}' and opened.target == "2023_总结.docx"
    assert newest[0].time.tzinfo is not None and abs(newest[0].time.timestamp() - time.time()) < 60
    today = date.today()
    assert len(audit.entries(since=today)) == 4 and len(audit.entries(until=today)) == 4
    assert audit.entries(since=today + timedelta(days=1)) == [] and audit.entries(until=today - timedelta(days=1)) == []
    assert len(audit.entries(since=datetime.now() - timedelta(minutes=5), user="李四")) == 1


def test_unknown_actions_are_refused(audit):
    for action in ("sign-in", "Sign_in", "", "drop table"):
        with pytest.raises(AuditError, match="unknown audit action"):
            audit.record("x", action)
    assert audit.entries() == []
    assert {"sign_in", "sign_in_failed", "sign_out", "ask", "compare", "open", "download", "export", "add", "delete",
            "restore", "purge", "reindex", "rebuild", "base_create", "base_rename", "base_delete", "user_add", "user_remove",
            "password_set", "admin_set", "group_add", "group_remove", "member_add", "member_remove", "grant", "revoke",
            "base_drop", "token_issue", "token_revoke", "feedback"} == set(ACTIONS)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in label) for label in ACTIONS.values())


def test_entries_cannot_be_changed_or_removed(tmp_path, audit):
    audit.record("root", "grant", base="kb", target="g")
    raw = sqlite3.connect(tmp_path / "audit.sqlite")
    for sql in ("UPDATE entries SET user = 'someone else'", "DELETE FROM entries", "DELETE FROM entries WHERE id = 1"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()
    assert [(e.user, e.action) for e in audit.entries()] == [("root", "grant")]


def test_csv_has_bom_chinese_labels_and_no_formulas(tmp_path, audit):
    audit.record("=HYPERLINK(\"http://evil\")", "sign_in_failed", client="10.0.0.1")
    audit.record("王五", "export", base="纪检", detail="+cmd|' /C calc'!A0")
    out = tmp_path / "log.csv"
    assert write_csv(audit.entries(), out) == 2
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "用户", "操作", "操作代码", "知识库", "对象", "详情", "来源地址"]
    assert rows[1][1:4] == ["王五", "导出", "export"] and rows[1][6] == "'+cmd|' /C calc'!A0"
    assert rows[2][1] == "'=HYPERLINK(\"http://evil\")" and rows[2][7] == "10.0.0.1"
    stream = io.StringIO()
    write_csv(audit.entries(), stream)
    assert stream.getvalue() == data.decode("utf-8")


def test_threads_share_one_log(audit):
    def write(n):
        for i in range(40):
            audit.record(f"user{n}", "ask", base="default", detail=str(i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = audit.entries()
    assert len(entries) == 240 and len({e.id for e in entries}) == 240
    assert {e.user for e in entries} == {f"user{n}" for n in range(6)}


def test_not_an_audit_log_is_one_line(tmp_path):
    bad = tmp_path / "audit.sqlite"
    bad.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(AuditError) as e:
        AuditLog(bad)
    assert str(e.value).startswith("audit.sqlite: ") and "\n" not in str(e.value)


WRITER = """
import sys
from retrieval.access.audit import AuditLog
log = AuditLog(sys.argv[1])
i = 0
while True:
    i += 1
    entry = log.record("writer", "ask", base="default", detail="问题 %d " % i + "长" * (i % 300))
    sys.stdout.write("%d\\n" % entry)
    sys.stdout.flush()
"""


@pytest.mark.slow  # five writer processes (~5 s)
def test_entries_reported_committed_survive_kill_9(tmp_path):
    """A writer killed at random moments (SIGKILL: no cleanup) loses no entry it reported written, and the
    log opens, reads and passes SQLite's integrity check afterwards."""
    path = tmp_path / "audit.sqlite"
    rng = random.Random(7)
    reported: list[int] = []
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE)
        first = child.stdout.readline()  # running: killed while writing, not while importing
        time.sleep(rng.uniform(0.02, 0.4))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        lines = (first + rest).decode().split("\n")
        reported += [int(x) for x in lines[:-1]]  # the last piece is "" or a line cut short
    assert len(reported) > 5, reported
    log = AuditLog(path)
    assert log._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids = {e.id for e in log.entries()}
    assert set(reported) <= ids
    log.record("after", "sign_in")  # still writable
    assert log.entries(limit=1)[0].user == "after"
    log.close()
