"""Signing in to the web app: our own page, sessions with an end, sign-out, and the file route's guard.

Gradio is launched with ``auth_dependency=SignIn.user`` (the signed-in name from our session cookie, or
None: Gradio then answers 401 on every route of its own — config, API description, queue, upload,
files). ``SignInPages`` (ASGI middleware, in front of Gradio) serves:

- ``GET /login`` — the sign-in page (Chinese, works without JavaScript, says nothing of the corpus);
- ``POST /login`` — throttled (``access.throttle``: per address and name, per name), then
  ``authenticate(name, password) -> Principal | None``; success: a session cookie (HttpOnly,
  SameSite=Lax, Secure over https) and a redirect to ``/``; failure: the page again with the reason
  or the wait, the name kept;
- ``GET /logout`` — the session ends on the server, the cookie is cleared;
- ``GET /whoami`` — {"name", "admin"} of the session;
- any other request without a session: a page → ``/login``, anything else → 401 (Gradio leaves some
  routes unchecked — heartbeat, cancel, stream, monitoring — so the gate closes them all; only
  ``/gradio_api/startup-events``, which ``launch()`` calls itself, stays open);
- Gradio's per-browser state is keyed by a ``session_hash`` the client picks: the first user to use a
  hash owns it, and any other user's request naming it is refused (403), so a colleague who learns it
  cannot read or cancel another's answers;
- ``/gradio_api/file=…`` — a file a handler handed out (``gate.Served``) only to users who may read
  the knowledge bases it came from, and each such download in the audit log.
"""
from __future__ import annotations

import html
import json
import logging
import threading
from pathlib import Path
from typing import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..access import Principal
from ..access.sessions import Sessions
from ..access.throttle import SignInThrottle

log = logging.getLogger(__name__)

COOKIE = "yandu-session"  # + "-<port>": cookies ignore ports, so two servers on one host keep theirs apart
OPEN_PATHS = frozenset({"/gradio_api/startup-events"})
HASHED_BODIES = ("/queue/join", "/cancel", "/reset")  # POST routes whose JSON body names a session_hash
MAX_BODY = 1 << 20  # bytes of such a body read to find it (an event's inputs; larger: refused)
MAX_OWNED = 100_000  # session hashes remembered (the oldest forgotten first)
PAGE = (Path(__file__).with_name("signin.html")).read_text(encoding="utf-8")
MAX_FIELD = 1024  # characters of a user name or password read from the form (longer: refused unread)


class SignIn:
    """Sessions, the throttle and how a name and password are checked, for one server."""

    def __init__(self, authenticate: Callable[[str, str], Principal | None], sessions: Sessions,
                 throttle: SignInThrottle | None = None, on_event: Callable | None = None, served=None,
                 port: int | None = None):
        self.authenticate, self.sessions = authenticate, sessions
        self.throttle = throttle or SignInThrottle()
        self.on_event = on_event or (lambda *a, **k: None)
        self.served = served
        self.cookie = f"{COOKIE}-{port}" if port else COOKIE
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def user(self, request) -> str | None:
        """Gradio's ``auth_dependency``: the session's user name, or None."""
        p = self.sessions.get(request.cookies.get(self.cookie))
        return p.name if p else None

    def owns(self, session_hash: str, user: str) -> bool:
        """Whether ``user`` may use Gradio's ``session_hash`` (the first user to use it owns it)."""
        with self._lock:
            owner = self._owners.setdefault(session_hash, user)
            while len(self._owners) > MAX_OWNED:
                self._owners.pop(next(iter(self._owners)))
        return owner == user


def _json_hash(body: bytes) -> str | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return str(value.get("session_hash")) if isinstance(value, dict) and value.get("session_hash") else None


def page(message: str = "", name: str = "", status: int = 200, headers: dict | None = None) -> HTMLResponse:
    note = f'<p class="err" role="alert">{html.escape(message)}</p>' if message else ""
    body = PAGE.replace("{{message}}", note).replace("{{name}}", html.escape(name, quote=True))
    return HTMLResponse(body, status_code=status, headers=headers)


class SignInPages:
    """ASGI middleware: the sign-in routes and the guard of handed-out files (see the module docstring)."""

    def __init__(self, app, signin: SignIn):
        self.app, self.signin = app, signin

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":  # Gradio's page uses none; a socket without a session is closed
            if self.signin.sessions.get(Request(scope).cookies.get(self.signin.cookie)) is None:
                return await send({"type": "websocket.close", "code": 1008})
            return await self.app(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/") or "/"
        method = scope["method"]
        request = Request(scope, receive)
        if path == "/login":
            response = await (self._post(request) if method == "POST" else self._get(request))
            return await response(scope, receive, send)
        if path == "/logout":
            who = self.signin.sessions.close(request.cookies.get(self.signin.cookie))
            if who is not None:
                self.signin.on_event(who.name, "sign_out", _client(scope))
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(self.signin.cookie, path="/")
            return await response(scope, receive, send)
        if path in OPEN_PATHS:
            return await self.app(scope, receive, send)
        who = self.signin.sessions.get(request.cookies.get(self.signin.cookie))
        if path == "/whoami":
            response = JSONResponse({"name": who.name, "admin": who.admin} if who else {"detail": "未登录"},
                                    status_code=200 if who else 401)
            return await response(scope, receive, send)
        if who is None:
            if method in ("GET", "HEAD") and (_is_page(path) or "text/html" in request.headers.get("accept", "")):
                return await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return await JSONResponse({"detail": "未登录或登录已失效"}, status_code=401)(scope, receive, send)
        if "/file=" in path and not self._may_fetch(who, scope):
            return await Response("Not found", status_code=404)(scope, receive, send)
        hashed = request.query_params.get("session_hash") or (path.rsplit("/", 1)[-1] if "/heartbeat/" in path else None)
        if method == "POST" and path.endswith(HASHED_BODIES):
            body = await _body(receive)
            if body is None:
                return await JSONResponse({"detail": "请求过大"}, status_code=413)(scope, receive, send)
            hashed, receive = _json_hash(body) or hashed, _replay(body, receive)
        if hashed and not self.signin.owns(hashed, who.name):
            log.warning("refused %s: session %s belongs to another user", who.name, hashed[:8])
            return await JSONResponse({"detail": "会话不属于当前用户"}, status_code=403)(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _get(self, request: Request) -> Response:
        if self.signin.sessions.get(request.cookies.get(self.signin.cookie)) is not None:
            return RedirectResponse("/", status_code=303)
        return page()

    async def _post(self, request: Request) -> Response:
        try:
            form = await request.form(max_files=0, max_fields=10)
        except Exception:  # not a form (or too big): the page again
            return page("请输入用户名和密码", status=400)
        name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
        if not name or not password or len(name) > MAX_FIELD or len(password) > MAX_FIELD:
            return page("请输入用户名和密码", name[:64], status=400)
        client = _client(request.scope)
        left = self.signin.throttle.wait_left(client, name)
        if left > 0:
            wait = max(1, round(left))
            return page(f"尝试次数过多，请 {wait} 秒后再试", name, status=429, headers={"Retry-After": str(wait)})
        try:
            who = self.signin.authenticate(name, password)
        except Exception as e:  # the directory is down, say: one line, no stack
            log.warning("sign-in of %s: %s", name, e)
            return page(f"暂时无法登录：{e}", name, status=503)
        if who is None:
            wait = max(1, round(self.signin.throttle.failed(client, name)))
            self.signin.on_event(name, "sign_in_failed", client)
            return page(f"用户名或密码不正确；请 {wait} 秒后再试", name, status=401)
        self.signin.throttle.succeeded(client, name)
        token = self.signin.sessions.open(who, client)
        self.signin.on_event(who.name, "sign_in", client, who.source)
        # a browser's form goes on to the page; an API client (gradio_client's Client(url, auth=…)) takes the cookie
        browser = "text/html" in request.headers.get("accept", "")
        response = RedirectResponse("/", status_code=303) if browser else JSONResponse({"success": True})
        response.set_cookie(self.signin.cookie, token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            path="/")
        return response

    def _may_fetch(self, who: Principal, scope) -> bool:
        served = self.signin.served
        found = served.bases_of(scope["path"]) if served is not None else None
        if found is None:
            return True
        bases, name = found
        if not all(who.may("read", b) for b in bases):
            log.warning("refused %s to %s: not granted", name, who.name)
            return False
        self.signin.on_event(who.name, "download", _client(scope), name, ",".join(sorted(bases)))
        return True


async def _body(receive) -> bytes | None:
    """A request's whole body (None past ``MAX_BODY``)."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


def _replay(body: bytes, receive):
    """A ``receive`` that gives ``body`` once, then the connection's own messages (its disconnect)."""
    sent = False

    async def again():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _client(scope) -> str:
    return (scope.get("client") or ("?", 0))[0]


def _is_page(path: str) -> bool:
    """The app's HTML pages (Gradio's page and its API-run page), not its data routes."""
    return path in ("/", "/gradio_api/runs", "/?view=api") or path.startswith("/?")
