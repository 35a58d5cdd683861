"""Progress of an indexing run: one event type, its stages, and the words users see — in one place."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable


class Stage(str, Enum):
    """What an indexing run is doing; ``label`` is what the web UI and the CLI show."""

    READING = "reading"  # one file: read, clean, parse, chunk (``done``/``total`` count files)
    OCR = "ocr"  # one scanned page (``done``/``total`` count pages of ``name``)
    EMBEDDING = "embedding"  # passages (``done``/``total`` count passages)
    COMMITTING = "committing"  # writing the new index generation

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def unit(self) -> str:
        return _UNITS[self]


_LABELS = {Stage.READING: "读取报告", Stage.OCR: "识别扫描页", Stage.EMBEDDING: "向量化", Stage.COMMITTING: "写入索引"}
_UNITS = {Stage.READING: "份", Stage.OCR: "页", Stage.EMBEDDING: "段", Stage.COMMITTING: ""}


@dataclass(frozen=True)
class ProgressEvent:
    stage: Stage
    done: int = 0
    total: int = 0
    name: str = ""  # the file being read, when there is one

    def describe(self) -> str:
        """One Chinese line: "读取报告 3/116：2025年….docx", "向量化 120/5199 段"."""
        count = f" {min(self.done, self.total)}/{self.total}{(' ' + self.stage.unit) if self.stage.unit else ''}" \
            if self.total else ""
        return f"{self.stage.label}{count}" + (f"：{self.name}" if self.name else "")


Progress = Callable[[ProgressEvent], None]
