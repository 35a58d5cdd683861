"""Yandu web chat (Gradio 6 Blocks): ask, read cited passages, see them in context, add reports.

Layout: the chat on the left (answers grouped by report, question terms highlighted, "在原文中查看"
below it, Markdown export), a side panel on the right (filters, top-k, index status, upload).

API (documented on the page under "通过 API 使用"):

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("意识形态工作存在哪些问题？", 5, api_name="/search")

returns the CLI's ``--json`` passage objects. Indexing runs in one background thread
(:class:`IndexWorker`); questions are answered from the live index generation meanwhile.
"""
from __future__ import annotations

import atexit
import html
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import gradio as gr

from ..config import SECTION_TYPE_NAMES, SUPPORTED_SUFFIXES, Settings
from ..engine import Yandu
from ..errors import IndexBusy
from ..progress import ProgressEvent, Stage
from ..ingest import corpus_files, sha256_file
from ..store import IndexReport, open_store
from ..text import normalize, tokenize

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_NAME_BYTES = 200
INDEX_LOCK_TIMEOUT = 300  # seconds to wait for another process (e.g. `app.py index`) to finish writing
WATCH_DEBOUNCE = 2.0  # seconds of quiet in the corpus folder before re-indexing
EXAMPLES = [
    "意识形态工作存在哪些问题？",
    "全年发展了多少名党员？",
    "下一步如何加强执纪监督？",
    "基层党组织建设有哪些特色做法？",
    "存在问题的主要原因是什么？",
]
TITLE = "研读 · 工作报告检索"


# --------------------------------------------------------------------------------------------
# Background indexing
# --------------------------------------------------------------------------------------------


@dataclass
class IndexRun:
    """The outcome of one index run, covering every request up to ticket `covers`."""

    covers: int
    report: IndexReport | None = None
    error: str | None = None
    finished: float = field(default_factory=time.time)


class IndexWorker:
    """One thread that runs index updates, one at a time; requests made while it runs coalesce.

    `request()` returns a ticket; `wait(ticket)` returns the run that covered it. Searches never
    touch this object's lock, so they keep answering from the live generation during a run.
    """

    def __init__(self, app: Yandu):
        self.app = app
        self._cond = threading.Condition()
        self._requested = 0
        self._started = 0
        self._rebuild = False
        self._runs: list[IndexRun] = []
        self.running = False
        self.progress = ProgressEvent(Stage.READING)
        self._thread = threading.Thread(target=self._loop, name="yandu-indexer", daemon=True)
        self._thread.start()

    def request(self, rebuild: bool = False) -> int:
        with self._cond:
            self._requested += 1
            self._rebuild |= rebuild
            self._cond.notify_all()
            return self._requested

    def wait(self, ticket: int, timeout: float | None = None) -> IndexRun | None:
        """The run covering `ticket`, or None if it has not finished within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                run = next((r for r in self._runs if r.covers >= ticket), None)
                if run is not None:
                    return run
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def _on_progress(self, event: ProgressEvent) -> None:
        self.progress = event

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._requested <= self._started:
                    self._cond.wait()
                covers, rebuild = self._requested, self._rebuild
                self._started, self._rebuild = covers, False
                self.running, self.progress = True, ProgressEvent(Stage.READING)
            run = IndexRun(covers)
            try:
                run.report = self.app.index(rebuild=rebuild, progress=self._on_progress,
                                            lock_timeout=INDEX_LOCK_TIMEOUT)
            except IndexBusy as e:
                run.error = f"索引正被其他进程更新，请稍后再试（{e}）"
            except Exception as e:  # reported to the user; the worker keeps running
                run.error = f"索引失败：{type(e).__name__}: {e}"
            if run.report is not None:
                for line in run.report.lines():
                    print(f"index: {line}", flush=True)
            if run.error:
                print(f"index: {run.error}", file=sys.stderr, flush=True)
            with self._cond:
                run.finished = time.time()
                self._runs = [*self._runs[-19:], run]
                self.running = False
                self._cond.notify_all()


class CorpusWatcher:
    """watchdog observer on the corpus folder: files appearing, changing or leaving → one re-index."""

    RELEVANT = {"created", "deleted", "moved", "modified", "closed"}  # not opened / closed_no_write

    def __init__(self, corpus_dir: Path, worker: IndexWorker, debounce: float = WATCH_DEBOUNCE):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.worker, self.debounce = worker, debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in CorpusWatcher.RELEVANT and watcher.relevant(event):
                    watcher.poke()

        self.observer = Observer()
        self.observer.schedule(Handler(), str(corpus_dir), recursive=True)

    @staticmethod
    def relevant(event) -> bool:
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if event.is_directory:
            return event.event_type in ("deleted", "moved")
        for p in paths:
            name = os.path.basename(os.fsdecode(p))
            if name and not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                return True
        return False

    def poke(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.worker.request)
            self._timer.daemon = True
            self._timer.start()

    def start(self) -> None:
        self.observer.daemon = True
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def safe_filename(name: str) -> str:
    """A plain file name for the corpus: no folders, no `..`, no control characters; Chinese kept.

    Returns "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip()
    name = name.lstrip(". ")  # no hidden files, no "..": the corpus ignores and forbids them
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"\s+", " ", stem).rstrip(". ")
    suffix = suffix.lower()
    if not suffix and stem.lower() in {s[1:] for s in SUPPORTED_SUFFIXES}:
        return ""
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    if not stem:
        stem = "报告"
    return stem + suffix


def _place(part: Path, corpus_dir: Path, name: str) -> Path:
    """Give the finished file `part` its name in the corpus, never replacing an existing file.

    `os.link` fails if the name is taken, so two uploads racing for one name both survive.
    """
    stem, suffix = os.path.splitext(name)
    for n in range(1, 10_000):
        target = corpus_dir / (name if n == 1 else f"{stem} ({n}){suffix}")
        try:
            os.link(part, target)
        except FileExistsError:
            continue
        part.unlink()
        return target
    raise OSError(f"too many files named {name}")


def corpus_hashes(settings: Settings) -> dict[str, str]:
    """sha256 → file name for every report in the corpus (from the manifest where still valid)."""
    files, _ = corpus_files(settings.corpus_dir)
    manifest = open_store(settings).manifest()
    out: dict[str, str] = {}
    for name, path in files.items():
        entry = manifest.files.get(name) if manifest else None
        st = path.stat()
        if entry and entry.get("size") == st.st_size and st.st_mtime <= manifest.updated:
            sha = entry["sha256"]
        else:
            sha = sha256_file(path)
        out.setdefault(sha, name)
    return out


@dataclass
class Upload:
    original: str
    name: str = ""  # name in the corpus when saved
    outcome: str = ""  # "saved", "duplicate", "rejected"
    reason: str = ""


def save_uploads(settings: Settings, paths: list[str]) -> list[Upload]:
    """Copy uploaded temp files into the corpus under safe names; same content is not copied twice."""
    corpus = settings.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    known = corpus_hashes(settings)
    results = []
    for tmp in paths:
        tmp_path = Path(tmp)
        up = Upload(original=tmp_path.name)
        results.append(up)
        name = safe_filename(tmp_path.name)
        suffix = os.path.splitext(name)[1]
        if not name or suffix not in SUPPORTED_SUFFIXES:
            up.outcome, up.reason = "rejected", f"不支持的文件类型（支持 {' '.join(SUPPORTED_SUFFIXES)}）"
            continue
        try:
            size = tmp_path.stat().st_size
        except OSError:
            up.outcome, up.reason = "rejected", "上传的文件已不存在，请重新上传"
            continue
        if size > settings.max_file_mb * 1024 * 1024:
            up.outcome, up.reason = "rejected", f"文件超过 {settings.max_file_mb:g} MB"
            continue
        if size == 0:
            up.outcome, up.reason = "rejected", "空文件"
            continue
        sha = sha256_file(tmp_path)
        if sha in known:
            up.outcome, up.name = "duplicate", known[sha]
            continue
        part = corpus / f".upload-{os.getpid()}-{threading.get_ident()}.part"  # hidden: not a report yet
        try:
            shutil.copyfile(tmp_path, part)
            target = _place(part, corpus, name)
        except OSError as e:
            part.unlink(missing_ok=True)
            up.outcome, up.reason = "rejected", f"无法保存（{e.strerror or e}）"
            continue
        known[sha] = target.name
        up.outcome, up.name = "saved", target.name
    return results


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_MD_LINE_START = re.compile(r"^(\s*)([-+>]|\d+[.)])", re.M)


def _md_escape(text: str) -> str:
    """Text safe inside Markdown with inline HTML: HTML-escaped, Markdown syntax disarmed."""
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def highlight_terms(question: str) -> list[str]:
    """The question's terms worth marking (matching form): two characters or more, longest first."""
    terms = {t for t in tokenize(question or "") if len(t) >= 2}
    return sorted(terms, key=lambda t: (-len(t), t))


def mark_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Character spans of `text` where a term occurs, matched in normalised form (NFKC, lower case)."""
    if not terms or not text:
        return []
    norm_chars, owner = [], []
    for i, ch in enumerate(text):
        n = normalize(ch)
        norm_chars.append(n)
        owner.extend([i] * len(n))
    norm = "".join(norm_chars)
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(norm):
        if m.end() > m.start():
            spans.append((owner[m.start()], owner[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def marked(text: str, terms: list[str], escape=_md_escape) -> str:
    out, pos = [], 0
    for s, e in mark_spans(text, terms):
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


def _type_label(section_type: str) -> str:
    return SECTION_TYPE_NAMES.get(section_type, section_type or "其他")


def _badge(section_type: str) -> str:
    kind = section_type if section_type in SECTION_TYPE_NAMES else "other"
    return f'<span class="yd-badge yd-{kind}">{html.escape(_type_label(section_type))}</span>'


def _why(p: dict) -> str:
    why = p.get("why") or {}
    bits = []
    if (why.get("dense") or {}).get("rank"):
        bits.append(f"语义第 {why['dense']['rank']}")
    if (why.get("keyword") or {}).get("rank"):
        bits.append(f"关键词第 {why['keyword']['rank']}")
    if why.get("role"):
        bits.append("类型相符")
    return " · ".join(bits)


def group_by_report(passages: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Passages grouped under their report, reports in the order of their best passage."""
    groups: dict[str, list[dict]] = {}
    for p in passages:
        groups.setdefault(p["source"], []).append(p)
    return [(ps[0], ps) for ps in groups.values()]


def filters_note(reports, years, section_types, titles: dict[str, str] | None = None) -> str:
    parts = []
    if reports:
        parts.append("报告：" + "、".join((titles or {}).get(r, r) for r in reports))
    if years:
        parts.append("年份：" + "、".join(str(y) for y in years))
    if section_types:
        parts.append("类型：" + "、".join(_type_label(t) for t in section_types))
    return "；".join(parts)


def render_answer(question: str, passages: list[dict], message: str, note: str = "") -> str:
    """The assistant message: passages grouped by report, with citation, badge, score, marks."""
    if not passages:
        hint = "可以换一种说法、减少筛选条件，或在右侧“添加报告”上传相关报告。"
        lines = [f"**{html.escape(message or '没有找到相关内容。')}**", "", hint]
        if note:
            lines += ["", f'<span class="yd-note">当前筛选 — {html.escape(note)}</span>']
        return "\n".join(lines)
    terms = highlight_terms(question)
    groups = group_by_report(passages)
    head = f"找到 **{len(passages)}** 段相关内容，来自 **{len(groups)}** 份报告"
    if note:
        head += f'（<span class="yd-note">筛选 — {html.escape(note)}</span>）'
    lines = [head + "：", ""]
    if message:
        lines += [f"*{html.escape(message)}*", ""]
    for first, ps in groups:
        year = f"{first['year']} 年 · " if first.get("year") else ""
        lines.append(f'<span class="yd-report">{html.escape(first["title"])}</span> '
                     f'<span class="yd-src">{year}{html.escape(first["source"])}</span>')
        lines.append("")
        for p in ps:
            section = _md_escape(p["section"]) if p.get("section") else "（导语）"
            page = f" · 第 {p['page']} 页" if p.get("page") else ""
            meta = f'<span class="yd-score">得分 {p["score"]:.4f}{page}'
            why = _why(p)
            meta += f" · {why}</span>" if why else "</span>"
            lines.append(f"**[{p['rank']}]** {section} {_badge(p['section_type'])} {meta}")
            lines.append("")
            body = marked(p["text"].strip(), terms)
            lines.extend("> " + (line if line.strip() else "") for line in body.split("\n"))
            lines.append("")
    return "\n".join(lines).rstrip()


def export_markdown(turns: list[dict]) -> str:
    """The whole conversation as Markdown with full citations."""
    out = [f"# {TITLE} · 问答记录", "", f"导出时间：{datetime.now():%Y-%m-%d %H:%M}", ""]
    for n, turn in enumerate(turns, 1):
        out += [f"## 问题 {n}：{turn['question']}", ""]
        if turn.get("note"):
            out += [f"筛选：{turn['note']}", ""]
        if not turn["passages"]:
            out += [turn.get("message") or "没有找到相关内容。", ""]
            continue
        if turn.get("message"):
            out += [turn["message"], ""]
        for p in turn["passages"]:
            where = " › ".join(x for x in (p["title"], p.get("section")) if x)
            out += [f"### [{p['rank']}] {where}", ""]
            cite = [f"来源：{p['source']}"]
            if p.get("year"):
                cite.append(f"{p['year']} 年")
            if p.get("page"):
                cite.append(f"第 {p['page']} 页")
            cite.append(f"字符 {p['start']}–{p['end']}")
            out += [f"- {'，'.join(cite)}", f"- 类型：{_type_label(p['section_type'])}；得分：{p['score']:.4f}", ""]
            out += ["> " + line if line.strip() else ">" for line in p["text"].strip().split("\n")]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_context(ctx: dict | None, passage: dict | None) -> str:
    if ctx is None or passage is None:
        return '<div class="yd-ctx yd-ctx-empty">该段落已不在当前索引中（报告可能已被移除），请重新提问。</div>'
    section = html.escape(ctx["section"] or "（导语）")
    tail = passage["text"].strip()[-20:]
    stale = "" if tail in ctx["passage"] else \
        '<div class="yd-note">该报告在提问后已更新，标出的位置可能有偏差；重新提问可得到最新结果。</div>'
    return (
        f'<div class="yd-ctx">{stale}'
        f'<div class="yd-ctx-head"><span class="yd-ctx-rank">[{passage["rank"]}]</span> '
        f'<b>{html.escape(ctx["title"])}</b> <span class="yd-ctx-path">› {section}</span> '
        f'{_badge(passage["section_type"])}'
        f'<span class="yd-src">{html.escape(ctx["source"])} · 字符 {passage["start"]}–{passage["end"]}</span></div>'
        f'<div class="yd-ctx-body">{html.escape(ctx["before"])}'
        f'<mark class="yd-focus">{html.escape(ctx["passage"])}</mark>'
        f'{html.escape(ctx["after"])}</div></div>'
    )


CTX_LABEL = "选择段落，在原文中查看"
CONTEXT_HINT = '<div class="yd-ctx yd-ctx-empty">提问后，选择一个段落并点击“在原文中查看”，这里会显示它所在的整节原文，段落本身以黄色标出；点击对话中的某条回答可切换到该问题的段落。</div>'


def _code(name: str) -> str:
    """A file name as inline code (backticks cannot close it early)."""
    return "`" + str(name).replace("`", "'") + "`"


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


class WebApp:
    def __init__(self, app: Yandu, watch: bool = False):
        self.app = app
        self.settings = app.settings
        self.worker = IndexWorker(app)
        self.watch = watch
        self.export_dir = Path(tempfile.mkdtemp(prefix="yandu-export-"))
        atexit.register(shutil.rmtree, self.export_dir, True)

    # ---- data -------------------------------------------------------------------------------

    def status(self) -> dict:
        try:
            return self.app.status()
        except Exception as e:  # a half-deleted index folder, say: show it, keep serving
            return {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None,
                    "errors": {}, "documents": [], "years": [], "problem": str(e)}

    def titles(self, status: dict | None = None) -> dict[str, str]:
        status = status or self.status()
        return {d["source"]: d["title"] for d in status.get("documents", [])}

    def report_choices(self, status: dict) -> list[tuple[str, str]]:
        out = []
        for d in status.get("documents", []):
            label = d["title"] if d["title"] != Path(d["source"]).stem else d["source"]
            if d.get("year"):
                label += f"（{d['year']}）"
            out.append((label, d["source"]))
        return out

    def year_choices(self, status: dict) -> list[tuple[str, int]]:
        return [(f"{y} 年", int(y)) for y in status.get("years", [])]

    def status_markdown(self, status: dict | None = None) -> str:
        s = status or self.status()
        lines = [
            f"**{s['reports']}** 份报告 · **{s['chunks']}** 个段落",
            f"模型：`{s['model']}`",
            f"更新于：{_fmt_time(s.get('updated'))}",
        ]
        if self.watch:
            lines.append("自动更新：正在监视报告文件夹")
        if self.worker.running:
            lines.append(f"**正在更新索引**：{self.worker.progress.describe()}（可继续提问）")
        if s.get("problem"):
            lines.append(f"**读取索引出错**：{html.escape(s['problem'])}")
        text = "  \n".join(lines)
        errors = s.get("errors") or {}
        if errors:
            text += f"\n\n**未能索引的文件（{len(errors)}）**\n\n"
            text += "\n".join(f"- {_code(n)}：{html.escape(r)}" for n, r in sorted(errors.items()))
        return text

    def side_updates(self, reports=None, years=None):
        """Status text and filter choices (selected values kept where still offered)."""
        s = self.status()
        rc, yc = self.report_choices(s), self.year_choices(s)
        rv = [r for r in (reports or []) if r in {v for _, v in rc}]
        yv = [y for y in (years or []) if int(y) in {v for _, v in yc}]
        return self.status_markdown(s), gr.update(choices=rc, value=rv), gr.update(choices=yc, value=yv)

    # ---- handlers ---------------------------------------------------------------------------

    def api_search(self, question: str, top_k: int = 5, reports: list[str] = [],  # noqa: B006 (never mutated)
                   years: list[int] = [], section_types: list[str] = []) -> list[dict]:  # noqa: B006
        """Ranked, cited passages for a question — the same objects as `python app.py query --json`.

        Args:
            question: the question, in Chinese (or any language).
            top_k: how many passages (1–50).
            reports: only these reports (file names in the corpus); empty = all.
            years: only reports of these years; empty = all.
            section_types: only these section roles: overview, work, highlight, problem, cause, plan, other.
        Returns:
            A list of passages: rank, score, source, title, section, section_type, text, year, page, item, start, end, why.
        """
        unknown = [t for t in section_types or [] if t not in SECTION_TYPE_NAMES]
        if unknown:
            raise gr.Error(f"unknown section_types {unknown}; use {list(SECTION_TYPE_NAMES)}")
        try:
            years = [int(y) for y in years or []]
            top_k = int(top_k or self.settings.top_k)
        except (TypeError, ValueError):
            raise gr.Error("top_k and years must be integers") from None
        result = self.app.search(question or "", top_k, reports or [], years, section_types or [])
        return [p.to_json() for p in result.passages]

    def api_status(self) -> dict:
        """Index status: reports, chunks, model, last update (Unix time), files that failed with reasons, documents."""
        s = self.status()
        s["indexing"] = self.worker.running
        return s

    def _ctx_choices(self, turns: list[dict], n: int) -> list[tuple[str, str]]:
        if not (0 <= n < len(turns)):
            return []
        out = []
        for p in turns[n]["passages"]:
            where = p["section"].split(" › ")[-1] if p.get("section") else "导语"
            label = f"[{p['rank']}] {p['title']} › {where}"
            out.append((label if len(label) <= 60 else label[:59] + "…", f"{n}:{p['rank']}"))
        return out

    def _ctx_update(self, turns: list[dict], n: int):
        choices = self._ctx_choices(turns, n)
        label = f"{CTX_LABEL}（问题 {n + 1}）" if choices else CTX_LABEL
        return gr.update(choices=choices, value=choices[0][1] if choices else None, label=label,
                         interactive=bool(choices))

    def _export(self, turns: list[dict], request: gr.Request | None):
        if not turns:
            return gr.update(value=None, interactive=False)
        session = re.sub(r"[^A-Za-z0-9_-]", "", getattr(request, "session_hash", None) or "anon")[:40] or "anon"
        folder = self.export_dir / session
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"研读问答_{datetime.now():%Y%m%d-%H%M%S}.md"
        for old in folder.glob("*.md"):
            old.unlink(missing_ok=True)
        path.write_text(export_markdown(turns), encoding="utf-8")
        return gr.update(value=str(path), interactive=True)

    @staticmethod
    def _messages(turns: list[dict]) -> list[dict]:
        out = []
        for t in turns:
            out.append({"role": "user", "content": t["question"]})
            out.append({"role": "assistant", "content": t["answer"]})
        return out

    def chat(self, question: str, turns: list[dict] | None, top_k: int, reports: list[str] | None,
             years: list[int] | None, section_types: list[str] | None, request: gr.Request = None):
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            raise gr.Error("请输入问题。")
        reports, years, section_types = list(reports or []), [int(y) for y in years or []], list(section_types or [])
        result = self.app.search(question, int(top_k or self.settings.top_k), reports, years, section_types)
        passages = [p.to_json() for p in result.passages]
        note = filters_note(reports, years, section_types, self.titles() if reports else None)
        turns.append({"question": question, "passages": passages, "message": result.message, "note": note,
                      "answer": render_answer(question, passages, result.message, note)})
        n = len(turns) - 1
        return self._messages(turns), turns, "", self._ctx_update(turns, n), self._export(turns, request)

    def example_chat(self, turns, top_k, reports, years, section_types, evt: gr.SelectData, request: gr.Request = None):
        value = evt.value
        question = value.get("text", "") if isinstance(value, dict) else str(value or "")
        return self.chat(question, turns, top_k, reports, years, section_types, request)

    def select_turn(self, turns: list[dict], evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            n = int(index) // 2
        except (TypeError, ValueError):
            return gr.skip()
        return self._ctx_update(turns or [], n) if 0 <= n < len(turns or []) else gr.skip()

    def show_context(self, choice: str | None, turns: list[dict] | None) -> str:
        if not choice:
            return CONTEXT_HINT
        try:
            n, rank = (int(x) for x in str(choice).split(":"))
            passage = next(p for p in (turns or [])[n]["passages"] if p["rank"] == rank)
        except (ValueError, IndexError, StopIteration):
            return CONTEXT_HINT
        # Source and offsets come from this session's own results (server-side state), and
        # `context` reads the indexed text only: nothing here touches the file system.
        ctx = self.app.context(passage["source"], passage["start"], passage["end"])
        return render_context(ctx, passage)

    def clear(self):
        return [], [], gr.update(choices=[], value=None, label=CTX_LABEL, interactive=False), CONTEXT_HINT, \
            gr.update(value=None, interactive=False)

    def _wait_with_progress(self, ticket: int, progress: gr.Progress) -> IndexRun:
        while True:
            run = self.worker.wait(ticket, timeout=0.25)
            if run is not None:
                return run
            event = self.worker.progress
            if event.total:
                progress((min(event.done, event.total), event.total), desc=event.describe(), unit=event.stage.unit)
            else:
                progress(0, desc=event.describe())

    def add_reports(self, files, reports=None, years=None, progress=gr.Progress()):
        """Save uploaded reports into the corpus, index them, and say what happened to each."""
        paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in
                 (files if isinstance(files, list) else [files] if files else [])]
        paths = [p for p in paths if p]
        if not paths:
            return ("请选择要添加的报告文件。", *self.side_updates(reports, years), None)
        progress(0, desc="保存文件")
        uploads = save_uploads(self.settings, paths)
        lines = []
        saved = [u for u in uploads if u.outcome == "saved"]
        run = None
        if saved:
            run = self._wait_with_progress(self.worker.request(), progress)
        snap = None
        if run is not None and run.report is not None:
            snap = open_store(self.settings).manifest()
        for u in uploads:
            if u.outcome == "duplicate":
                lines.append(f"**已存在** {_code(u.original)}：内容与 {_code(u.name)} 相同，未重复添加")
            elif u.outcome == "rejected":
                lines.append(f"**未添加** {_code(u.original)}：{html.escape(u.reason)}")
            elif run is None or run.report is None:
                lines.append(f"**未索引** {_code(u.name)}：已保存，但索引未完成 — {html.escape(run.error if run else '未知错误')}")
            elif u.name in run.report.errors:
                lines.append(f"**无法读取** {_code(u.name)}：已保存，但 {html.escape(run.report.errors[u.name])}")
            elif u.name in run.report.duplicates:
                lines.append(f"**已存在** {_code(u.original)}：内容与 {_code(run.report.duplicates[u.name])} 相同")
            else:
                chunks = len(((snap.files.get(u.name) or {}) if snap else {}).get("chunk_ids", []))
                renamed = f"（保存为 {_code(u.name)}）" if u.name != u.original else ""
                lines.append(f"**已添加** {_code(u.original)}{renamed}：已加入索引，{chunks} 个段落")
        return ("\n".join(f"- {line}" for line in lines), *self.side_updates(reports, years), None)

    def rebuild(self, reports=None, years=None, progress=gr.Progress()):
        progress(0, desc="重建索引")
        run = self._wait_with_progress(self.worker.request(rebuild=True), progress)
        if run.error:
            message = f"**重建失败**：{html.escape(run.error)}"
        else:
            message = "**索引已重建**：" + html.escape(run.report.lines()[-1])
        return (message, *self.side_updates(reports, years))

    def refresh(self, shown: str, reports=None, years=None, known: list | None = None):
        """Timer tick: update the side panel only when something changed."""
        s = self.status()
        text = self.status_markdown(s)
        docs = [(d["source"], d["title"]) for d in s.get("documents", [])]
        if text == shown and docs == [tuple(x) for x in (known or [])]:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        _, rep, yrs = self.side_updates(reports, years)
        return text, rep, yrs, docs

    # ---- layout -----------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        s = self.status()
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
                        reports = gr.Dropdown(choices=self.report_choices(s), value=[], multiselect=True,
                                              label="报告", info="不选则检索全部报告", elem_id="yd-reports")
                        years = gr.Dropdown(choices=self.year_choices(s), value=[], multiselect=True,
                                            label="年份", info="不选则不限", elem_id="yd-years")
                        section_types = gr.CheckboxGroup(
                            choices=[(label, key) for key, label in SECTION_TYPE_NAMES.items()], value=[],
                            label="段落类型", info="不选则不限", elem_id="yd-types")
                        top_k = gr.Slider(1, 20, value=self.settings.top_k, step=1, label="返回段落数",
                                          elem_id="yd-topk")
                    with gr.Accordion("索引状态", open=True, elem_id="yd-status-box"):
                        status = gr.Markdown(self.status_markdown(s), elem_id="yd-status")
                        rebuild = gr.Button("重建索引", size="sm", variant="secondary", elem_id="yd-rebuild")
                        rebuild_result = gr.Markdown("", elem_id="yd-rebuild-result")
                    with gr.Accordion("添加报告", open=True, elem_id="yd-upload-box"):
                        upload = gr.File(
                            label="上传报告", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                            type="filepath", elem_id="yd-upload", height=150,
                        )
                        gr.Markdown(f"支持 {' '.join(SUPPORTED_SUFFIXES)}，单个文件不超过 {self.settings.max_file_mb:g} MB；"
                                    "内容相同的文件不会重复添加。", elem_classes="yd-hint")
                        upload_result = gr.Markdown("", elem_id="yd-upload-result")

            filters = [top_k, reports, years, section_types]
            chat_outputs = [chatbot, turns, question, ctx_choice, export]
            submit_kwargs = dict(fn=self.chat, inputs=[question, turns, *filters], outputs=chat_outputs,
                                 concurrency_limit=4)
            question.submit(**submit_kwargs, api_name="chat",
                            api_description="Ask a question; returns the chat with the cited answer.")
            ask.click(**submit_kwargs, api_visibility="private")
            chatbot.example_select(self.example_chat, inputs=[turns, *filters], outputs=chat_outputs,
                                   api_visibility="private", concurrency_limit=4)
            chatbot.select(self.select_turn, inputs=[turns], outputs=[ctx_choice], api_visibility="private",
                           show_progress="hidden")
            scroll = "() => { setTimeout(() => { const m = document.querySelector('#yd-context .yd-focus'); " \
                     "if (m) m.scrollIntoView({block: 'center', behavior: 'smooth'}); }, 80); }"
            ctx_button.click(self.show_context, inputs=[ctx_choice, turns], outputs=[context],
                             api_visibility="private", show_progress="minimal").then(
                None, js=scroll, api_visibility="private")
            ctx_choice.input(self.show_context, inputs=[ctx_choice, turns], outputs=[context],
                             api_visibility="private", show_progress="minimal").then(
                None, js=scroll, api_visibility="private")
            clear.click(self.clear, outputs=[chatbot, turns, ctx_choice, context, export], api_visibility="private")
            upload.upload(self.add_reports, inputs=[upload, reports, years],
                          outputs=[upload_result, status, reports, years, upload], api_name="add_reports",
                          show_progress_on=[upload_result], concurrency_limit=1, concurrency_id="corpus",
                          api_description="Add report files to the corpus and index them; says what happened to each.")
            rebuild.click(self.rebuild, inputs=[reports, years], outputs=[rebuild_result, status, reports, years],
                          api_name="rebuild_index", show_progress_on=[rebuild_result],
                          concurrency_limit=1, concurrency_id="corpus",
                          api_description="Re-index every report from scratch.")
            side = dict(fn=self.refresh, inputs=[status, reports, years, known_docs],
                        outputs=[status, reports, years, known_docs], api_visibility="private",
                        show_progress="hidden", concurrency_limit=None)
            demo.load(**side)
            gr.Timer(4.0).tick(**side)
            gr.api(self.api_search, api_name="search", concurrency_limit=4)
            gr.api(self.api_status, api_name="status", concurrency_limit=None)
        return demo


# --------------------------------------------------------------------------------------------
# Theme and styles
# --------------------------------------------------------------------------------------------

FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "Droid Sans Fallback", "system-ui", "sans-serif"]

CSS = """
.gradio-container { max-width: 1440px !important; margin: 0 auto !important; }
.yd-header { display: flex; align-items: center; gap: 14px; padding: 6px 2px 2px; }
.yd-logo { width: 46px; height: 46px; border-radius: 12px; background: linear-gradient(135deg, #b91c1c, #7f1d1d);
  color: #fff; font-size: 26px; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.yd-title { font-size: 24px; font-weight: 700; color: var(--body-text-color); letter-spacing: 1px; }
.yd-title span { font-size: 15px; font-weight: 500; color: var(--body-text-color-subdued); margin-left: 6px; letter-spacing: 0; }
.yd-sub { font-size: 14px; color: var(--body-text-color-subdued); margin-top: 2px; }
.yd-empty { text-align: center; color: var(--body-text-color-subdued); line-height: 1.8; }
#yd-chat mark, #yd-context mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
#yd-chat blockquote { border-left: 3px solid #e5e7eb; margin: 4px 0 12px; padding: 2px 12px; color: var(--body-text-color); }
.yd-badge { display: inline-block; font-size: 12px; line-height: 18px; padding: 0 8px; border-radius: 9px;
  font-weight: 600; vertical-align: 1px; margin-left: 4px; white-space: nowrap; }
.yd-overview { background: #e2e8f0; color: #334155; }
.yd-work { background: #dcfce7; color: #166534; }
.yd-highlight { background: #fef3c7; color: #92400e; }
.yd-problem { background: #fee2e2; color: #991b1b; }
.yd-cause { background: #ffedd5; color: #9a3412; }
.yd-plan { background: #dbeafe; color: #1e40af; }
.yd-other { background: #f3f4f6; color: #4b5563; }
.yd-score, .yd-src, .yd-note { font-size: 12px; color: var(--body-text-color-subdued); margin-left: 6px; white-space: nowrap; }
.yd-ctx { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 12px 14px; background: var(--block-background-fill); }
.yd-ctx-empty { color: var(--body-text-color-subdued); font-size: 14px; }
.yd-ctx-head { font-size: 15px; margin-bottom: 8px; line-height: 1.7; }
.yd-ctx-rank { color: #b91c1c; font-weight: 700; }
.yd-ctx-path { color: var(--body-text-color-subdued); }
.yd-ctx-body { white-space: pre-wrap; line-height: 1.85; font-size: 14px; max-height: 420px; overflow-y: auto;
  padding-right: 6px; }
.yd-ctx-body mark.yd-focus { background: #fef08a; box-shadow: 0 0 0 2px #fde047; border-radius: 3px; }
.yd-report { display: inline-block; font-weight: 700; font-size: 15px; color: #7f1d1d; border-left: 4px solid #b91c1c;
  padding-left: 8px; margin-top: 6px; }
.yd-hint { font-size: 12px; color: var(--body-text-color-subdued); }
.yd-hint p { margin: 0; }
#yd-status, #yd-upload-result, #yd-rebuild-result { font-size: 14px; }
#yd-tools { align-items: end; }
#yd-tools button { white-space: nowrap; height: 42px; }
footer { opacity: .8; }
"""


def theme():
    return gr.themes.Default(primary_hue=gr.themes.colors.red, secondary_hue=gr.themes.colors.amber,
                             neutral_hue=gr.themes.colors.stone, font=FONTS,
                             font_mono=["JetBrains Mono", "DejaVu Sans Mono", "monospace"]).set(
        button_primary_background_fill="#b91c1c", button_primary_background_fill_hover="#991b1b",
        button_primary_text_color="#ffffff", body_background_fill="#faf9f7",
    )


def build_app(app: Yandu, watch: bool = False) -> tuple[gr.Blocks, WebApp]:
    web = WebApp(app, watch=watch)
    return web.build(), web


# --------------------------------------------------------------------------------------------
# serve
# --------------------------------------------------------------------------------------------


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` → (user, password); raises ValueError for anything else."""
    if auth is None or auth == "":
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / YANDU_AUTH must look like user:password (both non-empty)")
    return user, password


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          watch: bool = False) -> int:
    """Check the binding, bring the index up to date, and run the web app until interrupted."""
    try:
        credentials = parse_auth(auth if auth else os.environ.get("YANDU_AUTH"))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if host not in LOOPBACK and credentials is None:
        print(f"error: refusing to serve on {host}: anyone who can reach this machine could read and add reports. "
              "Give --auth user:password (or set YANDU_AUTH), or use the default --host 127.0.0.1.",
              file=sys.stderr)
        return 2

    app = Yandu(settings)
    print(f"Yandu: corpus {settings.corpus_dir}, index {settings.index_dir}; loading model {settings.model} …",
          flush=True)
    try:
        report = app.ensure_index()
    except IndexBusy as e:  # no index yet, and another process is building the first one
        print(f"error: {e}", file=sys.stderr)
        return 3
    if report is None:
        s = app.status()
        print(f"index: up to date — {s['reports']} reports, {s['chunks']} chunks", flush=True)
    else:
        for line in report.lines():
            print(f"index: {line}", flush=True)

    demo, web = build_app(app, watch=watch)
    watcher = None
    if watch:
        watcher = CorpusWatcher(settings.corpus_dir, web.worker)
        watcher.start()
        print(f"watching {settings.corpus_dir} for reports appearing or leaving", flush=True)
    shown = "localhost" if host in LOOPBACK else host
    print(f"Yandu (研读) on http://{shown}:{port}/  (API: Client(url).predict(\"问题\", 5, api_name=\"/search\"))",
          flush=True)
    if threading.current_thread() is threading.main_thread():
        # `kill PID` shuts down like Ctrl-C: the server closes and temporary exports are removed.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.queue(default_concurrency_limit=2)
        demo.launch(server_name=host, server_port=port, auth=credentials, auth_message="研读 · 请登录",
                    max_file_size=f"{settings.max_file_mb:g}mb", theme=theme(), css=CSS, footer_links=["api"],
                    ssr_mode=False, show_error=True, inbrowser=False, share=False, quiet=False)
    except OSError as e:
        print(f"error: cannot serve on {host}:{port}: {e}", file=sys.stderr)
        return 1
    finally:
        if watcher is not None:
            watcher.stop()
    return 0
