"""The token API and MCP: the web app's questions for other programs, each call carrying a personal token.

``TokenApi`` (ASGI middleware, outermost, in front of Gradio and the sign-in pages) answers

- ``/api/v1/*`` — ``POST search``, ``POST compare``, ``GET reports``, ``GET outline?source=…``: JSON in
  and out, the same JSON as Gradio's API (``/search``, ``/compare``, ``/library``, ``/outline``); a small
  FastAPI app, whose OpenAPI description is ``GET /api/v1/openapi.json`` (no token needed: it names
  routes, never reports);
- ``/mcp`` — an MCP server (the official ``mcp`` SDK, streamable HTTP, stateless, JSON responses) with
  the tools ``search``, ``compare``, ``outline`` and ``list_reports`` (stateless: each request is checked
  on its own, so no session outlives its token; tool descriptions name no knowledge base or report).

Every other request goes on to Gradio untouched, whether sign-in is on or off. Each call needs
``Authorization: Bearer <token>`` (``app.py token issue USER``); a missing, unknown or revoked token, or
one whose account is gone, gets 401 and nothing else — not even the MCP tool list. The caller is the
token's account as the store has it at that moment (``AccessStore.principal``: a revoked grant counts
at once) and reaches the handlers as a ``gate.Caller``, so the token API, MCP and the page answer from
the same ``WebApp`` methods, with the same grants and the same audit entries ("ask", "compare"). Each
token may make ``tokens.RATE`` requests a minute (429 with ``Retry-After`` beyond it).
"""
from __future__ import annotations

import inspect
import json
import logging
from typing import Annotated, Literal

import anyio
import gradio as gr
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from ..access import AccessError, RateLimit, TokenStore
from ..access.tokens import RATE
from ..config import SECTION_TYPE_NAMES
from .gate import Caller
from .handlers import MAX_QUESTION, WAITING, WebApp

log = logging.getLogger(__name__)

API = "/api/v1"
MCP = "/mcp"
OPENAPI = API + "/openapi.json"
CONCURRENT = 2  # calls answered at once, as the page's queue (server.py: default_concurrency_limit=2) on 2 cores
MAX_ITEMS = 1000  # reports, years, bases or section types named in one call
MAX_KEY = 300  # characters of one report or base name
MAX_BODY = 2 << 20  # bytes of a request: the longest valid one (1000 names of 300 characters, UTF-8) is ~0.9 MB
UNAUTHORIZED = "需要有效的访问令牌：Authorization: Bearer <令牌>（令牌由管理员用 app.py token issue 签发）"

# what a call names, checked before any handler runs (both the HTTP API and the MCP tools)
Key = Annotated[str, Field(max_length=MAX_KEY)]
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION, description="问题（中文或其他语言）")]
TopK = Annotated[int, Field(ge=1, le=50, description="返回几段原文（1–50）")]
Reports = Annotated[list[Key], Field(max_length=MAX_ITEMS,
                                     description="只看这些报告（文件名；可见多个知识库时为 知识库/文件名）；空 = 全部")]
Years = Annotated[list[int], Field(max_length=MAX_ITEMS, description="只看这些年份的报告；空 = 全部")]
DataYears = Annotated[list[int], Field(max_length=MAX_ITEMS,
                                       description="只看讲这些年份的段落（如 2025 年报告中 2024 年的数据）；空 = 全部")]
SectionTypes = Annotated[list[Literal[tuple(SECTION_TYPE_NAMES)]], Field(
    max_length=MAX_ITEMS, description="只看这些类型的段落：" + "、".join(f"{t}（{n}）" for t, n in SECTION_TYPE_NAMES.items())
    + "；空 = 全部")]
Bases = Annotated[list[Key], Field(max_length=MAX_ITEMS, description="只问这些知识库（调用者有权阅读的）；空 = 全部")]
SOURCE = "报告：报告列表给出的 source（可见多个知识库时为 base/source）"
Source = Annotated[str, Field(max_length=MAX_KEY, description=SOURCE)]


class ApiError(Exception):
    """A call the handlers refused: an HTTP status, the handler's message and, while no index can answer,
    the state (empty, failed, preparing_model, indexing)."""

    def __init__(self, status: int, message: str, state: str | None = None):
        super().__init__(message)
        self.status, self.message, self.state = status, message, state

    def to_json(self) -> dict:
        return {"detail": self.message, **({"state": self.state} if self.state else {})}


class Calls:
    """Runs a ``WebApp`` handler for a token's caller in a worker thread, at most ``CONCURRENT`` at once;
    Gradio's errors become ``ApiError``s (a state → 503, a bad parameter → 400, a report the caller
    cannot reach → 404)."""

    def __init__(self, web: WebApp):
        self.web = web
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, handler, *args):
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(CONCURRENT)
        return await anyio.to_thread.run_sync(self._run, handler, args, limiter=self._limiter)

    @staticmethod
    def _run(handler, args):
        try:
            return handler(*args)
        except gr.Error as e:
            if e.title in (*WAITING, "empty", "failed"):
                raise ApiError(503, e.message, e.title) from None
            raise ApiError(400 if e.title == "参数错误" else 404, e.message) from None


# ---- the HTTP API ---------------------------------------------------------------------------------

class Filters(BaseModel):
    reports: Reports = []
    years: Years = []
    section_types: SectionTypes = []
    bases: Bases = []
    data_years: DataYears = []


class SearchRequest(Filters):
    question: Question
    top_k: TopK = 5


class CompareRequest(Filters):
    question: Question


DESCRIPTION = f"""研读（Yandu）的检索接口：按问题返回带出处的原文段落，跨报告对比，列出报告、查看目录。

每次调用须带个人访问令牌：`Authorization: Bearer ydk_…`（管理员用 `python app.py token issue 用户名` 签发，
只显示一次；`python app.py token revoke 编号` 立即作废）。令牌代表其用户：只能看到该用户有权阅读的知识库，
授权变更即时生效；每次提问与对比都记入审计日志。缺少、错误或已撤销的令牌得到 401，不含任何数据。
每个令牌每分钟最多 {RATE} 次请求，超出得到 429（`Retry-After` 给出需等待的秒数）。
索引尚未就绪（首次启动正在准备模型或建立索引）时调用会等待；无索引可答时返回 503，`state` 说明原因。

MCP：同一服务器的 `{MCP}`（streamable HTTP）提供工具 search、compare、outline、list_reports，返回与本接口相同的 JSON。"""


class Refusal(BaseModel):
    """What every refused call answers (``ApiError.to_json``; 401 and 429 have ``detail`` only)."""
    detail: str = Field(description="为什么（中文）")
    state: str | None = Field(None, description="503：无索引可答的原因（empty、failed，或仍在 preparing_model、indexing）")


_REFUSALS = {401: "缺少、错误或已撤销的令牌（不含任何数据）", 404: "报告或知识库不存在或无权阅读（两者同样答复）",
             413: "请求体过大", 429: f"超过每分钟 {RATE} 次（`Retry-After` 给出秒数）", 503: "无索引可答（state 说明原因）"}
REFUSALS = {code: {"model": Refusal, "description": text} for code, text in _REFUSALS.items()}


BEARER = HTTPBearer(auto_error=False, scheme_name="个人访问令牌",
                    description="python app.py token issue 用户名 签发的令牌（ydk_…）")


def _caller(request: Request, _=Depends(BEARER)) -> Caller:  # the token was checked by TokenApi (BEARER: for the docs)
    return request.scope["yandu.caller"]


Who = Annotated[Caller, Depends(_caller)]


def http_api(calls: Calls) -> FastAPI:
    """The FastAPI app of ``/api/v1`` (its routes carry the full path: it is called with the request as is)."""
    web = calls.web
    api = FastAPI(title="研读 Yandu 检索接口", version="1", description=DESCRIPTION, openapi_url=OPENAPI,
                  docs_url=None, redoc_url=None,  # Swagger's page would load its scripts from a CDN: offline, none
                  responses=REFUSALS)

    @api.exception_handler(ApiError)
    async def refused(request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse(e.to_json(), status_code=e.status)

    @api.post(API + "/search", summary="检索：带出处的原文段落",
              description="与 `python app.py query --json` 和 Gradio 的 `/search` 相同的段落：rank、score、source、"
                          "title、section、section_type、text、year、data_years、page、item、start、end、why（可见多个知识库时"
                          "另有 base、base_title）。没有匹配时为 []。")
    async def search(body: SearchRequest, who: Who) -> list[dict]:
        return await calls(web.api_search, body.question, body.top_k, body.reports, body.years,
                           list(body.section_types), body.bases, body.data_years, who)

    @api.post(API + "/compare", summary="对比：一个问题，每份报告一行",
              description="范围内每份报告一行 {source, title, year, passage}（可见多个知识库时另有 base）；"
                          "passage 是该报告最相关的段落（同 /search），没有则为 null。")
    async def compare(body: CompareRequest, who: Who) -> list[dict]:
        return await calls(web.api_compare, body.question, body.reports, body.years, list(body.section_types),
                           body.bases, body.data_years, who)

    @api.get(API + "/reports", summary="报告列表",
             description="调用者有权阅读的知识库中的全部报告：source、title、unit、year、kind、passages、sections、"
                         "added、size、error、duplicate_of（可见多个知识库时另有 base）。")
    async def reports(who: Who) -> list[dict]:
        return await calls(web.api_library, who)

    @api.get(API + "/outline", summary="报告目录",
             description="一份报告的章节树（同 `app.py parse --json`）、段落数和去掉的噪声；无权阅读与不存在的报告同样得到 404。")
    async def outline(who: Who, source: Annotated[str, Query(max_length=MAX_KEY, description=SOURCE)]) -> dict:
        return await calls(web.api_outline, source, who)

    return api


# ---- MCP ------------------------------------------------------------------------------------------

INSTRUCTIONS = ("研读（Yandu）：检索单位工作报告（党建述职、工作总结、政府工作报告）。search 返回带出处的原文段落"
                "（报告 › 章节 › 条目，页码）；compare 对同一问题逐份报告给出最相关段落；list_reports 列出可读的报告；"
                "outline 给出一份报告的章节树。引用时请注明 source、section 和 page。")
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)


def _tool_caller(ctx: Context) -> Caller:
    """The caller ``TokenApi`` put on the HTTP request this tool call came in."""
    request = ctx.request_context.request
    caller = request.scope.get("yandu.caller") if request is not None else None
    if caller is None:  # not through TokenApi: never answered
        raise ToolError("需要有效的访问令牌")
    return caller


def mcp_server(calls: Calls) -> MCPServer:
    """The MCP server of ``calls``' web app (its ``streamable_http_app`` is what ``TokenApi`` serves)."""
    web = calls.web
    server = MCPServer("yandu", title="研读 Yandu", instructions=INSTRUCTIONS, log_level="WARNING")

    def tool(title: str):
        """Register a read-only tool; its docstring, lines joined (Chinese needs no spaces), describes it."""
        def add(fn):
            server.add_tool(fn, title=title, description="".join(inspect.cleandoc(fn.__doc__).splitlines()),
                            annotations=READ_ONLY, structured_output=False)
            return fn
        return add

    async def run(ctx: Context, handler, *args) -> str:
        """The handler's answer as one JSON text (the SDK would split a list into one block per item)."""
        try:
            return json.dumps(await calls(handler, *args, _tool_caller(ctx)), ensure_ascii=False)
        except ApiError as e:
            raise ToolError(e.message + (f"（{e.state}）" if e.state else "")) from None

    @tool("检索原文段落")
    async def search(question: Question, ctx: Context, bases: Bases = [], years: Years = [],  # noqa: B006
                     section_types: SectionTypes = [], top_k: TopK = 5,  # noqa: B006
                     reports: Reports = [], data_years: DataYears = []) -> str:  # noqa: B006
        """按问题检索工作报告，返回带出处的原文段落（JSON 列表，按相关度排序）：rank、score、source（文件）、
        title（报告标题）、section（章节路径）、section_type、text（原文）、year（报告年份）、data_years（段落所讲的
        年份）、page、item、start、end、why；可见多个知识库时另有 base、base_title。没有匹配时为 []。只检索调用者
        有权阅读的知识库。"""
        return await run(ctx, web.api_search, question, top_k, reports, years, list(section_types), bases, data_years)

    @tool("跨报告对比")
    async def compare(question: Question, ctx: Context, reports: Reports = [], years: Years = [],  # noqa: B006
                      section_types: SectionTypes = [], bases: Bases = [],  # noqa: B006
                      data_years: DataYears = []) -> str:  # noqa: B006
        """同一个问题在每份报告中的最相关段落：每份报告一行 {source, title, year, passage}（passage 同 search 的
        段落，没有则为 null）。范围：指定的报告，否则指定年份的报告，否则全部有权阅读的报告。"""
        return await run(ctx, web.api_compare, question, reports, years, list(section_types), bases, data_years)

    @tool("报告目录")
    async def outline(source: Source, ctx: Context) -> str:
        """一份报告的章节树（level、number、heading、section_type、children）、段落数和去掉的噪声。"""
        return await run(ctx, web.api_outline, source)

    @tool("报告列表")
    async def list_reports(ctx: Context) -> str:
        """调用者有权阅读的全部报告：source、title、unit、year、kind、passages、sections、added、size、error、
        duplicate_of（可见多个知识库时另有 base）。"""
        return await run(ctx, web.api_library)

    return server


# ---- the middleware -------------------------------------------------------------------------------

def _ours(path: str) -> bool:
    return path in (API, MCP) or path.startswith((API + "/", MCP + "/"))


class TokenApi:
    """ASGI middleware: ``/api/v1`` and ``/mcp`` for token holders (see the module docstring); ``tokens``
    is None when no account store exists (then every call is refused: no account, no token)."""

    def __init__(self, app, web: WebApp, tokens: TokenStore | None, limit: RateLimit | None = None):
        self.app, self.tokens = app, tokens
        self.limit = limit or RateLimit()
        calls = Calls(web)
        self.api = RequestBodyLimitMiddleware(http_api(calls), MAX_BODY)  # 413 beyond, before anything is parsed
        self.mcp = mcp_server(calls)
        self.mcp_app = self.mcp.streamable_http_app(streamable_http_path=MCP, stateless_http=True, json_response=True,
                                                    max_request_body_size=MAX_BODY,
                                                    # no Host/Origin check: the SDK's DNS-rebinding guard protects
                                                    # servers that answer without credentials; a rebinding page
                                                    # cannot send a bearer token, and a proxy may pass any Host
                                                    transport_security=TransportSecuritySettings(
                                                        enable_dns_rebinding_protection=False))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # the MCP session manager runs as long as the server
            async with self.mcp.session_manager.run():
                return await self.app(scope, receive, send)
        if scope["type"] != "http" or not _ours(scope["path"]):
            return await self.app(scope, receive, send)
        if scope["path"] == OPENAPI:
            return await self.api(scope, receive, send)
        caller, wait = await anyio.to_thread.run_sync(self._caller, scope)  # SQLite, off the event loop
        if caller is None:
            response = JSONResponse({"detail": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return await response(scope, receive, send)
        if wait:
            response = JSONResponse({"detail": f"请求过于频繁，请 {RateLimit.retry_after(wait)} 秒后再试"},
                                    status_code=429, headers={"Retry-After": RateLimit.retry_after(wait)})
            return await response(scope, receive, send)
        scope["yandu.caller"] = caller
        return await (self.mcp_app if scope["path"].startswith(MCP) else self.api)(scope, receive, send)

    def _caller(self, scope) -> tuple[Caller | None, float]:
        """The caller a request's token stands for (None: refused) and how long it must wait first."""
        if self.tokens is None:
            return None, 0.0
        request = Request(scope)
        kind, _, secret = request.headers.get("authorization", "").partition(" ")
        token = self.tokens.resolve(secret.strip()) if kind.lower() == "bearer" else None
        if token is None:
            return None, 0.0
        try:
            principal = self.tokens.store.principal(token.user, source="token")
        except AccessError as e:  # the account went meanwhile
            log.info("token %s of %s refused: %s", token.id, token.user, e)
            return None, 0.0
        wait = self.limit.take(token.id)
        return Caller(principal, request.client, f"token-{token.id}"), wait
