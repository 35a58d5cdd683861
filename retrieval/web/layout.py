"""The page layout (Gradio Blocks): which components exist, where, and which handler each event calls."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..config import SECTION_TYPE_NAMES, SUPPORTED_SUFFIXES
from .handlers import WebApp
from .render import CONTEXT_HINT, CTX_LABEL, TITLE

EXAMPLES = [
    "意识形态工作存在哪些问题？",
    "全年发展了多少名党员？",
    "下一步如何加强执纪监督？",
    "基层党组织建设有哪些特色做法？",
    "存在问题的主要原因是什么？",
]
FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "Droid Sans Fallback", "system-ui", "sans-serif"]
CSS = (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")


def theme():
    return gr.themes.Default(primary_hue=gr.themes.colors.red, secondary_hue=gr.themes.colors.amber,
                             neutral_hue=gr.themes.colors.stone, font=FONTS,
                             font_mono=["JetBrains Mono", "DejaVu Sans Mono", "monospace"]).set(
        button_primary_background_fill="#b91c1c", button_primary_background_fill_hover="#991b1b",
        button_primary_text_color="#ffffff", body_background_fill="#faf9f7",
    )


def build(web: WebApp) -> gr.Blocks:
    """The page: chat and context on the left, filters, status and upload on the right; the API."""
    s = web.status()
    with gr.Blocks(title=TITLE, delete_cache=(3600, 86400)) as demo:
        turns = gr.State([])
        known_docs = gr.State([])
        gr.HTML(
            '<div class="yd-header"><div class="yd-logo">研</div><div>'
            '<div class="yd-title">研读 <span>Yandu</span></div>'
            '<div class="yd-sub">工作报告检索助手：提问即可找到报告原文中的相关段落，每一段都注明出处</div>'
            "</div></div>"
        )
        with gr.Row(equal_height=False, elem_id="yd-main"):
            with gr.Column(scale=7, min_width=480):
                chatbot = gr.Chatbot(
                    label="问答", show_label=False, elem_id="yd-chat", height=600,
                    buttons=["copy", "copy_all"], feedback_options=None, layout="panel",
                    sanitize_html=True, line_breaks=True, render_markdown=True, latex_delimiters=[],
                    placeholder='<div class="yd-empty"><b>向报告提问</b><br>'
                                "答案是报告原文中的段落：按报告分组，注明章节、类型和得分，问题中的词语高亮显示。</div>",
                    examples=[{"text": q} for q in EXAMPLES[:3]],
                )
                with gr.Row(elem_id="yd-ask-row", equal_height=True):
                    question = gr.Textbox(
                        label="问题", show_label=False, placeholder="输入问题，按回车发送，例如：全年发展了多少名党员？",
                        elem_id="yd-question", scale=8, lines=1, max_lines=4, autofocus=True,
                    )
                    ask = gr.Button("提问", variant="primary", elem_id="yd-ask", scale=1, min_width=96)
                with gr.Row(elem_id="yd-tools"):
                    ctx_choice = gr.Dropdown(
                        choices=[], value=None, label=CTX_LABEL, elem_id="yd-ctx-choice",
                        interactive=False, scale=1, min_width=240, allow_custom_value=False,
                    )
                    ctx_button = gr.Button("在原文中查看", elem_id="yd-ctx-btn", scale=0, min_width=140)
                    export = gr.DownloadButton("导出 Markdown", value=None, interactive=False,
                                               elem_id="yd-export", scale=0, min_width=150)
                    clear = gr.Button("清空对话", elem_id="yd-clear", scale=0, min_width=110)
                context = gr.HTML(CONTEXT_HINT, elem_id="yd-context")
                gr.Examples(EXAMPLES, inputs=[question], label="示例问题（点击填入输入框）", examples_per_page=10)
            with gr.Column(scale=3, min_width=300, elem_id="yd-side"):
                with gr.Accordion("检索范围", open=True, elem_id="yd-filters"):
                    reports = gr.Dropdown(choices=web.report_choices(s), value=[], multiselect=True,
                                          label="报告", info="不选则检索全部报告", elem_id="yd-reports")
                    years = gr.Dropdown(choices=web.year_choices(s), value=[], multiselect=True,
                                        label="年份", info="不选则不限", elem_id="yd-years")
                    section_types = gr.CheckboxGroup(
                        choices=[(label, key) for key, label in SECTION_TYPE_NAMES.items()], value=[],
                        label="段落类型", info="不选则不限", elem_id="yd-types")
                    top_k = gr.Slider(1, 20, value=web.settings.top_k, step=1, label="返回段落数",
                                      elem_id="yd-topk")
                with gr.Accordion("索引状态", open=True, elem_id="yd-status-box"):
                    status = gr.Markdown(web.status_markdown(s), elem_id="yd-status")
                    rebuild = gr.Button("重建索引", size="sm", variant="secondary", elem_id="yd-rebuild")
                    confirm_empty = gr.Checkbox(False, label="确认清空索引（仅当报告文件夹缺失或为空时需要）",
                                                elem_id="yd-confirm-empty")
                    rebuild_result = gr.Markdown("", elem_id="yd-rebuild-result")
                with gr.Accordion("添加报告", open=True, elem_id="yd-upload-box"):
                    # No `file_types`: Gradio would refuse a whole multi-file upload for one odd file and
                    # leave the batch in its temp folder; the handler names each refused file instead,
                    # adds the others, and deletes every temporary copy.
                    upload = gr.File(label="上传报告", file_count="multiple", type="filepath", elem_id="yd-upload",
                                     height=150)
                    gr.Markdown(f"支持 {' '.join(SUPPORTED_SUFFIXES)}，单个文件不超过 {web.settings.max_file_mb:g} MB；"
                                "内容相同的文件不会重复添加。", elem_classes="yd-hint")
                    upload_result = gr.Markdown("", elem_id="yd-upload-result")

        filters = [top_k, reports, years, section_types]
        chat_outputs = [chatbot, turns, question, ctx_choice, export]
        submit_kwargs = dict(fn=web.chat, inputs=[question, turns, *filters], outputs=chat_outputs,
                             concurrency_limit=4)
        question.submit(**submit_kwargs, api_name="chat",
                        api_description="Ask a question; returns the chat with the cited answer.")
        ask.click(**submit_kwargs, api_visibility="private")
        chatbot.example_select(web.example_chat, inputs=[turns, *filters], outputs=chat_outputs,
                               api_visibility="private", concurrency_limit=4)
        chatbot.select(web.select_turn, inputs=[turns], outputs=[ctx_choice], api_visibility="private",
                       show_progress="hidden")
        scroll = "() => { setTimeout(() => { const m = document.querySelector('#yd-context .yd-focus'); " \
                 "if (m) m.scrollIntoView({block: 'center', behavior: 'smooth'}); }, 80); }"
        ctx_button.click(web.show_context, inputs=[ctx_choice, turns], outputs=[context],
                         api_visibility="private", show_progress="minimal").then(
            None, js=scroll, api_visibility="private")
        ctx_choice.input(web.show_context, inputs=[ctx_choice, turns], outputs=[context],
                         api_visibility="private", show_progress="minimal").then(
            None, js=scroll, api_visibility="private")
        clear.click(web.clear, outputs=[chatbot, turns, ctx_choice, context, export], api_visibility="private")
        upload.upload(web.add_reports, inputs=[upload, reports, years],
                      outputs=[upload_result, status, reports, years, upload], api_name="add_reports",
                      show_progress_on=[upload_result], concurrency_limit=1, concurrency_id="corpus",
                      api_description="Add report files to the corpus and index them; says what happened to each.")
        rebuild.click(web.rebuild, inputs=[reports, years, confirm_empty], outputs=[rebuild_result, status, reports, years],
                      api_name="rebuild_index", show_progress_on=[rebuild_result],
                      concurrency_limit=1, concurrency_id="corpus",
                      api_description="Re-index every report from scratch.")
        side = dict(fn=web.refresh, inputs=[status, reports, years, known_docs],
                    outputs=[status, reports, years, known_docs], api_visibility="private",
                    show_progress="hidden", concurrency_limit=None)
        demo.load(**side)
        gr.Timer(4.0).tick(**side)
        # Searches run side by side (the facade is safe for concurrent readers): queued behind 4 workers,
        # 16 clients waited 2 s (p50; python -m bench --load).
        gr.api(web.api_search, api_name="search", concurrency_limit=16)
        gr.api(web.api_status, api_name="status", concurrency_limit=None)
    return demo
