"""OCR of page images with rapidocr (PP-OCRv6 models shipped inside its wheel: nothing is downloaded).

Pages are recognised in worker processes, one ONNX thread each and one process per core, and
cached by page content in SQLite, so a re-index or a crash-resume never reads a page twice.
Recognised lines are rebuilt into paragraphs from their geometry (indent, short last line, gap),
so the heading ladder parses as in a typed report. Red seals are removed before recognition;
pages turned 90/180/270 degrees are read upright (the orientation with the surest lines wins).
"""
from __future__ import annotations

import atexit
import hashlib
import json
import logging
import multiprocessing
import os
import re
import sqlite3
import statistics
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np

from ...progress import ProgressEvent, Stage
from .options import ReadOptions


# Bump when recognition changes (engine settings, seal removal, rotation): cached pages are then re-read.
OCR_VERSION = "rapidocr-3.10.0/ppocrv6-small/2"
MIN_SCORE = 0.5  # lines recognised less surely are seal fragments, specks or stamps
UPRIGHT_SCORE = 0.8  # a page whose lines average less is tried turned (rotated pages read as garbage)


class Line(NamedTuple):
    """One recognised text line: its box on the upright page (pixels) and text."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float


# --- in the worker process ----------------------------------------------------------------------

_ENGINE = None


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        _ENGINE = RapidOCR(params={
            "Global.log_level": "error", "Global.use_cls": False,  # whole-page turns are handled below
            # Detection at most 1280 px on the long side (lines are still read from the full page):
            # 7.7 → 5.5 CPU-s per 200-dpi A4 page, same text (measured on the scanned seed fixture).
            "Det.limit_type": "max", "Det.limit_side_len": 1280,
            "EngineConfig.onnxruntime.intra_op_num_threads": 1, "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
    return _ENGINE


def without_red(image: np.ndarray) -> np.ndarray:
    """The page with red ink (seals, red-header marks) turned white; black and grey text stay."""
    rgb = image.astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red = (r > 120) & (r - g > 50) & (r - b > 50)
    out = image.copy()
    out[red] = 255
    return out


def _lines(image: np.ndarray) -> list[Line]:
    result = _engine()(image)
    if result.boxes is None:
        return []
    out = []
    for box, text, score in zip(result.boxes, result.txts, result.scores):
        xs, ys = box[:, 0], box[:, 1]
        out.append(Line(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()), text, float(score)))
    return out


def _sureness(lines: list[Line]) -> float:
    """Mean score weighted by characters: how surely a page was read."""
    chars = sum(len(line.text) for line in lines)
    return sum(line.score * len(line.text) for line in lines) / chars if chars else 0.0


def _horizontal(lines: list[Line]) -> bool:
    """Most boxes wider than tall: the page's lines run left to right as read."""
    return sum(line.x1 - line.x0 >= line.y1 - line.y0 for line in lines) > len(lines) / 2


def recognise(image: np.ndarray) -> list[Line]:
    """The text lines of one page image (RGB), read upright; runs in a worker process.

    A page is tried turned when its lines stand upright or read unsurely; the orientation with
    horizontal lines and the most surely read characters wins (the recogniser reads single
    vertical boxes too, so sureness alone would keep a turned page as it came).
    """
    image = without_red(image)
    lines = _lines(image)
    if len(lines) >= 3 and _sureness(lines) >= UPRIGHT_SCORE and _horizontal(lines):
        return [line for line in lines if line.score >= MIN_SCORE]

    def rank(found: list[Line]) -> tuple[bool, float]:
        return _horizontal(found), _sureness(found) * sum(len(line.text) for line in found)

    best = lines
    for turns in (1, 2, 3):  # numpy turns counter-clockwise
        turned = _lines(np.ascontiguousarray(np.rot90(image, turns)))
        if rank(turned) > rank(best):
            best = turned
    return [line for line in best if line.score >= MIN_SCORE]


# --- the pool and the cache ---------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool per process, kept for later files (each worker loads the models once, ~1 s)."""
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != workers:
        if _POOL is not None:
            _POOL.shutdown()
        # spawn: the parent may hold threads (web server, encoder) that fork would copy mid-lock
        _POOL = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        _POOL_SIZE = workers
    return _POOL


@atexit.register
def _drop_pool() -> None:
    """Stop the workers (at exit, or after one died); the next OCR starts a new pool."""
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


class OcrCache:
    """Recognised lines by page-content key, in SQLite; each page is committed once read."""

    def __init__(self, path: Path | None):
        self.db = None
        if path is not None:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, lines TEXT NOT NULL)")
            except (sqlite3.Error, OSError) as exc:  # a damaged or unwritable cache costs time, not the read
                logging.getLogger(__name__).warning("OCR cache %s not used: %s", path, exc)
                self.db = None

    def get(self, key: str) -> list[Line] | None:
        if self.db is None:
            return None
        row = self.db.execute("SELECT lines FROM pages WHERE key = ?", (key,)).fetchone()
        return [Line(*line) for line in json.loads(row[0])] if row else None

    def put(self, key: str, lines: list[Line]) -> None:
        if self.db is not None:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?)", (key, json.dumps(lines, ensure_ascii=False)))

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def page_key(image: np.ndarray) -> str:
    h = hashlib.sha256(OCR_VERSION.encode())
    h.update(repr(image.shape).encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


def ocr_pages(images: Iterable[np.ndarray | None], total: int, name: str, options: ReadOptions) -> list[str]:
    """The text of each of ``total`` page images (None: a blank page), in order; cached pages are not read again.

    Images are taken from the iterable as workers free up, so only a few pages are in memory.
    """
    cache = OcrCache(options.ocr_cache)
    lines: dict[int, list[Line]] = {}
    done = 0

    def report() -> None:
        if options.progress:
            options.progress(ProgressEvent(Stage.OCR, done, total, name))

    try:
        report()
        workers = max(1, options.ocr_workers or os.cpu_count() or 1)
        pending: dict = {}

        def collect() -> None:
            nonlocal done
            for future in wait(pending, return_when=FIRST_COMPLETED).done:
                i, key = pending.pop(future)
                lines[i] = future.result()
                cache.put(key, lines[i])
                done += 1
                report()

        for i, image in enumerate(images):
            if image is None:  # a blank page: no text, no worker
                lines[i] = []
                done += 1
                report()
                continue
            key = page_key(image)
            cached = cache.get(key)
            if cached is not None:
                lines[i] = cached
                done += 1
                report()
                continue
            while len(pending) >= 2 * workers:
                collect()
            pending[_pool(workers).submit(recognise, image)] = (i, key)
        while pending:
            collect()
    except BaseException as exc:
        for future in pending:
            future.cancel()
        if isinstance(exc, BrokenProcessPool):  # a worker died (killed, out of memory): start afresh next time
            _drop_pool()
        raise
    finally:
        cache.close()
    return [page_text(lines[i]) for i in range(len(lines))]


# --- lines → paragraphs -------------------------------------------------------------------------


def rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into rows (boxes overlapping vertically by over half), each left to right."""
    out: list[list[Line]] = []
    top = bottom = 0.0  # the last row's extent, kept as it grows (a row of 100 000 codes stays linear)
    for line in sorted(lines, key=lambda l: (l.y0 + l.y1) / 2):
        if out:
            overlap = min(bottom, line.y1) - max(top, line.y0)
            if overlap > 0.5 * min(bottom - top, line.y1 - line.y0):
                out[-1].append(line)
                top, bottom = min(top, line.y0), max(bottom, line.y1)
                continue
        out.append([line])
        top, bottom = line.y0, line.y1
    return [sorted(row, key=lambda l: l.x0) for row in out]


def page_text(lines: list[Line], recognised: bool = True) -> str:
    """Rows joined into paragraphs: a new one after a short row, at an indent, or after a gap.

    A typed report indents each paragraph's first line by two characters and fills every other
    line to the right margin, so indent and short rows mark paragraph ends as the author wrote them.
    """
    grouped = rows(lines)
    if not grouped:
        return ""
    height = statistics.median(l.y1 - l.y0 for l in lines)
    # margins from most rows, so a stray box in the margin (a mark, a page number) moves neither
    left = float(np.percentile([row[0].x0 for row in grouped], 20))
    right = float(np.percentile([row[-1].x1 for row in grouped], 90))
    pitches = [b[0].y0 - a[0].y0 for a, b in zip(grouped, grouped[1:])]
    pitch = statistics.median(pitches) if pitches else height
    paragraphs: list[str] = []
    previous = None
    for row in grouped:
        text = row[0].text  # boxes of one row stay on one line; a wide gap (table cells) keeps a space
        for before, line in zip(row, row[1:]):
            text += (" " if line.x0 - before.x1 > 1.5 * height else "") + line.text
        if previous is not None:
            joined = (row[0].x0 - left < 0.8 * height and previous[-1].x1 > right - 1.5 * height
                      and row[0].y0 - previous[0].y0 < 1.6 * pitch)
            if joined:
                paragraphs[-1] += text
                previous = row
                continue
        paragraphs.append(text)
        previous = row
    return "\n".join(fix_punctuation(p) if recognised else p for p in paragraphs)


QUOTE = re.compile(r"[“”\"]|[。；！？]")


def fix_punctuation(text: str) -> str:
    """Chinese double quotes made to pair up: OCR reads most of them as ” (an opening “ is kept).

    Quotes open and close inside one sentence in these reports, so each sentence starts closed.
    """
    inside = False

    def pair(m: re.Match) -> str:
        nonlocal inside
        mark = m.group(0)
        if mark in "。；！？":
            inside = False
            return mark
        inside = mark == "“" or not inside
        return "“" if inside else "”"

    return QUOTE.sub(pair, text)
