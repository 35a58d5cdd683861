"""Signed-in sessions, in memory only: a restart signs everyone out.

A session ends ``ttl`` seconds after sign-in or ``idle`` seconds after its last request, whichever
comes first; ``close`` (sign-out) ends it at once. Invariant: a token is 32 random bytes (URL-safe),
never derived from the user; at most ``MAX`` sessions are kept (the oldest dropped first).
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from .principal import Principal

MAX = 10_000


@dataclass
class Session:
    principal: Principal
    client: str
    opened: float
    seen: float


class Sessions:
    def __init__(self, ttl: float, idle: float, clock=time.monotonic):
        self.ttl, self.idle, self._clock = ttl, idle, clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, principal: Principal, client: str = "") -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._sessions[token] = Session(principal, client, now, now)
            while len(self._sessions) > MAX:
                self._sessions.pop(next(iter(self._sessions)))
        return token

    def get(self, token: str | None) -> Principal | None:
        """The session's principal (its idle clock restarted), or None when unknown or expired."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            s = self._sessions.get(token)
            if s is None:
                return None
            if now - s.opened > self.ttl or now - s.seen > self.idle:
                del self._sessions[token]
                return None
            s.seen = now
            return s.principal

    def principal_of(self, name: str) -> Principal | None:
        """The principal of a user's newest live session (Gradio hands handlers the user name only)."""
        now = self._clock()
        with self._lock:
            live = [s for s in self._sessions.values() if s.principal.name == name
                    and now - s.opened <= self.ttl and now - s.seen <= self.idle]
        return max(live, key=lambda s: s.opened).principal if live else None

    def close(self, token: str | None) -> Principal | None:
        with self._lock:
            s = self._sessions.pop(token or "", None)
        return s.principal if s else None

    def close_user(self, name: str) -> None:
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.principal.name == name]:
                del self._sessions[token]
