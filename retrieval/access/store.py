"""Accounts, groups and grants per knowledge base, in one SQLite file (``bases_dir/access.sqlite``).

Invariants: passwords are stored only as argon2id hashes (argon2-cffi; a user signing in through LDAP
has none); names are validated and compared without regard to ASCII case (``Alice`` is ``alice``, as in
LDAP); a user or group has at most one role per knowledge base (granting again replaces it); the last
admin cannot be removed or demoted; every change is one transaction and, when the store has an audit log,
is logged in it before it is committed (no change without its entry). One connection behind a lock:
safe to share between threads; the CLI and the web server may use the file at once.
"""
from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import YanduError
from .audit import AuditLog, open_sqlite
from .principal import ROLES, Principal

log = logging.getLogger(__name__)

MAX_NAME = 64
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # longer is refused, not hashed (a megabyte "password" is a denial of service, not a secret)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT,              -- NULL: signs in through LDAP only
    admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL COLLATE NOCASE REFERENCES groups(name) ON DELETE CASCADE ON UPDATE CASCADE,
    user TEXT NOT NULL COLLATE NOCASE REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (grp, user)
);
CREATE TABLE IF NOT EXISTS grants (
    base TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'editor')),
    user TEXT COLLATE NOCASE REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    grp TEXT COLLATE NOCASE REFERENCES groups(name) ON DELETE CASCADE ON UPDATE CASCADE,
    CHECK ((user IS NULL) <> (grp IS NULL)),
    UNIQUE (base, user), UNIQUE (base, grp)
);
"""


class AccessError(YanduError, ValueError):
    """A change to accounts, groups or grants that cannot be made; ``str(e)`` is one line."""


@dataclass(frozen=True)
class User:
    name: str
    admin: bool
    groups: tuple[str, ...]
    has_password: bool  # False: signs in through LDAP only
    created: str  # ISO 8601, local time


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    base: str
    role: str
    user: str | None = None
    group: str | None = None


def check_name(name, what: str = "user") -> str:
    """``name`` stripped and NFKC-normalised (full-width letters are the ASCII ones), or AccessError:
    1–64 characters, no control or invisible format characters; a user name has no ":" or "/"."""
    if not isinstance(name, str):
        raise AccessError(f"{what} name must be text (got {type(name).__name__})")
    clean = unicodedata.normalize("NFKC", name).strip()
    if not 1 <= len(clean) <= MAX_NAME:
        raise AccessError(f"{what} name must be 1–{MAX_NAME} characters (got {len(clean)})")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in clean):
        raise AccessError(f"{what} name {clean!r} contains a control or invisible character")
    if what == "user" and (":" in clean or "/" in clean):
        raise AccessError(f"user name {clean!r} must not contain ':' or '/'")
    return clean


def _check_password(password) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccessError(f"密码至少 {MIN_PASSWORD} 个字符 (a password needs at least {MIN_PASSWORD} characters)")
    if len(password) > MAX_PASSWORD:
        raise AccessError(f"密码过长 (a password has at most {MAX_PASSWORD} characters)")
    return password


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise AccessError("accounts need argon2-cffi: pip install -r requirements.txt") from None
    # argon2id, RFC 9106's low-memory profile (t=3, m=64 MiB, p=4): one verification took 0.22–0.29 s on the
    # shared 2-core AMD EPYC at load 3.5, up to 1.4 s at load 5 (a sign-in, not a request: sessions follow)
    return PasswordHasher()


class AccessStore:
    """``AccessStore(path, audit=None, hasher=None)``: the accounts in the SQLite file ``path`` (made when
    missing); ``audit`` logs every change; ``hasher`` is an ``argon2.PasswordHasher`` (default parameters
    when None)."""

    def __init__(self, path: Path, audit: AuditLog | None = None, hasher=None):
        self.path = Path(path)
        self.audit = audit
        self.hasher = hasher or _hasher()
        self._dummy: str | None = None  # a hash of a random secret: verified for names that have none
        self._lock = threading.RLock()
        self._conn = open_sqlite(self.path, _SCHEMA, "账户库", AccessError)

    # --- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _change(self, by: str | None, action: str, **entry):
        """One write transaction; its audit entry is written before the commit (an audit failure
        rolls the change back)."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise AccessError(f"{self.path.name}: 账户库暂不可写 (cannot write the account store: {e})") from None
            try:
                yield conn
                if self.audit is not None:
                    self.audit.record(by, action, **entry)
                conn.execute("COMMIT")
            except BaseException as e:
                conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.IntegrityError):  # a user or group removed meanwhile
                    raise AccessError(f"changed meanwhile, try again ({e})") from None
                if isinstance(e, sqlite3.Error):
                    raise AccessError(f"{self.path.name}: 账户库写入失败 (cannot write the account store: {e})") from None
                raise

    def _one(self, sql: str, *params):
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _all(self, sql: str, *params) -> list:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _user_row(self, name: str):
        return self._one("SELECT name, password_hash, admin FROM users WHERE name = ?", name)

    def _existing(self, table: str, name: str, what: str) -> str:
        row = self._one(f"SELECT name FROM {table} WHERE name = ?", name)
        if row is None:
            raise AccessError(f"没有{'用户' if what == 'user' else '用户组'} {name!r} (no such {what})")
        return row[0]

    def _admins(self) -> int:
        return self._one("SELECT count(*) FROM users WHERE admin = 1")[0]

    def _hash(self, password: str) -> str:
        return self.hasher.hash(_check_password(password))

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # --- users ----------------------------------------------------------------------------------

    def has_accounts(self) -> bool:
        """Whether any account exists (then the web page asks everyone to sign in)."""
        return self._one("SELECT 1 FROM users LIMIT 1") is not None

    def add_user(self, name: str, password: str | None = None, admin: bool = False, *, by: str | None = None) -> None:
        """A new account; ``password`` None makes one that signs in through LDAP only."""
        name = check_name(name)
        digest = None if password is None else self._hash(password)
        with self._change(by, "user_add", target=name, detail={"admin": bool(admin), "ldap": digest is None}) as c:
            if self._user_row(name):
                raise AccessError(f"用户 {name!r} 已存在 (user already exists)")
            c.execute("INSERT INTO users(name, password_hash, admin, created) VALUES (?, ?, ?, ?)",
                      (name, digest, int(bool(admin)), _now()))

    def set_password(self, name: str, password: str | None, *, by: str | None = None) -> None:
        """Set (or, with None, remove: LDAP only) a user's password."""
        name = self._existing("users", check_name(name), "user")
        digest = None if password is None else self._hash(password)
        with self._change(by, "password_set", target=name, detail={"ldap": digest is None}) as c:
            c.execute("UPDATE users SET password_hash = ? WHERE name = ?", (digest, name))

    def set_admin(self, name: str, admin: bool, *, by: str | None = None) -> None:
        """Make a user an admin or not; demoting the last admin is refused."""
        name = self._existing("users", check_name(name), "user")
        with self._change(by, "admin_set", target=name, detail={"admin": bool(admin)}) as c:
            if not admin and self._user_row(name)[2] and self._admins() == 1:
                raise AccessError(f"{name!r} 是最后一位管理员 (the last admin cannot be demoted; make another admin first)")
            c.execute("UPDATE users SET admin = ? WHERE name = ?", (int(bool(admin)), name))

    def remove_user(self, name: str, *, by: str | None = None) -> None:
        """Remove a user with their memberships and grants; removing the last admin is refused."""
        name = self._existing("users", check_name(name), "user")
        with self._change(by, "user_remove", target=name) as c:
            if self._user_row(name)[2] and self._admins() == 1:
                raise AccessError(f"{name!r} 是最后一位管理员 (the last admin cannot be removed; make another admin first)")
            c.execute("DELETE FROM users WHERE name = ?", (name,))

    def users(self) -> list[User]:
        groups: dict[str, list[str]] = {}
        for grp, user in self._all("SELECT grp, user FROM members ORDER BY grp"):
            groups.setdefault(user, []).append(grp)  # members hold the stored spelling (_existing)
        return [User(name, bool(admin), tuple(groups.get(name, ())), digest is not None, created)
                for name, digest, admin, created in
                self._all("SELECT name, password_hash, admin, created FROM users ORDER BY name")]

    # --- groups ---------------------------------------------------------------------------------

    def add_group(self, name: str, *, by: str | None = None) -> None:
        """A new group (an LDAP group of the same name maps to it at sign-in)."""
        name = check_name(name, "group")
        with self._change(by, "group_add", target=name) as c:
            if self._one("SELECT 1 FROM groups WHERE name = ?", name):
                raise AccessError(f"用户组 {name!r} 已存在 (group already exists)")
            c.execute("INSERT INTO groups(name, created) VALUES (?, ?)", (name, _now()))

    def remove_group(self, name: str, *, by: str | None = None) -> None:
        """Remove a group with its memberships and grants."""
        name = self._existing("groups", check_name(name, "group"), "group")
        with self._change(by, "group_remove", target=name) as c:
            c.execute("DELETE FROM groups WHERE name = ?", (name,))

    def add_member(self, group: str, user: str, *, by: str | None = None) -> None:
        group = self._existing("groups", check_name(group, "group"), "group")
        user = self._existing("users", check_name(user), "user")
        with self._change(by, "member_add", target=user, detail={"group": group}) as c:
            c.execute("INSERT OR IGNORE INTO members(grp, user) VALUES (?, ?)", (group, user))

    def remove_member(self, group: str, user: str, *, by: str | None = None) -> None:
        group, user = check_name(group, "group"), check_name(user)
        with self._change(by, "member_remove", target=user, detail={"group": group}) as c:
            if not c.execute("DELETE FROM members WHERE grp = ? AND user = ?", (group, user)).rowcount:
                raise AccessError(f"{user!r} 不在用户组 {group!r} 中 (not a member)")

    def groups(self) -> list[Group]:
        members: dict[str, list[str]] = {}
        for grp, user in self._all("SELECT grp, user FROM members ORDER BY user"):
            members.setdefault(grp, []).append(user)
        return [Group(name, tuple(members.get(name, ())))
                for (name,) in self._all("SELECT name FROM groups ORDER BY name")]

    # --- grants ---------------------------------------------------------------------------------

    def _holder(self, user, group) -> tuple[str, str]:
        """("user" | "grp", the stored name) of exactly one of user/group."""
        if (user is None) == (group is None):
            raise AccessError("give exactly one of a user or a group")
        if user is not None:
            return "user", self._existing("users", check_name(user), "user")
        return "grp", self._existing("groups", check_name(group, "group"), "group")

    def grant(self, base: str, role: str, *, user: str | None = None, group: str | None = None,
              by: str | None = None) -> None:
        """Give a user or group ``role`` on knowledge base ``base`` (replacing a role they had there)."""
        base = check_name(base, "knowledge base")
        if role not in ROLES:
            raise AccessError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
        column, holder = self._holder(user, group)
        with self._change(by, "grant", base=base, target=holder,
                          detail={"role": role, "kind": "user" if column == "user" else "group"}) as c:
            if not c.execute(f"UPDATE grants SET role = ? WHERE base = ? AND {column} = ?", (role, base, holder)).rowcount:
                c.execute(f"INSERT INTO grants(base, role, {column}) VALUES (?, ?, ?)", (base, role, holder))

    def revoke(self, base: str, *, user: str | None = None, group: str | None = None, by: str | None = None) -> None:
        """Take a user's or group's role on ``base`` away (AccessError when they had none)."""
        base = check_name(base, "knowledge base")
        if (user is None) == (group is None):
            raise AccessError("give exactly one of a user or a group")
        column, holder = ("user", check_name(user)) if user is not None else ("grp", check_name(group, "group"))
        with self._change(by, "revoke", base=base, target=holder,
                          detail={"kind": "user" if column == "user" else "group"}) as c:
            if not c.execute(f"DELETE FROM grants WHERE base = ? AND {column} = ?", (base, holder)).rowcount:
                raise AccessError(f"{holder!r} 在知识库 {base!r} 上没有授权 (no grant to revoke)")

    def grants(self, base: str | None = None) -> list[Grant]:
        sql = "SELECT base, role, user, grp FROM grants"
        rows = self._all(sql + " WHERE base = ? ORDER BY base, grp, user", base) if base is not None \
            else self._all(sql + " ORDER BY base, grp, user")
        return [Grant(*row) for row in rows]

    def rename_base(self, old: str, new: str, *, by: str | None = None) -> None:
        """Grants on ``old`` become grants on ``new`` (refused when ``new`` has grants of its own)."""
        old, new = check_name(old, "knowledge base"), check_name(new, "knowledge base")
        with self._change(by, "base_rename", base=new, target=old) as c:
            if old != new and c.execute("SELECT 1 FROM grants WHERE base = ?", (new,)).fetchone():
                raise AccessError(f"知识库 {new!r} 已有授权 (the knowledge base {new!r} already has grants)")
            c.execute("UPDATE grants SET base = ? WHERE base = ?", (new, old))

    def drop_base(self, base: str, *, by: str | None = None) -> None:
        """Remove every grant on ``base`` (the knowledge base is gone)."""
        base = check_name(base, "knowledge base")
        with self._change(by, "base_drop", base=base) as c:
            c.execute("DELETE FROM grants WHERE base = ?", (base,))

    # --- signing in -----------------------------------------------------------------------------

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s local password. Takes one argon2 verification whatever
        the name: an unknown or invalid name, or an LDAP-only user, is checked against a dummy hash (so
        the time taken does not tell which names exist). A hash made with older parameters is renewed."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            row = self._user_row(check_name(name))
        except AccessError:
            row = None
        digest = row[1] if row and row[1] else None
        ok = isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD
        try:
            self.hasher.verify(digest or self._dummy_hash(), password if ok else "\0")
        except (VerificationError, InvalidHashError):
            return False
        if not (ok and digest):
            return False
        if self.hasher.check_needs_rehash(digest):
            renewed = self.hasher.hash(password)
            with self._lock:  # unless the password was changed meanwhile
                self._conn.execute("UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                                   (renewed, row[0], digest))
        return True

    def principal(self, name: str, *, source: str = "local", groups=(), admin: bool | None = None) -> Principal:
        """Who ``name`` is now: their stored groups ∪ ``groups`` (from LDAP; one the store does not know
        is kept under its own name), the knowledge bases granted to them or any of those groups (editor
        beats reader), admin when stored so or ``admin`` says so. A name without a row (an LDAP user) is
        known by its groups alone."""
        name = check_name(name)
        row = self._user_row(name)
        name = row[0] if row else name
        mine = {g for (g,) in self._all("SELECT grp FROM members WHERE user = ?", name)}
        for g in groups:
            try:
                g = check_name(g, "group")
            except AccessError:
                log.debug("LDAP group %r of %s ignored: not a valid group name", g, name)
                continue
            stored = self._one("SELECT name FROM groups WHERE name = ?", g)  # the store's spelling
            mine.add(stored[0] if stored else g)
        rows = self._all("SELECT base, role FROM grants WHERE user = ?", name)
        if mine:
            rows += self._all(f"SELECT base, role FROM grants WHERE grp IN ({','.join('?' * len(mine))})", *mine)
        roles: dict[str, str] = {}
        for base, role in rows:
            if roles.get(base) != "editor":
                roles[base] = role
        return Principal(name=name, admin=bool(row and row[2]) or bool(admin), groups=frozenset(mine),
                         bases=tuple(sorted(roles.items())), source=source)

    def authenticate(self, name: str, password: str, directory=None) -> Principal | None:
        """The Principal for a name and password, or None. A user with a local password is checked
        against it alone; anyone else (an LDAP-only account, or no account) through ``directory`` (an
        ``LdapDirectory``) when one is given. Raises LdapUnavailable when the directory cannot be asked.
        Recording the sign-in (with the client's address) in the audit log is the caller's."""
        try:
            name = check_name(name)
        except AccessError:
            self.verify("", "")  # the same cost as any other refusal
            return None
        row = self._user_row(name)
        if directory is None or (row and row[1]):
            return self.principal(name, source="local") if self.verify(name, password) else None
        found = directory.authenticate(name, password)
        if found is None:
            return None
        return self.principal(found.name, source="ldap", groups=found.groups, admin=found.admin)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
