"""Personal access tokens for the token API and MCP (``web/tokenapi.py``), and how fast each may be used.

A token is ``ydk_`` + 32 random bytes (URL-safe base64), shown once when issued; the store keeps only
its SHA-256. It stands for one account: what it reaches is that account's grants at the moment of each
request (``AccessStore.principal``), so a revoked grant takes effect at once, and removing the account
removes its tokens (a foreign key, ``ON DELETE CASCADE``). Tokens live in the account store's SQLite
file and use its connection: every issue and revocation is one transaction with its audit entry
(``token_issue``, ``token_revoke``).

Looking a token up by its hash is what keeps the comparison timing-safe: the database compares SHA-256
digests, and a caller chooses the secret, never the digest, so how long a lookup takes says nothing
about any stored token (GitHub's and PyPI's tokens are checked the same way).
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from .store import AccessError, AccessStore, check_name

PREFIX = "ydk_"
SECRET_BYTES = 32
SHAPE = re.compile(r"ydk_[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters
USED_EVERY = 60.0  # seconds: "last used" is written at most this often per token (not an fsync per request)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL COLLATE NOCASE REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL UNIQUE,     -- sha256 of the whole token, hex; the token itself is never stored
    created REAL NOT NULL,           -- seconds since the epoch
    last_used REAL
);
"""


@dataclass(frozen=True)
class Token:
    """A token as it is listed: never its secret."""

    id: int
    user: str
    label: str
    created: float
    last_used: float | None = None

    def to_json(self) -> dict:
        iso = lambda t: datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else None  # noqa: E731
        return {"id": self.id, "user": self.user, "label": self.label, "created": iso(self.created),
                "last_used": iso(self.last_used)}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenStore:
    """``TokenStore(store)``: the tokens of the accounts in ``store`` (an ``AccessStore``, whose audit log
    records issuing and revoking)."""

    def __init__(self, store: AccessStore, clock=time.time):
        self.store = store
        self._clock = clock
        with store._lock:
            store._conn.executescript(_SCHEMA)

    def issue(self, user: str, label: str = "", *, by: str | None = None) -> str:
        """A new token for ``user`` (an account in the store); returned once, never again."""
        user = self.store._existing("users", check_name(user), "user")  # the stored spelling
        label = check_name(label, "token label") if label else ""
        secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        detail = {"label": label}  # and its id, once inserted (the entry is written before the commit)
        with self.store._change(by, "token_issue", target=user, detail=detail) as c:
            detail["id"] = c.execute("INSERT INTO tokens(user, label, digest, created) VALUES (?, ?, ?, ?)",
                                     (user, label, digest(secret), self._clock())).lastrowid
        return secret

    def revoke(self, token_id: int, *, by: str | None = None, user: str | None = None) -> None:
        """Revoke a token (with ``user``: only if it is theirs — a user revoking their own)."""
        try:
            token_id = int(token_id)
        except (TypeError, ValueError):
            raise AccessError(f"not a token id: {token_id!r}") from None
        owner = None if user is None else check_name(user)
        row = self.store._one("SELECT user, label FROM tokens WHERE id = ? AND (? IS NULL OR user = ?)",
                              token_id, owner, owner)
        if row is None:
            raise AccessError(f"没有令牌 {token_id} (no such token)")
        with self.store._change(by, "token_revoke", target=row[0], detail={"id": token_id, "label": row[1]}) as c:
            if not c.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount:
                raise AccessError(f"没有令牌 {token_id} (no such token)")

    def list(self, user: str | None = None) -> list[Token]:
        sql = "SELECT id, user, label, created, last_used FROM tokens"
        rows = self.store._all(sql + " WHERE user = ? ORDER BY id", check_name(user)) if user is not None \
            else self.store._all(sql + " ORDER BY id")
        return [Token(*row) for row in rows]

    def resolve(self, secret) -> Token | None:
        """The token ``secret`` is, while it and its account exist; None for anything else."""
        if not isinstance(secret, str) or not SHAPE.fullmatch(secret):
            return None
        row = self.store._one("SELECT t.id, u.name, t.label, t.created, t.last_used FROM tokens t "
                              "JOIN users u ON u.name = t.user WHERE t.digest = ?", digest(secret))
        if row is None:
            return None
        token = Token(*row)
        now = self._clock()
        if token.last_used is None or now - token.last_used >= USED_EVERY:
            with self.store._lock:
                self.store._conn.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now, token.id))
        return token


# Chosen: an assistant's agent loop asks a few questions per turn, so 60 a minute (a burst of 60, then one a
# second) leaves any person's use room, while a runaway script is slowed to one request a second per token.
# Measured for scale: one /api/v1/search over the 5 seed reports took 0.03–0.06 s (curl, AMD EPYC, 2 cores
# shared, load 6.7); calls run at most 2 at once anyway (tokenapi.CONCURRENT).
RATE, PER = 60, 60.0
MAX_BUCKETS = 50_000


class RateLimit:
    """A token bucket per key: ``rate`` requests, refilled evenly over ``per`` seconds."""

    def __init__(self, rate: int = RATE, per: float = PER, clock=time.monotonic):
        self.rate, self.per, self._clock = rate, per, clock
        self._buckets: dict[object, tuple[float, float]] = {}  # key → (requests left, when counted)
        self._lock = threading.Lock()

    def take(self, key) -> float:
        """Count one request; 0 when it may go ahead, else the seconds until it may."""
        now = self._clock()
        with self._lock:
            left, then = self._buckets.pop(key, (float(self.rate), now))
            left = min(float(self.rate), left + (now - then) * self.rate / self.per)
            wait = 0.0 if left >= 1 else (1 - left) * self.per / self.rate
            self._buckets[key] = (left - 1 if wait == 0 else left, now)  # the newest last: evicted last
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.pop(next(iter(self._buckets)))
        return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        """The ``Retry-After`` header of a wait: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))
