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
- any other GET of a page without a session → ``/login``;
- ``/gradio_api/file=…`` — a file a handler handed out (``gate.Served``) only to users who may read
  the knowledge bases it came from, and each such download in the audit log.
"""
from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..access import Principal
from ..access.sessions import Sessions
from ..access.throttle import SignInThrottle

log = logging.getLogger(__name__)

COOKIE = "yandu-session"
PAGE = (Path(__file__).with_name("signin.html")).read_text(encoding="utf-8")
MAX_FIELD = 1024  # characters of a user name or password read from the form (longer: refused unread)


class SignIn:
    """Sessions, the throttle and how a name and password are checked, for one server."""

    def __init__(self, authenticate: Callable[[str, str], Principal | None], sessions: Sessions,
                 throttle: SignInThrottle | None = None, on_event: Callable | None = None, served=None,
                 gate=None):
        self.authenticate, self.sessions = authenticate, sessions
        self.throttle = throttle or SignInThrottle()
        self.on_event = on_event or (lambda *a, **k: None)
        self.served, self.gate = served, gate

    def user(self, request) -> str | None:
        """Gradio's ``auth_dependency``: the session's user name, or None."""
        p = self.sessions.get(request.cookies.get(COOKIE))
        return p.name if p else None


def page(message: str = "", name: str = "", status: int = 200, headers: dict | None = None) -> HTMLResponse:
    note = f'<p class="err" role="alert">{html.escape(message)}</p>' if message else ""
    body = PAGE.replace("{{message}}", note).replace("{{name}}", html.escape(name, quote=True))
    return HTMLResponse(body, status_code=status, headers=headers)


class SignInPages:
    """ASGI middleware: the sign-in routes and the guard of handed-out files (see the module docstring)."""

    def __init__(self, app, signin: SignIn):
        self.app, self.signin = app, signin

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/") or "/"
        method = scope["method"]
        request = Request(scope, receive)
        if path == "/login":
            response = await (self._post(request) if method == "POST" else self._get(request))
            return await response(scope, receive, send)
        if path == "/logout":
            who = self.signin.sessions.close(request.cookies.get(COOKIE))
            if who is not None:
                self.signin.on_event(who.name, "sign_out", _client(scope))
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(COOKIE, path="/")
            return await response(scope, receive, send)
        who = self.signin.sessions.get(request.cookies.get(COOKIE))
        if path == "/whoami":
            response = JSONResponse({"name": who.name, "admin": who.admin} if who else {"detail": "未登录"},
                                    status_code=200 if who else 401)
            return await response(scope, receive, send)
        if who is None and method in ("GET", "HEAD") and _is_page(path):
            return await RedirectResponse("/login", status_code=303)(scope, receive, send)
        if "/file=" in path and who is not None and not self._may_fetch(who, scope):
            return await Response("Not found", status_code=404)(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _get(self, request: Request) -> Response:
        if self.signin.sessions.get(request.cookies.get(COOKIE)) is not None:
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
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
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


def _client(scope) -> str:
    return (scope.get("client") or ("?", 0))[0]


def _is_page(path: str) -> bool:
    """The app's HTML pages (Gradio's page and its API-run page), not its data routes."""
    return path in ("/", "/gradio_api/runs", "/?view=api") or path.startswith("/?")
