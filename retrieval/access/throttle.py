"""How fast wrong passwords may come: per (address, user name), and per user name.

After a wrong password the same (address, name) must wait 1 s, doubling with each further failure up to
``MAX_DELAY``; a name that fails from many addresses is slowed the same way after ``NAME_FREE`` failures
(guessing one account from many machines). A success clears both. Nothing here is kept per address
alone: one user's failures never lock out a colleague behind the same address (every user behind a
proxy shares one), and a spray over many names gets one guess per name before each is slowed. The address is the ASGI peer — Uvicorn
rewrites it from ``X-Forwarded-For`` only for the proxies the operator names (``FORWARDED_ALLOW_IPS``,
set by ``web.server`` from ``Settings.trusted_proxies``).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

FIRST_DELAY = 1.0  # seconds after the first wrong password
MAX_DELAY = 300.0  # reached after ~9 failures in a row
NAME_FREE = 5  # failures of one name (from anywhere) before it is slowed too
MAX_KEYS = 50_000


@dataclass
class Failures:
    count: int = 0
    until: float = 0.0


class SignInThrottle:
    def __init__(self, first: float = FIRST_DELAY, most: float = MAX_DELAY, clock=time.monotonic):
        self.first, self.most, self._clock = first, most, clock
        self._records: dict[tuple, Failures] = {}
        self._lock = threading.Lock()

    def _keys(self, address: str, name: str) -> list[tuple[tuple, int]]:
        name = name.strip().lower()
        return [(("pair", address, name), 0), (("name", name), NAME_FREE)]

    def wait_left(self, address: str, name: str) -> float:
        """Seconds before this address may try this name again (0: now)."""
        now = self._clock()
        with self._lock:
            return max([0.0] + [f.until - now for key, _ in self._keys(address, name)
                                if (f := self._records.get(key)) is not None])

    def failed(self, address: str, name: str) -> float:
        """Record a wrong password; the seconds to wait now."""
        now = self._clock()
        with self._lock:
            for key, free in self._keys(address, name):
                f = self._records.setdefault(key, Failures())
                f.count += 1
                if f.count > free:
                    f.until = now + min(self.first * 2 ** (f.count - free - 1), self.most)
            while len(self._records) > MAX_KEYS:  # bounded under a spray: the oldest forgotten
                self._records.pop(next(iter(self._records)))
        return self.wait_left(address, name)

    def succeeded(self, address: str, name: str) -> None:
        with self._lock:
            for key, _ in self._keys(address, name):
                self._records.pop(key, None)
