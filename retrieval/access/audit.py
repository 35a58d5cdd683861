"""The audit log: who did what, when, to which knowledge base — append-only, in SQLite.

Invariants: an entry is on disk when ``record`` returns (WAL, ``synchronous=FULL``); entries are never
changed or removed (triggers refuse UPDATE and DELETE, whoever connects); every action is one of
``ACTIONS`` (an unknown one is refused, so a typo cannot hide an event under a name no filter finds).
One connection behind a lock: safe to share between the web server's threads; several processes may
write at once (SQLite's lock, a busy timeout).
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Iterable

from ..errors import YanduError

# action → what the log page and the CSV call it
ACTIONS: dict[str, str] = {
    "sign_in": "登录", "sign_in_failed": "登录失败", "sign_out": "退出登录",
    "ask": "提问", "compare": "对比", "feedback": "反馈", "open": "查看原文", "download": "下载", "export": "导出",
    "add": "添加报告", "delete": "删除报告", "restore": "恢复报告", "purge": "永久删除报告", "reindex": "重新索引报告",
    "rebuild": "重建索引",
    "base_create": "新建知识库", "base_rename": "重命名知识库", "base_delete": "删除知识库", "base_drop": "移除知识库授权",
    "user_add": "添加用户", "user_remove": "删除用户", "password_set": "设置密码", "admin_set": "设置管理员",
    "group_add": "添加用户组", "group_remove": "删除用户组", "member_add": "加入用户组", "member_remove": "移出用户组",
    "grant": "授权", "revoke": "撤销授权",
    "token_issue": "签发访问令牌", "token_revoke": "撤销访问令牌",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,            -- seconds since the epoch (UTC)
    user TEXT, action TEXT NOT NULL, base TEXT, target TEXT, detail TEXT, client TEXT
);
CREATE INDEX IF NOT EXISTS entries_time ON entries(time);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_CSV_HEADER = ("时间", "用户", "操作", "操作代码", "知识库", "对象", "详情", "来源地址")


class AuditError(YanduError, ValueError):
    """The audit log cannot be opened or written, or an entry is not one the log knows."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: datetime  # local time, timezone-aware
    user: str | None
    action: str
    base: str | None = None
    target: str | None = None
    detail: str | None = None  # text, or JSON when a dict/list was recorded
    client: str | None = None  # the client's address, when the web app knows it

    @property
    def label(self) -> str:
        """The action as users read it (``ACTIONS``)."""
        return ACTIONS.get(self.action, self.action)

    def to_json(self) -> dict:
        return {"id": self.id, "time": self.time.isoformat(timespec="seconds"), "user": self.user,
                "action": self.action, "label": self.label, "base": self.base, "target": self.target,
                "detail": self.detail, "client": self.client}


def _moment(value, *, end: bool = False) -> float | None:
    """Seconds since the epoch of a datetime (naive = local), a number, or a date (its local midnight;
    with ``end``, the next midnight, so ``until=date`` takes the whole day in)."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1 if end else 0), datetime.min.time()).timestamp()
    raise TypeError(f"not a time: {value!r}")


def open_sqlite(path: Path, schema: str, what: str, error: type[YanduError]) -> sqlite3.Connection:
    """A connection to ``path`` (made, readable by its owner only, when new) with WAL, foreign keys,
    ``synchronous=FULL``, a busy timeout and ``schema`` in place; a file that is not SQLite (or not
    this schema's), or a folder that cannot be written, gives ``error`` with one line naming the file
    and ``what`` it should be. Shared by the account store and the log."""
    path = Path(path)
    conn = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.touch(mode=0o600)
        conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(schema)
        return conn
    except (sqlite3.DatabaseError, OSError) as e:
        if conn is not None:
            conn.close()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else " ".join(str(e).split())
        raise error(f"{path.name}: 无法打开{what} (cannot open it: {reason})") from None


class AuditLog:
    """``AuditLog(path)``: the log in the SQLite file ``path`` (made when missing)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_sqlite(self.path, _SCHEMA, "审计日志", AuditError)

    def record(self, user: str | None, action: str, *, base: str | None = None, target: str | None = None,
               detail=None, client: str | None = None) -> int:
        """Append one entry and return its id; it is on disk when this returns. ``detail`` is text or
        anything JSON can write (stored as JSON)."""
        if action not in ACTIONS:
            raise AuditError(f"unknown audit action {action!r}")
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        row = (time.time(), user, action, base, target, detail, client)
        with self._lock:
            try:
                cur = self._conn.execute("INSERT INTO entries(time, user, action, base, target, detail, client) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.Error as e:
                raise AuditError(f"{self.path.name}: 无法写入审计日志 (cannot write the audit log: {e})") from None
        return cur.lastrowid

    def entries(self, since=None, until=None, user: str | None = None, action: str | None = None,
                base: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Entries newest first. ``since`` (inclusive) and ``until`` (exclusive) are datetimes, dates or
        epoch seconds (a date ``until`` includes that day); the other filters match exactly."""
        where, params = [], []
        for clause, value in (("time >= ?", _moment(since)), ("time < ?", _moment(until, end=True)),
                              ("user = ?", user), ("action = ?", action), ("base = ?", base)):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = "SELECT id, time, user, action, base, target, detail, client FROM entries"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [AuditEntry(r[0], datetime.fromtimestamp(r[1]).astimezone(), *r[2:]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _cell(value) -> str:
    """A CSV cell Excel shows as text: a leading = + - @ (a formula: a user name or question is typed by
    anyone) is prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(entries: Iterable[AuditEntry], out: Path | str | IO[str]) -> int:
    """Write entries as CSV (UTF-8 with a BOM, so Excel reads the Chinese) to a file path or an open
    text stream; returns the number of entries written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_HEADER)
    count = 0
    for e in entries:
        writer.writerow([_cell(v) for v in (e.time.strftime("%Y-%m-%d %H:%M:%S"), e.user, e.label, e.action,
                                            e.base, e.target, e.detail, e.client)])
        count += 1
    if isinstance(out, (str, Path)):
        Path(out).write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    else:
        out.write("\ufeff" + buffer.getvalue())
    return count
