"""The page layout (Gradio Blocks): which components exist, where, and which handler each event calls."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..bases import DEFAULT
from ..config import SECTION_TYPE_NAMES, SUPPORTED_SUFFIXES
from .handlers import MAX_QUESTION, WebApp
from ..ingest.years import report_kinds
from .admin import build_admin
from .library import DEFAULT_SORT, LIBRARY_HINT, library_html, sort_choices
from .render import CONTEXT_HINT, TITLE

EXAMPLES = [
    "意识形态工作存在哪些问题？",
    "全年发展了多少名党员？",
    "下一步如何加强执纪监督？",
    "基层党组织建设有哪些特色做法？",
    "存在问题的主要原因是什么？",
]
FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "Droid Sans Fallback", "system-ui", "sans-serif"]
CSS = "\n".join((Path(__file__).with_name(name)).read_text(encoding="utf-8") for name in ("style.css", "panels.css"))
# The page's scripts, each a function run once the page is up: page.js (citations, Chinese words),
# panels.js (the library's list, the upload panel).
JS = "() => {\n" + "".join(f"({(Path(__file__).with_name(name)).read_text(encoding='utf-8').strip()})();\n"
                            for name in ("page.js", "panels.js")) + "}"
# The conversation's copy in the browser, one key per turn (store.js: an expression giving window.ydStore).
STORE = (Path(__file__).with_name("store.js")).read_text(encoding="utf-8").strip()
LOAD_STORED = f"() => [({STORE}).load()]"
SAVE_STORED = f"(op) => {{ ({STORE}).apply(op); }}"
# After an answer: bring its question to the top of the chat, so the reader starts at [1].
SCROLL_TO_ANSWER = """() => { setTimeout(() => {
  const users = document.querySelectorAll('#yd-chat .message-row.user-row, #yd-chat .user-row, #yd-chat [data-testid="user"]');
  const last = users[users.length - 1];
  if (last) last.scrollIntoView({block: 'start', behavior: 'instant'});
  window.scrollTo(0, 0);
}, 60); }"""
# After a citation was opened: the marked passage centred in the context panel, the panel in view.
SCROLL_TO_PASSAGE = """() => { setTimeout(() => {
  const m = document.querySelector('#yd-context .yd-focus');
  if (!m) return;
  const body = m.closest('.yd-ctx-body');
  if (body) body.scrollTop = m.offsetTop - body.offsetTop - body.clientHeight / 3;
  const panel = document.querySelector('#yd-context');
  const r = panel.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 80) panel.scrollIntoView({block: 'start'});
}, 60); }"""
# The side panel from WebApp.side: the status line, and each filter box's choices with its chosen values
# kept where still offered (as WebApp.side_updates does on the server).
SHOW_SIDE = """(side, reports, years, dataYears) => {
  const offered = (choices, chosen) => ({__type__: 'update', choices,
    value: (chosen || []).filter((v) => choices.some((c) => String(c[1]) === String(v)))});
  return [side.status, offered(side.reports, reports), offered(side.years, years), offered(side.data_years, dataYears)];
}"""


# After a change in the library: its message in view (on a phone the list may have scrolled it away).
SHOW_LIB_RESULT = """() => { setTimeout(() => {
  const r = document.querySelector('#yd-lib-result');
  if (!r) return;
  const b = r.getBoundingClientRect();
  if (b.top < 0 || b.bottom > window.innerHeight) r.scrollIntoView({block: 'center'});
}, 60); }"""


def theme():
    return gr.themes.Default(primary_hue=gr.themes.colors.red, secondary_hue=gr.themes.colors.amber,
                             neutral_hue=gr.themes.colors.stone, font=FONTS,
                             font_mono=["JetBrains Mono", "DejaVu Sans Mono", "monospace"]).set(
        button_primary_background_fill="#b91c1c", button_primary_background_fill_hover="#991b1b",
        button_primary_text_color="#ffffff", body_background_fill="#faf9f7",
    )


def build(web: WebApp) -> gr.Blocks:
    """The page: 问答 (chat, its context panel beside it) and 报告库 tabs; filters, status and upload in
    a sidebar (a drawer on a phone); the API."""
    # With sign-in on, the page's configuration (served to every signed-in user) names no report, year or
    # knowledge base: each user's choices arrive with their session (session_start, refresh).
    s = web.status() if web.gate.open else {"documents": [], "years": [], "data_years": []}
    with gr.Blocks(title=TITLE, delete_cache=(3600, 86400)) as demo:
        turns = gr.State([])  # this session's conversation (server side: what citations resolve against)
        # what the browser's copy of the conversation is told (WebApp.keep, store.js); read back on a reload
        store_op = gr.JSON(None, visible=False, elem_id="yd-store-op")
        # what the side panel shows (WebApp.side), in the page: its components are redrawn only when it changes
        side_shown = gr.JSON(None, visible=False, elem_id="yd-side-shown")
        with gr.Sidebar(label="检索范围与报告", open=True, position="right", width=340, elem_id="yd-side"):
            # Adding reports first: an editor finds it without scrolling (readers do not see it).
            with gr.Accordion("添加报告", open=True, elem_id="yd-upload-box", visible=web.gate.open) as upload_box:
                # value: the default base's name (in every installation), so API callers may leave it out
                upload_base = gr.Dropdown(choices=[], value=DEFAULT, allow_custom_value=True, label="添加到知识库",
                                          visible=False, elem_id="yd-upload-base")
                # No `file_types`: Gradio would refuse a whole multi-file upload for one odd file and
                # leave the batch in its temp folder; the handler names each refused file instead,
                # adds the others, and deletes every temporary copy.
                upload = gr.File(label="上传报告", file_count="multiple", type="filepath", elem_id="yd-upload",
                                 height=110)
                gr.HTML(f'<div class="yd-hint" data-max-mb="{web.settings.max_file_mb:g}">支持 '
                        f'{" ".join(SUPPORTED_SUFFIXES)}，单个文件不超过 {web.settings.max_file_mb:g} MB；'
                        "内容相同的文件不会重复添加。</div>", elem_id="yd-upload-hint")
                # each batch's files, their stages while it runs, then what happened to each (web/batch.py)
                upload_result = gr.HTML("", elem_id="yd-upload-result", apply_default_css=False)
                upload_json = gr.JSON(visible=False)
                add_api = gr.Button("add", visible=False)  # the /add_reports API (the page uses upload_batch)
                refused_key = gr.Textbox(elem_id="yd-upload-refused", elem_classes="yd-hidden", show_label=False,
                                         container=False)
                refused_go = gr.Button("refused", elem_id="yd-upload-refused-go", elem_classes="yd-hidden")
            with gr.Accordion("检索范围", open=True, elem_id="yd-filters"):
                bases = gr.Dropdown(choices=[], value=[], multiselect=True, label="知识库", info="不选则检索您可读的全部知识库",
                                    visible=False, elem_id="yd-bases")
                # Custom values allowed: the choices fill in once the index is up (the page is served
                # before the startup index run ends), and API callers name reports by file name.
                reports = gr.Dropdown(choices=web.report_choices(s), value=[], multiselect=True, allow_custom_value=True,
                                      label="报告", info="不选则检索全部报告", elem_id="yd-reports")
                with gr.Row(elem_id="yd-year-row"):
                    years = gr.Dropdown(choices=web.year_choices(s), value=[], multiselect=True, allow_custom_value=True,
                                        label="报告年份", info="报告本身的年份", elem_id="yd-years", min_width=120)
                    # the years the passages are about: the 2024 figures of a 2025 政府工作报告 are 2024's
                    data_years = gr.Dropdown(choices=web.year_choices(s, "data_years"), value=[], multiselect=True,
                                             allow_custom_value=True, label="数据年份", info="段落所讲的年份",
                                             elem_id="yd-data-years", min_width=120)
                section_types = gr.CheckboxGroup(
                    choices=[(label, key) for key, label in SECTION_TYPE_NAMES.items()], value=[],
                    label="段落类型", info="不选则不限", elem_id="yd-types")
                top_k = gr.Slider(1, 20, value=web.settings.top_k, step=1, label="返回段落数", elem_id="yd-topk")
            with gr.Accordion("索引状态", open=True, elem_id="yd-status-box"):
                status = gr.Markdown(web.status_markdown(s) if web.gate.open else "", elem_id="yd-status")
                with gr.Group(visible=web.gate.open, elem_id="yd-rebuild-box") as rebuild_box:
                    rebuild = gr.Button("重建索引", size="sm", variant="secondary", elem_id="yd-rebuild")
                    confirm_empty = gr.Checkbox(False, label="确认清空索引（仅当报告文件夹缺失或为空时需要）",
                                                elem_id="yd-confirm-empty")
                rebuild_result = gr.Markdown("", elem_id="yd-rebuild-result")
        with gr.Row(elem_id="yd-top"):
            gr.HTML(
                '<div class="yd-header"><div class="yd-logo">研</div><div class="yd-heading">'
                '<div class="yd-title">研读 <span>Yandu</span></div>'
                '<div class="yd-sub">工作报告检索助手：提问即可找到报告原文中的相关段落，每一段都注明出处</div>'
                "</div></div>"
            )
            user_line = gr.HTML("", elem_id="yd-user")
        with gr.Tabs(elem_id="yd-tabs"):
            with gr.Tab("问答", id="chat", elem_id="yd-tab-chat"):
                with gr.Row(equal_height=False, elem_id="yd-main"):
                    with gr.Column(scale=6, min_width=320, elem_id="yd-chat-col"):
                        chatbot = gr.Chatbot(
                            label="问答", show_label=False, elem_id="yd-chat", height=620, autoscroll=False,
                            # no Gradio copy button: it copies a message's HTML (page.js adds one that copies its text)
                            buttons=[], layout="panel",
                            # 👍/👎 kept in the audit log: offered only where one is kept (sign-in on)
                            feedback_options=("Like", "Dislike") if web.gate.audit_log is not None else None,
                            # HTML messages (render.py), no Markdown: Gradio's Markdown lexes every message
                            # again whenever the chat's value changes (the answer of question 20 re-read 19 others)
                            sanitize_html=True, render_markdown=False, latex_delimiters=[],
                            placeholder='<div class="yd-empty"><b>向报告提问</b><br>'
                                        "答案是报告原文中的段落，每段注明出处；点击引用编号可在右侧查看原文。"
                                        f"问题最多 {MAX_QUESTION} 字。</div>",
                            examples=[{"text": q} for q in EXAMPLES[:4]],
                        )
                        with gr.Row(elem_id="yd-ask-row", equal_height=True):
                            question = gr.Textbox(
                                label="问题", show_label=False, placeholder="输入问题，按回车发送",
                                elem_id="yd-question", scale=8, lines=1, max_lines=4, autofocus=True,
                                max_length=MAX_QUESTION,
                                submit_btn=False,
                            )
                            ask = gr.Button("提问", variant="primary", elem_id="yd-ask", scale=0, min_width=64)
                        comment = gr.Textbox(label="反馈意见（可选）", placeholder="先写意见，再点答案下方的拇指图标（赞或踩）",
                                             max_length=300, lines=1, elem_id="yd-feedback-comment",
                                             visible=web.gate.audit_log is not None)
                        with gr.Row(elem_id="yd-tools"):
                            compare = gr.Button("对比各报告", size="sm", elem_id="yd-compare", scale=0, min_width=100)
                            export = gr.DownloadButton("导出 Markdown", value=None, interactive=False, size="sm",
                                                       elem_id="yd-export", scale=0, min_width=110)
                            # Word is built when asked for (python-docx: ~0.1 s a turn, too slow to redo per answer)
                            export_docx = gr.Button("导出 Word", interactive=False, size="sm",
                                                    elem_id="yd-export-docx", scale=0, min_width=96)
                            docx_file = gr.DownloadButton("docx", value=None, elem_id="yd-docx-file",
                                                          elem_classes="yd-hidden")
                            clear = gr.Button("清空对话", size="sm", elem_id="yd-clear", scale=0, min_width=90)
                    with gr.Column(scale=4, min_width=300, elem_id="yd-context-col"):
                        context = gr.HTML(CONTEXT_HINT, elem_id="yd-context")
                        original = gr.DownloadButton("下载原文", value=None, interactive=False, size="sm",
                                                     elem_id="yd-original")
                cite_key = gr.Textbox(elem_id="yd-cite-key", elem_classes="yd-hidden", show_label=False,
                                      container=False)
                cite_go = gr.Button("cite", elem_id="yd-cite-go", elem_classes="yd-hidden")
                rate_key = gr.Textbox(elem_id="yd-rate-key", elem_classes="yd-hidden", show_label=False,
                                      container=False)
                rate_go = gr.Button("rate", elem_id="yd-rate-go", elem_classes="yd-hidden")
                # store.js's "删除最早的 n 轮" when the browser's storage is full
                trim_key = gr.Textbox(elem_id="yd-trim-key", elem_classes="yd-hidden", show_label=False,
                                      container=False)
                trim_go = gr.Button("trim", elem_id="yd-trim-go", elem_classes="yd-hidden")
            with gr.Tab("报告库", id="library", elem_id="yd-tab-library") as library_tab:
                with gr.Row(elem_id="yd-lib-filters"):
                    lib_query = gr.Textbox(label="查找", placeholder="标题、单位或文件名", elem_id="yd-lib-query", scale=3,
                                           min_width=160)
                    lib_kind = gr.Dropdown(choices=["全部", *(k.name for k in report_kinds()), "其他"], value="全部", label="类型",
                                           elem_id="yd-lib-kind", scale=1, min_width=120)
                    # the order, reachable by touch (on a desktop a click on a column's header sorts too)
                    lib_sort = gr.Dropdown(choices=sort_choices(), value=DEFAULT_SORT, label="排序", elem_id="yd-lib-sort",
                                           scale=1, min_width=170)
                # the trash: editors only (their first look at the tab shows it to them)
                lib_view = gr.Radio([("在库报告", "library"), ("回收站", "trash")], value="library", show_label=False,
                                    container=False, elem_id="yd-lib-view", visible=web.gate.open)
                library = gr.HTML(library_html(web.library_rows(), DEFAULT_SORT) if web.gate.open else "",
                                  elem_id="yd-library", apply_default_css=False)
                lib_result = gr.Markdown("", elem_id="yd-lib-result")
                with gr.Column(elem_id="yd-lib-detail") as lib_detail:
                    with gr.Row(elem_id="yd-lib-actions"):
                        lib_reindex = gr.Button("重新索引", size="sm", interactive=False, elem_id="yd-lib-reindex",
                                                scale=0, min_width=100)
                        lib_remove = gr.Button("删除报告", size="sm", variant="stop", interactive=False,
                                               elem_id="yd-lib-remove", scale=0, min_width=100)
                    outline = gr.HTML(LIBRARY_HINT, elem_id="yd-outline")
                # the report the buttons act on (a component, not a State: the delete confirmation reads it)
                selected = gr.Textbox("", elem_id="yd-lib-selected", elem_classes="yd-hidden", container=False)
                # a click in the list (panels.js): the row, header or trash file it was on, and which action
                lib_key = gr.Textbox(elem_id="yd-lib-key", elem_classes="yd-hidden", show_label=False, container=False)
                lib_go = {go: gr.Button(go, elem_id=f"yd-lib-{go}-go", elem_classes="yd-hidden")
                          for go in ("pick", "sort", "restore", "purge")}
            with gr.Tab("管理", id="admin", elem_id="yd-tab-admin", visible=False) as admin_tab:
                session = dict(fn=web.session_start,
                               outputs=[bases, upload_base, upload_box, rebuild_box, admin_tab, user_line],
                               api_visibility="private", show_progress="hidden")
                admin, admin_tables, audit_table, audit_filters, token_rows = build_admin(web, session)

        filters = [top_k, reports, years, section_types, bases, data_years]
        chat_outputs = [chatbot, turns, question, export, export_docx]
        chat_kwargs = dict(fn=web.chat, inputs=[question, turns, *filters], outputs=chat_outputs,
                           concurrency_limit=4, show_progress_on=[chatbot])
        keep = dict(fn=web.keep, inputs=[turns], outputs=[store_op], api_visibility="private", show_progress="hidden")
        save = dict(fn=None, inputs=[store_op], js=SAVE_STORED)
        word = dict(fn=web.word_enabled, inputs=[turns], outputs=[export_docx], api_visibility="private",
                    show_progress="hidden")
        question.submit(**chat_kwargs, api_name="chat",
                        api_description="Ask a question; returns the chat with the cited answer.").then(
            None, js=SCROLL_TO_ANSWER).then(**keep).then(**save)
        ask.click(**chat_kwargs, api_name="ask", api_visibility="private").then(
            None, js=SCROLL_TO_ANSWER).then(**keep).then(**save)
        chatbot.example_select(web.example_chat, inputs=[turns, *filters], outputs=chat_outputs,
                               api_visibility="private", concurrency_limit=4).then(
            None, js=SCROLL_TO_ANSWER).then(**keep).then(**save)
        compare.click(web.compare_turn, inputs=[question, turns, reports, years, section_types, bases, data_years],
                      outputs=chat_outputs,
                      api_visibility="private", concurrency_limit=2, show_progress_on=[chatbot]).then(
            None, js=SCROLL_TO_ANSWER).then(**keep).then(**save)
        export_docx.click(web.export_word, inputs=[turns], outputs=[docx_file], api_visibility="private",
                          show_progress_on=[export_docx]).then(
            None, js="() => setTimeout(() => document.querySelector('#yd-docx-file').click(), 50)")
        cite_go.click(web.cited, inputs=[cite_key, turns], outputs=[context, original], api_visibility="private",
                      show_progress="hidden").then(None, js=SCROLL_TO_PASSAGE)
        # One clear action: the button and the chat's own trash icon both empty the view, the session,
        # the browser's copy and the exports (a reload brings nothing back).
        cleared = dict(fn=web.clear, outputs=[chatbot, turns, context, original, export, export_docx],
                       api_visibility="private")
        clear.click(**cleared).then(**keep).then(**save)
        chatbot.clear(**cleared).then(**keep).then(**save)
        if web.gate.audit_log is not None:  # a like listener makes Gradio draw the thumbs, which need feedback_options
            chatbot.like(web.feedback, inputs=[turns, comment], outputs=[comment], api_visibility="private",
                         show_progress="hidden")
        rate_go.click(web.passage_feedback, inputs=[rate_key, turns, comment], outputs=[comment],
                      api_visibility="private", show_progress="hidden")
        years.change(web.check_years, inputs=[years], outputs=[years], api_visibility="private", show_progress="hidden")
        data_years.change(web.check_data_years, inputs=[data_years], outputs=[data_years], api_visibility="private",
                          show_progress="hidden")
        demo.load(web.restore, inputs=[store_op], outputs=[chatbot, turns, export, store_op], js=LOAD_STORED,
                  api_visibility="private").then(**word).then(**save)
        trim_go.click(web.trim, inputs=[trim_key, turns],
                      outputs=[chatbot, turns, context, original, export, export_docx, store_op],
                      api_visibility="private", show_progress="hidden").then(**save)
        demo.load(**session)

        # The page's upload streams each file's stage into the result (web/batch.py); API callers get
        # the structured result from /add_reports (the same work: WebApp.adding).
        upload.upload(web.upload_batch, inputs=[upload, upload_base, reports, years],
                      outputs=[upload_result, status, reports, years, upload], api_visibility="private",
                      show_progress="minimal", show_progress_on=[upload_result], concurrency_limit=1, concurrency_id="corpus")
        add_api.click(web.api_add_reports, inputs=[upload, upload_base], outputs=[upload_json], api_name="add_reports",
                      concurrency_limit=1, concurrency_id="corpus",
                      api_description="Add report files to the corpus and index them; says what happened to each.")
        refused_go.click(web.upload_refused, inputs=[refused_key], outputs=[upload_result], api_visibility="private",
                         show_progress="hidden")
        rebuild.click(web.rebuild, inputs=[reports, years, confirm_empty, bases], outputs=[rebuild_result, status, reports, years],
                      api_name="rebuild_index", show_progress_on=[rebuild_result],
                      concurrency_limit=1, concurrency_id="corpus",
                      api_description="Re-index every report from scratch.")
        # The side panel every 4 s: the tick writes only a hidden value (nothing when it is unchanged), and the
        # page's components are updated from it in the browser, only when it changed — no request of theirs
        # to draw progress text ("queue: 1/1 | 0.3/0.4s") for.
        side = dict(fn=web.refresh, inputs=[side_shown], outputs=[side_shown], api_visibility="private",
                    show_progress="hidden", concurrency_limit=None)
        demo.load(**side)
        gr.Timer(4.0).tick(**side)
        side_shown.change(None, inputs=[side_shown, reports, years, data_years],
                          outputs=[status, reports, years, data_years], js=SHOW_SIDE)

        lib_state = [lib_query, lib_kind, lib_sort, lib_view, selected]
        lib_tab = [library, lib_view, lib_sort, lib_detail, outline, selected, lib_reindex, lib_remove]
        lib_shown = dict(fn=web.library_tab, inputs=lib_state, outputs=lib_tab, api_visibility="private",
                         show_progress="hidden")
        lib_query.change(**lib_shown)
        lib_kind.change(**lib_shown)
        lib_sort.input(**lib_shown)
        lib_view.input(**lib_shown)
        library_tab.select(**lib_shown)
        admin_tab.select(admin.tables, outputs=admin_tables, api_visibility="private", show_progress="hidden").then(
            admin.audit_rows, inputs=audit_filters, outputs=[audit_table], api_visibility="private").then(**token_rows)
        lib_go["pick"].click(web.library_pick, inputs=[lib_key], outputs=[outline, selected, lib_reindex, lib_remove],
                             api_visibility="private", show_progress="minimal", show_progress_on=[outline])
        lib_go["sort"].click(web.library_sort, inputs=[lib_key, *lib_state], outputs=[library, lib_sort],
                             api_visibility="private", show_progress="hidden")
        changed = dict(api_visibility="private", show_progress_on=[lib_result], concurrency_id="corpus",
                       concurrency_limit=1)
        lib_remove.click(web.library_remove, inputs=[selected, lib_query, lib_kind, lib_sort, lib_view],
                         outputs=[lib_result, *lib_tab], **changed,
                         js="(s, ...rest) => confirm('删除报告“' + s + '”？\\n报告将移到回收站（可恢复），索引中不再包含它。') "
                            "? [s, ...rest] : ['', ...rest]").then(None, js=SHOW_LIB_RESULT)
        lib_reindex.click(web.library_reindex, inputs=[selected, lib_query, lib_kind, lib_sort],
                          outputs=[lib_result, library, outline], **changed)
        trashed = dict(inputs=[lib_key, lib_query, lib_kind, lib_sort, selected], outputs=[lib_result, *lib_tab], **changed)
        lib_go["restore"].click(web.library_restore, **trashed).then(None, js=SHOW_LIB_RESULT)
        lib_go["purge"].click(web.library_purge, **trashed).then(None, js=SHOW_LIB_RESULT)  # asked first: panels.js

        # Searches run side by side, up to 16 (the facade is safe for concurrent readers); the server's
        # memory stayed flat with 16 clients during uploads and a rebuild (python -m bench --load).
        gr.api(web.api_search, api_name="search", concurrency_limit=16)
        gr.api(web.api_status, api_name="status", concurrency_limit=None)
        gr.api(web.api_compare, api_name="compare", concurrency_limit=2)
        gr.api(web.api_library, api_name="library", concurrency_limit=None)
        gr.api(web.api_outline, api_name="outline", concurrency_limit=None)
        gr.api(web.remove_report, api_name="remove_report", concurrency_limit=1, concurrency_id="corpus")
        gr.api(web.api_trash, api_name="trash", concurrency_limit=None)
        gr.api(web.restore_report, api_name="restore_report", concurrency_limit=1, concurrency_id="corpus")
        gr.api(web.purge_report, api_name="purge_report", concurrency_limit=1, concurrency_id="corpus")
        gr.api(web.reindex_report, api_name="reindex_report", concurrency_limit=1, concurrency_id="corpus")
    return demo
