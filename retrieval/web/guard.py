"""What a visitor without a login sees, and how fast they may guess passwords (``serve --auth``).

Gradio's login page embeds the whole API description (``window.gradio_api_info``) — the report
dropdown's choices, i.e. every report's name and the corpus years — for anyone who asks. Behind
``--auth`` this middleware blanks it until the visitor has logged in; the API routes themselves
(``/config``, ``/gradio_api/info`` …) already need the login.

Login attempts are throttled per client address: after a wrong password the client must wait,
1 s after the first, doubling with each further failure up to ``MAX_DELAY``; an attempt made
sooner is refused (429) without checking the password. A success clears the client's record.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse

FIRST_DELAY = 1.0  # seconds to wait after the first wrong password
MAX_DELAY = 300.0  # the delay doubles up to this (after ~9 failures in a row)
PAGES = ("/", "/gradio_api/runs")  # the pages Gradio renders with the API description inside
_API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)
_BLANK = b'window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};</script>'


@dataclass
class Failures:
    count: int = 0
    until: float = 0.0  # monotonic time before which this client may not try again


class LoginThrottle:
    """Wrong-password counts and waiting times per client address (thread-safe)."""

    def __init__(self, first: float = FIRST_DELAY, most: float = MAX_DELAY):
        self.first, self.most = first, most
        self._clients: dict[str, Failures] = {}
        self._lock = threading.Lock()

    def wait_left(self, client: str) -> float:
        with self._lock:
            f = self._clients.get(client)
            return max(0.0, f.until - time.monotonic()) if f else 0.0

    def failed(self, client: str) -> float:
        """Record a wrong password; returns the seconds this client must now wait."""
        with self._lock:
            f = self._clients.setdefault(client, Failures())
            f.count += 1
            delay = min(self.first * 2 ** (f.count - 1), self.most)
            f.until = time.monotonic() + delay
            if len(self._clients) > 10_000:  # forget the oldest: memory stays bounded under a spray
                self._clients.pop(next(iter(self._clients)))
            return delay

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)


def logged_in(scope) -> bool:
    app = scope.get("app")
    cookie_id = getattr(app, "cookie_id", "")
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return bool(token) and token in getattr(app, "tokens", {})


class AuthGuard:
    """ASGI middleware: blank the API description for visitors not logged in; throttle their logins.

    Every other request passes straight through (streams included)."""

    def __init__(self, app, throttle: LoginThrottle | None = None):
        self.app = app
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/") or "/"
        if path == "/login" and scope["method"] == "POST":
            return await self._login(scope, receive, send)
        if path in PAGES and scope["method"] in ("GET", "HEAD") and not logged_in(scope):
            status, headers, body = await self._collect(scope, receive)
            return await self._send(send, status, headers, _API_INFO.sub(lambda _: _BLANK, body))
        return await self.app(scope, receive, send)

    async def _collect(self, scope, receive) -> tuple[int, list, bytes]:
        """Run the app to the end and keep its answer (small pages only)."""
        start, parts = {}, []

        async def keep(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        return start.get("status", 500), list(start.get("headers", [])), b"".join(parts)

    @staticmethod
    async def _send(send, status: int, headers: list, body: bytes) -> None:
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _login(self, scope, receive, send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        left = self.throttle.wait_left(client)
        if left > 0:
            response = JSONResponse({"detail": f"登录尝试过于频繁，请 {left:.0f} 秒后再试。"}, status_code=429,
                                    headers={"Retry-After": str(max(1, round(left)))})
            return await response(scope, receive, send)
        status, headers, body = await self._collect(scope, receive)
        if status == 200:
            self.throttle.succeeded(client)
            return await self._send(send, status, headers, body)
        wait = self.throttle.failed(client)
        try:
            detail = json.loads(body).get("detail", "")
        except (ValueError, AttributeError):
            detail = ""
        reason = "用户名或密码错误" if detail == "Incorrect credentials." else str(detail or "登录失败")
        response = JSONResponse({"detail": f"{reason}；请 {wait:.0f} 秒后再试。"}, status_code=status)
        await response(scope, receive, send)
