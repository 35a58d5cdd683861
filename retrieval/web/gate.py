"""Who a web request is, and what it may reach: the one place handlers ask.

Sign-in off (no account, no ``--auth``): everyone is the local desktop user (``OPEN``, admin of every
knowledge base), as before departments existed. Sign-in on: Gradio gives a handler only the signed-in
name (``request.username``, from ``signin``'s session cookie); the gate turns it into a ``Principal``
built afresh from the account store on every request, so a revoked grant or a removed user takes
effect at once. Invariant: no request, no name, or an unknown name → a principal that may read nothing.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..access import OPEN, Principal

log = logging.getLogger(__name__)

NOBODY = Principal("", source="none")


@dataclass(frozen=True)
class Caller:
    """A request that did not come through Gradio (the token API, MCP): the principal its token gave,
    the client's address (for the audit log) and a session key for its exports."""

    principal: Principal
    client: object = None
    session_hash: str = "api"

    @property
    def username(self) -> str:
        return self.principal.name


class Gate:
    """``sessions``: the signed-in sessions (``access.Sessions``); ``store``: the account store
    (``access.AccessStore``) or None (``--auth`` only); ``audit``: the audit log or None."""

    def __init__(self, sessions=None, store=None, audit=None):
        self.sessions, self.store, self.audit_log = sessions, store, audit

    @property
    def open(self) -> bool:
        return self.sessions is None

    def principal(self, request) -> Principal:
        """Who the request is. A caller authenticated by other means than a session (a personal API
        token) arrives as a ``Caller`` carrying the principal its token resolved to."""
        if isinstance(request, Caller):
            return request.principal
        if self.open:
            return OPEN
        known = getattr(request, "_yandu_principal", None)  # once per request: a handler asks several times
        if known is not None:
            return known
        found = self._resolve(request)
        try:
            request._yandu_principal = found
        except (AttributeError, TypeError):  # a request object that takes no attributes: resolved each time
            pass
        return found

    def _resolve(self, request) -> Principal:
        name = getattr(request, "username", None) if request is not None else None
        if not name:
            return NOBODY
        signed = self.sessions.principal_of(name)
        if signed is None:
            return NOBODY
        if signed.source == "auth" or self.store is None:  # --auth / YANDU_AUTH: an admin kept in memory only
            return signed
        try:
            return self.store.principal(signed.name, source=signed.source,
                                        groups=signed.groups if signed.source == "ldap" else (),
                                        admin=signed.admin if signed.source == "ldap" else None)
        except Exception as e:  # a user removed since signing in: nothing
            log.info("no principal for %s: %s", name, e)
            return NOBODY

    def record(self, who: Principal, action: str, *, base: str | None = None, target: str | None = None,
               detail=None, request=None) -> None:
        """One audit entry (nothing when no audit log is kept: the single-user desktop)."""
        if self.audit_log is None:
            return
        client = getattr(getattr(request, "client", None), "host", None) if request is not None else None
        try:
            self.audit_log.record(who.name, action, base=base, target=target, detail=detail, client=client)
        except Exception:  # the log must never cost the answer; the failure is logged loudly
            log.exception("audit entry not written: %s %s", who.name, action)


class Served:
    """Files handed to a user (an original's copy, an export), by the folder Gradio serves them from.

    Gradio copies a returned file to ``<cache>/<hash>/<name>`` (``processing_utils.hash_file``: its bytes
    with a per-install secret seed) and serves it at ``/gradio_api/file=…`` to any signed-in user who
    has the URL. ``file_guard`` asks this registry: a registered file is served only to users who may
    read every knowledge base its content came from. Bounded: the oldest entries are forgotten first
    (Gradio's cache expires them within a day anyway)."""

    MAX = 20_000

    def __init__(self):
        self._bases: dict[str, frozenset[str]] = {}
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def grant(self, path, bases) -> None:
        from gradio.processing_utils import hash_file

        key = hash_file(path)
        with self._lock:
            self._bases.pop(key, None)
            self._bases[key] = frozenset([bases] if isinstance(bases, str) else bases)
            self._names[key] = Path(path).name
            while len(self._bases) > self.MAX:
                old = next(iter(self._bases))
                self._bases.pop(old)
                self._names.pop(old, None)

    def bases_of(self, url_path: str) -> tuple[frozenset[str], str] | None:
        """The bases and file name behind a ``/file=`` path, or None for a file not handed out by a handler."""
        with self._lock:
            for part in url_path.replace("\\", "/").split("/"):
                if part in self._bases:
                    return self._bases[part], self._names[part]
        return None
