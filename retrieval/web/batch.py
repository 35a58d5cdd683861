"""One upload batch as the 添加报告 panel shows it: each file under its full name with its stage (saving,
reading, OCR page n/m, embedding, writing the index) while the batch runs, then what happened to it.

The index run reports one event at a time (``ProgressEvent``; the page polls the latest every 0.25 s),
so a file's stage is inferred: it reads files in name order (``store.indexer``), hence a file whose
name sorts before the one being read has been read, one after it waits, and once passages are being
embedded every file of the batch has been read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ingest import Upload
from ..progress import ProgressEvent, Stage
from .render import one_line_html


@dataclass
class FileLine:
    """One offered file: its full name, the name it has in the corpus once saved, and where it stands."""

    original: str
    name: str = ""
    stage: str = "正在保存"
    detail: str = ""
    fraction: float | None = None  # how far the current stage is, for its bar (None: no bar)
    outcome: str = ""  # once finished: as ``WebApp.add_files`` says (added, duplicate, rejected …)


@dataclass
class UploadBatch:
    files: list[FileLine]
    finished: bool = False
    note: str = ""  # one line for the whole batch (a refusal before anything was saved)
    _read: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, originals: list[str]) -> "UploadBatch":
        return cls([FileLine(o) for o in originals])

    def saved(self, uploads: list[Upload]) -> None:
        """The batch copied into the corpus: files refused or already there are final now."""
        for line, u in zip(self.files, uploads):
            line.name = u.name
            if u.outcome == "saved":
                line.stage, line.detail = "等待读取", ""
            else:
                self._finish(line, {"outcome": u.outcome, "reason": u.reason, "duplicate_of": u.name,
                                    "name": u.name, "passages": 0})

    def event(self, event: ProgressEvent | None) -> None:
        """The index run's latest progress, spread over the batch's files (None: the run has not begun,
        another one is still going)."""
        if event is None:
            for line in self.files:
                if line.name and not line.outcome:
                    line.stage, line.detail = "排队等待", "另一批报告正在索引"
            return
        reading = event.name if event.stage in (Stage.READING, Stage.OCR) else None
        if reading:
            self._read |= {line.name for line in self.files if line.name and line.name < reading}
        for line in self.files:
            if line.outcome or not line.name:
                continue
            line.fraction = None
            if line.name == reading and event.stage is Stage.OCR:
                line.stage, line.detail = "识别扫描页", f"第 {min(event.done + 1, event.total)}/{event.total} 页"
                line.fraction = event.done / event.total if event.total else None
            elif line.name == reading:
                line.stage, line.detail = "正在读取", ""
            elif reading and line.name not in self._read:
                line.stage, line.detail = "等待读取", ""
            elif event.stage is Stage.EMBEDDING:
                line.stage = "向量化"
                line.detail = f"{event.done}/{event.total} 段（本批共用）" if event.total else ""
                line.fraction = event.done / event.total if event.total else None
            elif event.stage is Stage.COMMITTING:
                line.stage, line.detail = "写入索引", ""
            else:
                line.stage, line.detail = "已读取，等待向量化", ""

    def done(self, results: list[dict]) -> None:
        """The batch's outcome, file by file (``WebApp.add_files``)."""
        for line, r in zip(self.files, results):
            self._finish(line, r)
        self.finished = True

    def refused(self, reason: str) -> None:
        """Nothing of the batch was added, for one reason (no right to add, say)."""
        for line in self.files:
            line.outcome, line.stage, line.detail, line.fraction = "rejected", "未添加", "", None
        self.note, self.finished = reason, True

    @staticmethod
    def _finish(line: FileLine, r: dict) -> None:
        line.outcome, line.fraction = r["outcome"], None
        line.stage, line.detail = OUTCOMES[r["outcome"]], outcome_detail(r)

    def html(self) -> str:
        """The batch as a list, one file a row: the full name (wrapped, never cut), its stage and detail."""
        items = []
        for line in self.files:
            state = "yd-up-" + (line.outcome or "busy")
            renamed = (f'<div class="yd-up-saved">保存为 {one_line_html(line.name)}</div>'
                       if line.outcome == "added" and line.name and line.name != line.original else "")
            bar = (f'<div class="yd-up-bar"><span style="width:{max(2, round(100 * line.fraction))}%"></span></div>'
                   if line.fraction is not None else "")
            detail = f'<span class="yd-up-detail">{one_line_html(line.detail)}</span>' if line.detail else ""
            items.append(f'<li class="{state}"><div class="yd-up-name">{one_line_html(line.original)}</div>{renamed}'
                         f'<div class="yd-up-stage"><b>{one_line_html(line.stage)}</b>{detail}</div>{bar}</li>')
        added = sum(line.outcome == "added" for line in self.files)
        if self.finished:
            head = f"本批 {len(self.files)} 个文件：已添加 {added} 个" + (f"。{self.note}" if self.note else "")
        else:
            head = f"正在添加 {len(self.files)} 个文件…"
        return (f'<div class="yd-up{" yd-up-finished" if self.finished else ""}" aria-live="polite">'
                f'<div class="yd-up-head">{one_line_html(head)}</div><ul>{"".join(items)}</ul></div>')


OUTCOMES = {"added": "已添加", "duplicate": "已存在", "duplicate_indexed": "内容重复", "rejected": "未添加",
            "unreadable": "无法读取", "not_indexed": "未索引"}


def outcome_detail(r: dict) -> str:
    """What happened to one file, in a few words (the reason a reader gives is quoted as it is)."""
    outcome = r["outcome"]
    if outcome == "added":
        return f"已加入索引，{r['passages']} 个段落"
    if outcome in ("duplicate", "duplicate_indexed"):
        return f"内容与 {r['duplicate_of']} 相同，未重复添加"
    if outcome == "not_indexed":
        return f"已保存，但索引未完成：{r['reason']}"
    if outcome == "unreadable":
        return f"已保存，但无法读取：{r['reason']}"
    return r["reason"]


def too_large(files: list[dict], max_mb: float) -> str | None:
    """The panel's answer when the browser refused a batch before sending it (a file over the upload
    limit: Gradio's client then sends none of the batch); None when no file is over it."""
    over = [f for f in files if isinstance(f, dict) and float(f.get("size") or 0) > max_mb * 2**20]
    if not over:
        return None
    batch = UploadBatch.of([str(f.get("name") or "") for f in files if isinstance(f, dict)])
    for line in batch.files:
        big = any(str(f.get("name")) == line.original for f in over)
        line.outcome, line.stage = "rejected", "未上传"
        line.detail = f"超过 {max_mb:g} MB 的上传上限" if big else "同一批中有文件超过上限，整批未上传"
    batch.note, batch.finished = "请去掉超大的文件后重新选择", True
    return batch.html()
