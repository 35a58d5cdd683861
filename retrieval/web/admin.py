"""The 管理 tab: knowledge bases, users and groups, grants, access tokens, usage, and the audit log — for admins only.

The tab is shown to admins (``WebApp.session_start``), and every handler here checks again that the
request's user is an admin: a hidden tab is not a permission. Each change is one library call
(``bases.Bases``, ``access.AccessStore``) and one audit entry; errors become one line on the page.
"""
from __future__ import annotations

import html
import json
import logging
from collections import Counter
from datetime import datetime

import gradio as gr
import pandas as pd

from ..errors import YanduError

log = logging.getLogger(__name__)

BASE_COLUMNS = ["名称", "标题", "报告", "段落", "创建时间"]
USER_COLUMNS = ["用户", "管理员", "所属组", "登录方式", "创建时间"]
GROUP_COLUMNS = ["组", "成员"]
GRANT_COLUMNS = ["知识库", "用户", "组", "角色"]
TOKEN_COLUMNS = ["编号", "用户", "用途", "签发时间", "最近使用"]
AUDIT_COLUMNS = ["时间", "用户", "操作", "知识库", "对象", "详情", "来源地址"]
ADMIN_ONLY = "__admin__"  # not a base name (bases_dir names start with a letter): only admins "read" it
ROLE_LABELS = {"reader": "读者（提问、查看、下载）", "editor": "编辑（添加、重新索引、删除、恢复报告）"}


OUTCOMES = {"added": "已添加", "duplicate": "重复，未添加", "duplicate_indexed": "与已有报告相同", "rejected": "已拒绝",
            "unreadable": "无法读取", "not_indexed": "未能索引"}
SIGN_IN_SOURCES = {"local": "本地账户", "ldap": "LDAP", "auth": "启动参数账户"}
VERDICT_WORDS = {"up": "有用", "down": "无用", "withdrawn": "撤回反馈"}  # a feedback entry's verdict, as the log shows it


def detail_text(detail: str | None) -> str:
    """An audit entry's detail as the page shows it, in words (the CSV keeps the recorded JSON)."""
    try:
        d = json.loads(detail) if detail else None
    except ValueError:
        d = None
    if not isinstance(d, dict):
        return (detail or "")[:200]
    parts = []
    if isinstance(d.get("shown"), list):
        sources = Counter(p.get("source") for p in d["shown"] if isinstance(p, dict))
        parts.append(f"显示 {len(d['shown'])} 段" + ("：" if sources else "")
                     + "、".join(f"{s}（{n} 段）" for s, n in sources.items()))
    if isinstance(d.get("outcomes"), dict):
        parts.append("、".join(f"{f}：{OUTCOMES.get(o, o)}" for f, o in d["outcomes"].items()))
    if "rows" in d:
        parts.append(f"{d['rows']} 份报告")
    if "turns" in d:
        parts.append(f"{d['turns']} 轮问答")
    if "start" in d and "end" in d:
        parts.append(f"第 {d['start']}–{d['end']} 字")
    if "kind" in d:
        parts.append("用户" if d["kind"] == "user" else "组")
    if d.get("role"):
        parts.append("编辑" if d["role"] == "editor" else "读者")
    if d.get("group"):
        parts.append(f"组 {d['group']}")
    if d.get("admin"):
        parts.append("管理员")
    if d.get("ldap"):
        parts.append("仅 LDAP 登录")
    if d.get("verdict") in VERDICT_WORDS:
        parts.append(VERDICT_WORDS[d["verdict"]] + f"（{len(d.get('passages') or [])} 段）")
    if d.get("comment"):
        parts.append(f"意见：{d['comment']}")
    if "found" in d and not d.get("found"):
        parts.append("未找到")
    if d.get("api"):
        parts.append("经 API")
    if d.get("error"):
        parts.append(f"出错：{d['error']}")
    return "；".join(parts)[:300]


def _when(t) -> str:
    """A moment as the tables show it: Unix time, datetime or ISO text → "2026-11-23 14:05"."""
    if not t:
        return "—"
    if isinstance(t, str):
        return t.replace("T", " ")[:16]
    return (t if isinstance(t, datetime) else datetime.fromtimestamp(t)).strftime("%Y-%m-%d %H:%M")


class Admin:
    """The admin tab's handlers over the web app's knowledge bases, account store and audit log."""

    def __init__(self, web):
        self.web = web

    @property
    def store(self):
        return self.web.gate.store

    @property
    def audit(self):
        return self.web.gate.audit_log

    def _admin(self, request):
        who = self.web.who(request)
        if not who.admin or self.web.gate.open or self.store is None:
            raise gr.Error("只有管理员可以使用此页", title="无权操作")
        return who

    def _done(self, text: str) -> str:
        return f"**{html.escape(text)}**"

    # ---- tables --------------------------------------------------------------------------------

    def tables(self, request: gr.Request = None):
        self._admin(request)
        return self.base_rows(), self.user_rows(), self.group_rows(), self.grant_rows(), \
            gr.update(choices=[(f"{i.title}（{i.name}）", i.name) for i in self.web.bases.infos()])

    def base_rows(self) -> list[list]:
        rows = []
        for info in self.web.bases.infos():
            s = self.web.bases.get(info.name).status()
            rows.append([info.name, info.title, s["reports"], s["chunks"], _when(info.created)])
        return rows

    def user_rows(self) -> list[list]:
        return [[u.name, "是" if u.admin else "", "、".join(u.groups), "密码" if u.has_password else "LDAP",
                 _when(u.created)] for u in self.store.users()]

    def group_rows(self) -> list[list]:
        return [[g.name, "、".join(g.members)] for g in self.store.groups()]

    def grant_rows(self) -> list[list]:
        return [[g.base, g.user or "", g.group or "", "编辑" if g.role == "editor" else "读者"] for g in self.store.grants()]

    # ---- changes -------------------------------------------------------------------------------

    def _run(self, request, action, what, *args):
        """Call ``what(*args)`` as an admin; the page's message and every table afterwards."""
        who = self._admin(request)
        try:
            message = self._done(what(who, *args))
        except (YanduError, ValueError) as e:
            message = f"**未完成**：{html.escape(str(e))}"
        return (message, *self.tables(request))

    def create_base(self, name, title, request: gr.Request = None):
        def do(who, name, title):
            info = self.web.bases.create((name or "").strip(), title or "")
            self.web.gate.record(who, "base_create", base=info.name, target=info.title, request=request)
            self.web.worker_of(info.name)
            return f"已创建知识库 {info.title}（{info.name}）"
        return self._run(request, "base_create", do, name, title)

    def rename_base(self, name, title, request: gr.Request = None):
        def do(who, name, title):
            info = self.web.bases.rename((name or "").strip(), title or "")
            self.web.gate.record(who, "base_rename", base=info.name, target=info.title, request=request)
            return f"知识库 {info.name} 的标题已改为 {info.title}"
        return self._run(request, "base_rename", do, name, title)

    def delete_base(self, name, request: gr.Request = None):
        def do(who, name):
            target = self.web.bases.delete((name or "").strip())
            self.store.drop_base(name, by=who.name)  # a later base of the same name must not inherit its grants
            self.web.workers.pop(name, None)
            self.web.gate.record(who, "base_delete", base=name, target=target.name, request=request)
            return f"知识库 {name} 已移到回收站（{target.name}），可用 python app.py kb restore {target.name} 恢复"
        return self._run(request, "base_delete", do, name)

    def add_user(self, name, password, admin, request: gr.Request = None):
        def do(who, name, password, admin):
            self.store.add_user((name or "").strip(), password or None, admin=bool(admin), by=who.name)
            return f"已添加用户 {name.strip()}" + ("（仅 LDAP 登录）" if not password else "")
        return self._run(request, "user_add", do, name, password, admin)

    def remove_user(self, name, request: gr.Request = None):
        def do(who, name):
            self.store.remove_user((name or "").strip(), by=who.name)
            self.web.gate.sessions.close_user((name or "").strip())
            return f"已删除用户 {name.strip()}"
        return self._run(request, "user_remove", do, name)

    def set_password(self, name, password, request: gr.Request = None):
        def do(who, name, password):
            if not password:
                raise ValueError("请输入新密码")
            self.store.set_password((name or "").strip(), password, by=who.name)
            return f"已为 {name.strip()} 设置新密码"
        return self._run(request, "password_set", do, name, password)

    def add_group(self, name, request: gr.Request = None):
        def do(who, name):
            self.store.add_group((name or "").strip(), by=who.name)
            return f"已添加组 {name.strip()}"
        return self._run(request, "group_add", do, name)

    def remove_group(self, name, request: gr.Request = None):
        def do(who, name):
            self.store.remove_group((name or "").strip(), by=who.name)
            return f"已删除组 {name.strip()}"
        return self._run(request, "group_remove", do, name)

    def add_member(self, group, user, request: gr.Request = None):
        def do(who, group, user):
            self.store.add_member((group or "").strip(), (user or "").strip(), by=who.name)
            return f"已将 {user.strip()} 加入组 {group.strip()}"
        return self._run(request, "member_add", do, group, user)

    def remove_member(self, group, user, request: gr.Request = None):
        def do(who, group, user):
            self.store.remove_member((group or "").strip(), (user or "").strip(), by=who.name)
            return f"已将 {user.strip()} 移出组 {group.strip()}"
        return self._run(request, "member_remove", do, group, user)

    def grant(self, base, kind, name, role, request: gr.Request = None):
        def do(who, base, kind, name, role):
            info = self.web.bases.info(base or "")
            target = {"user": (name or "").strip()} if kind == "用户" else {"group": (name or "").strip()}
            self.store.grant(base, role, **target, by=who.name)
            return f"已授予 {kind} {name.strip()} 在 {info.title}（{base}）的{'编辑' if role == 'editor' else '读者'}权限"
        return self._run(request, "grant", do, base, kind, name, role)

    def revoke(self, base, kind, name, request: gr.Request = None):
        def do(who, base, kind, name):
            target = {"user": (name or "").strip()} if kind == "用户" else {"group": (name or "").strip()}
            self.store.revoke(base or "", **target, by=who.name)
            return f"已撤销 {kind} {name.strip()} 在 {base} 的权限"
        return self._run(request, "revoke", do, base, kind, name)

    # ---- the audit log -------------------------------------------------------------------------

    @staticmethod
    def _since(since) -> datetime | None:
        if not since or not str(since).strip():
            return None
        try:
            return datetime.strptime(str(since).strip(), "%Y-%m-%d")
        except ValueError:
            raise gr.Error("起始日期应为 YYYY-MM-DD", title="提示") from None

    def _entries(self, user, action, base, since):
        since_t = self._since(since)
        return self.audit.entries(since=since_t, user=(user or "").strip() or None,
                                  action=action if action and action != "全部" else None,
                                  base=(base or "").strip() or None, limit=2000)

    def audit_rows(self, user="", action="全部", base="", since="", request: gr.Request = None):
        self._admin(request)
        return [[_when(e.time), e.user or "", e.label, e.base or "",
                 SIGN_IN_SOURCES.get(e.target, e.target) if e.action == "sign_in" else e.target or "",
                 detail_text(e.detail), e.client or ""] for e in self._entries(user, action, base, since)]

    def audit_csv(self, user="", action="全部", base="", since="", request: gr.Request = None):
        self._admin(request)
        entries = self._entries(user, action, base, since)
        from ..access.audit import write_csv

        out = self.web._fresh_export(request, ".csv")
        write_csv(entries, out)
        self.web.served.grant(out, {ADMIN_ONLY})
        return gr.update(value=str(out))


    # ---- usage: what the archive is asked and fails to answer ------------------------------------

    def _usage(self, since):
        from ..access.usage import usage

        since_t = self._since(since)
        library = [(b, r.source) for b, r in self.web.bases.library(self.web.bases.names())]
        return usage(self.audit.entries(since=since_t), library)

    def usage_view(self, since="", request: gr.Request = None):
        """The usage section: a summary line, questions per day (for the chart), and the tables."""
        self._admin(request)
        from ..access.usage import usage_tables

        u = self._usage(since)
        tables = usage_tables(u, self.web.bases.titles())
        days = pd.DataFrame({"日期": list(u.per_day), "提问数": list(u.per_day.values())})
        summary = (f"**提问 {u.questions} 次**，其中未找到或相关度低 {u.failed_total} 次（列出最近 {len(u.failed)} 次）；"
                   f"反馈：有用 {u.feedback['up']} 次、无用 {u.feedback['down']} 次；从未被引用的报告 {len(u.never_cited)} 份。")
        chart = gr.update(value=days, y_lim=[0, max(u.per_day.values(), default=0) + 1])  # bars from 0
        return (summary, chart, *(rows for _, rows in list(tables.values())[1:]))

    def usage_csv(self, since="", request: gr.Request = None):
        self._admin(request)
        from ..access.usage import write_usage_csv

        out = self.web._fresh_export(request, ".csv")
        out = out.with_name(out.name.replace("研读问答", "研读使用情况"))
        write_usage_csv(self._usage(since), out, self.web.bases.titles())
        self.web.served.grant(out, {ADMIN_ONLY})
        return gr.update(value=str(out))

    # ---- personal access tokens ----------------------------------------------------------------

    @property
    def tokens(self):
        from ..access import TokenStore

        return TokenStore(self.store)

    def token_rows(self, request: gr.Request = None) -> list[list]:
        self._admin(request)
        return [[t.id, t.user, t.label, _when(t.created), _when(t.last_used) if t.last_used else "未使用"]
                for t in self.tokens.list()]

    def issue_token(self, user, label, request: gr.Request = None):
        """A new token for a user, shown once on the page (stored hashed); the token table."""
        who = self._admin(request)
        try:
            secret = self.tokens.issue((user or "").strip(), (label or "").strip(), by=who.name)
            message = (f"**已为 {html.escape(user.strip())} 签发访问令牌**（只显示这一次，请立即复制保存）：\n\n"
                       f"```\n{secret}\n```")
        except (YanduError, ValueError) as e:
            message = f"**未完成**：{html.escape(str(e))}"
        return message, self.token_rows(request)

    def revoke_token(self, token_id, request: gr.Request = None):
        who = self._admin(request)
        text = str(token_id or "").strip()
        try:
            if not (text.isascii() and text.isdigit()):
                raise ValueError("请输入令牌编号（令牌表的第一列）")
            self.tokens.revoke(int(text), by=who.name)
            message = self._done(f"已撤销访问令牌 {text}")
        except (YanduError, ValueError) as e:
            message = f"**未完成**：{html.escape(str(e))}"
        return message, self.token_rows(request)


def build_admin(web, session: dict) -> tuple:
    """The 管理 tab's components and events (inside ``gr.Tab``); ``session``: the page-load event that
    sets the sidebar's knowledge base choices, run again after a base is created, renamed or deleted."""
    admin = Admin(web)
    from ..access.audit import ACTIONS

    message = gr.Markdown("", elem_id="yd-admin-result")
    with gr.Accordion("知识库", open=True):
        base_table = gr.Dataframe(headers=BASE_COLUMNS, value=[], interactive=False, elem_id="yd-admin-bases")
        with gr.Row():
            base_name = gr.Textbox(label="名称", placeholder="小写字母开头，如 jijian", elem_id="yd-base-name")
            base_title = gr.Textbox(label="标题", placeholder="如 纪检监察室", elem_id="yd-base-title")
        with gr.Row():
            base_create = gr.Button("创建知识库", size="sm", variant="primary", elem_id="yd-base-create")
            base_rename = gr.Button("修改标题", size="sm", elem_id="yd-base-rename")
            base_delete = gr.Button("删除知识库", size="sm", variant="stop", elem_id="yd-base-delete")
    with gr.Accordion("用户与组", open=True):
        user_table = gr.Dataframe(headers=USER_COLUMNS, value=[], interactive=False, elem_id="yd-admin-users")
        with gr.Row():
            user_name = gr.Textbox(label="用户名", elem_id="yd-user-name")
            user_password = gr.Textbox(label="密码", type="password", placeholder="留空：仅 LDAP 登录",
                                       elem_id="yd-user-password")
            user_admin = gr.Checkbox(False, label="管理员", elem_id="yd-user-admin")
        with gr.Row():
            user_add = gr.Button("添加用户", size="sm", variant="primary", elem_id="yd-user-add")
            user_passwd = gr.Button("设置密码", size="sm", elem_id="yd-user-passwd")
            user_remove = gr.Button("删除用户", size="sm", variant="stop", elem_id="yd-user-remove")
        group_table = gr.Dataframe(headers=GROUP_COLUMNS, value=[], interactive=False, elem_id="yd-admin-groups")
        with gr.Row():
            group_name = gr.Textbox(label="组名", elem_id="yd-group-name")
            member_name = gr.Textbox(label="成员（用户名）", elem_id="yd-member-name")
        with gr.Row():
            group_add = gr.Button("添加组", size="sm", variant="primary", elem_id="yd-group-add")
            group_remove = gr.Button("删除组", size="sm", variant="stop", elem_id="yd-group-remove")
            member_add = gr.Button("加入组", size="sm", elem_id="yd-member-add")
            member_remove = gr.Button("移出组", size="sm", elem_id="yd-member-remove")
    with gr.Accordion("授权", open=True):
        grant_table = gr.Dataframe(headers=GRANT_COLUMNS, value=[], interactive=False, elem_id="yd-admin-grants")
        with gr.Row():
            grant_base = gr.Dropdown(choices=[], label="知识库", elem_id="yd-grant-base")
            grant_kind = gr.Radio(["用户", "组"], value="组", label="授予", elem_id="yd-grant-kind")
            grant_name = gr.Textbox(label="用户名或组名", elem_id="yd-grant-name")
            grant_role = gr.Radio([(label, key) for key, label in ROLE_LABELS.items()], value="reader", label="角色",
                                  elem_id="yd-grant-role")
        with gr.Row():
            grant_add = gr.Button("授权", size="sm", variant="primary", elem_id="yd-grant-add")
            grant_revoke = gr.Button("撤销", size="sm", variant="stop", elem_id="yd-grant-revoke")
    with gr.Accordion("审计日志", open=True):
        with gr.Row():
            audit_user = gr.Textbox(label="用户", elem_id="yd-audit-user")
            audit_action = gr.Dropdown([("全部", "全部"), *((label, code) for code, label in ACTIONS.items())], value="全部", label="操作", elem_id="yd-audit-action")
            audit_base = gr.Textbox(label="知识库", elem_id="yd-audit-base")
            audit_since = gr.Textbox(label="起始日期", placeholder="YYYY-MM-DD", elem_id="yd-audit-since")
        with gr.Row():
            audit_show = gr.Button("查询", size="sm", variant="primary", elem_id="yd-audit-show")
            # a click builds the file, then downloads it (a DownloadButton alone would download on the second click)
            audit_export = gr.Button("导出 CSV", size="sm", elem_id="yd-audit-csv")
            audit_file = gr.DownloadButton("csv", value=None, elem_id="yd-audit-file", elem_classes="yd-hidden")
        audit_table = gr.Dataframe(headers=AUDIT_COLUMNS, value=[], interactive=False, wrap=True,
                                   elem_id="yd-admin-audit", max_height=480,
                                   column_widths=["15%", "8%", "9%", "8%", "24%", "26%", "10%"])
    with gr.Accordion("访问令牌", open=False):
        gr.Markdown("供 HTTP API 与 MCP 使用的个人访问令牌：签发后只显示一次，库中只存其摘要；撤销立即生效。",
                    elem_classes="yd-hint")
        token_message = gr.Markdown("", elem_id="yd-token-result")
        token_table = gr.Dataframe(headers=TOKEN_COLUMNS, value=[], interactive=False, elem_id="yd-admin-tokens")
        with gr.Row():
            token_user = gr.Textbox(label="用户名", elem_id="yd-token-user")
            token_label = gr.Textbox(label="用途", placeholder="如 办公助手", elem_id="yd-token-label")
            token_id = gr.Textbox(label="令牌编号（撤销用）", elem_id="yd-token-id")
        with gr.Row():
            token_issue = gr.Button("签发令牌", size="sm", variant="primary", elem_id="yd-token-issue")
            token_revoke = gr.Button("撤销令牌", size="sm", variant="stop", elem_id="yd-token-revoke")
    with gr.Accordion("使用情况", open=False) as usage_box:
        with gr.Row():
            usage_since = gr.Textbox(label="起始日期", placeholder="YYYY-MM-DD，留空为全部", elem_id="yd-usage-since")
            usage_show = gr.Button("统计", size="sm", variant="primary", elem_id="yd-usage-show", scale=0, min_width=80)
            usage_export = gr.Button("导出 CSV", size="sm", elem_id="yd-usage-csv", scale=0, min_width=96)
            usage_file = gr.DownloadButton("csv", value=None, elem_id="yd-usage-file", elem_classes="yd-hidden")
        usage_summary = gr.Markdown("", elem_id="yd-usage-summary")
        usage_days = gr.BarPlot(value=None, x="日期", y="提问数", title="每日提问", height=240, y_axis_format="d",
                                elem_id="yd-usage-days")
        usage_bases = gr.Dataframe(headers=["知识库", "提问数"], value=[], interactive=False, label="各知识库提问",
                                   elem_id="yd-usage-bases")
        usage_failed = gr.Dataframe(headers=["时间", "用户", "知识库", "问题", "结果"], value=[], interactive=False,
                                    wrap=True, label="未找到或相关度低的问题", elem_id="yd-usage-failed", max_height=320)
        usage_disliked = gr.Dataframe(headers=["知识库", "报告", "位置", "摘录", "无用", "有用"], value=[], interactive=False,
                                      wrap=True, label="被标记无用最多的段落", elem_id="yd-usage-disliked", max_height=320)
        usage_never = gr.Dataframe(headers=["知识库", "报告"], value=[], interactive=False, label="从未被引用的报告",
                                   elem_id="yd-usage-never", max_height=320)

    tables = [message, base_table, user_table, group_table, grant_table, grant_base]
    private = dict(api_visibility="private", concurrency_id="admin", concurrency_limit=1)
    base_create.click(admin.create_base, inputs=[base_name, base_title], outputs=tables, **private).then(**session)
    base_rename.click(admin.rename_base, inputs=[base_name, base_title], outputs=tables, **private).then(**session)
    base_delete.click(admin.delete_base, inputs=[base_name], outputs=tables, **private,
                      js="(n) => confirm('删除知识库“' + n + '”？\\n其报告与索引将移到回收站（可恢复）。') ? [n] : ['']"
                      ).then(**session)
    user_add.click(admin.add_user, inputs=[user_name, user_password, user_admin], outputs=tables, **private)
    user_passwd.click(admin.set_password, inputs=[user_name, user_password], outputs=tables, **private)
    user_remove.click(admin.remove_user, inputs=[user_name], outputs=tables, **private)
    group_add.click(admin.add_group, inputs=[group_name], outputs=tables, **private)
    group_remove.click(admin.remove_group, inputs=[group_name], outputs=tables, **private)
    member_add.click(admin.add_member, inputs=[group_name, member_name], outputs=tables, **private)
    member_remove.click(admin.remove_member, inputs=[group_name, member_name], outputs=tables, **private)
    grant_add.click(admin.grant, inputs=[grant_base, grant_kind, grant_name, grant_role], outputs=tables, **private)
    grant_revoke.click(admin.revoke, inputs=[grant_base, grant_kind, grant_name], outputs=tables, **private)
    filters = [audit_user, audit_action, audit_base, audit_since]
    audit_show.click(admin.audit_rows, inputs=filters, outputs=[audit_table], api_visibility="private")
    audit_export.click(admin.audit_csv, inputs=filters, outputs=[audit_file], api_visibility="private").then(
        None, js="() => setTimeout(() => document.querySelector('#yd-audit-file').click(), 50)")
    token_issue.click(admin.issue_token, inputs=[token_user, token_label], outputs=[token_message, token_table], **private)
    token_revoke.click(admin.revoke_token, inputs=[token_id], outputs=[token_message, token_table], **private)
    usage = dict(fn=admin.usage_view, inputs=[usage_since],
                 outputs=[usage_summary, usage_days, usage_bases, usage_failed, usage_disliked, usage_never],
                 api_visibility="private")
    usage_show.click(**usage)
    usage_box.expand(**usage)
    usage_export.click(admin.usage_csv, inputs=[usage_since], outputs=[usage_file], api_visibility="private").then(
        None, js="() => setTimeout(() => document.querySelector('#yd-usage-file').click(), 50)")
    token_box_rows = dict(fn=admin.token_rows, outputs=[token_table], api_visibility="private", show_progress="hidden")
    return admin, tables[1:], audit_table, filters, token_box_rows
