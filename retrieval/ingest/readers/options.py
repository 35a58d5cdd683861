"""What a reader may do with one file: OCR switch and page cap, the OCR cache, and the work limits.

Limits bound the work a small file can cause (a 124 KB .docx holding 60 MB of XML, a PDF of
10 000 scanned pages); each is checked while the file is read and fails with one clear line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ...config import Settings
from ...progress import Progress


@lru_cache(maxsize=1)
def _defaults() -> Settings:
    return Settings()


def _setting(name: str):
    """A field whose default is the setting of that name (one place for every limit: ``Settings``)."""
    return field(default_factory=lambda: getattr(_defaults(), name))


@dataclass(frozen=True)
class ReadOptions:
    ocr: bool = _setting("ocr")  # read scanned pages and images with OCR
    ocr_max_pages: int = _setting("ocr_max_pages")  # pages needing OCR in one file; more is refused
    ocr_workers: int = _setting("ocr_workers")  # OCR worker processes, one thread each; 0: one per core
    ocr_cache: Path | None = None  # SQLite file of recognised pages (by page content); None: no cache
    max_unpacked_mb: float = _setting("max_unpacked_mb")  # all parts of a .docx/.ofd package, uncompressed
    max_xml_mb: float = _setting("max_xml_mb")  # its XML parts together
    max_parts: int = _setting("max_parts")  # parts (files) in the package
    max_chars: int = _setting("max_chars")  # characters of text per file
    max_chunks: int = _setting("max_chunks")  # passages per file
    max_table_cells: int = _setting("max_table_cells")  # grid cells of one Word table
    read_timeout: float = _setting("read_timeout")  # seconds a fenced read may take (ingest/fence.py)
    read_memory_mb: int = _setting("read_memory_mb")  # address space of the worker that reads
    progress: Progress | None = field(default=None, compare=False)  # Stage.OCR events, page by page

    @classmethod
    def from_settings(cls, settings, progress: Progress | None = None) -> "ReadOptions":
        """The options a ``Settings`` gives (OCR cache in the index folder)."""
        return cls(ocr=settings.ocr, ocr_max_pages=settings.ocr_max_pages, ocr_workers=settings.ocr_workers,
                   ocr_cache=Path(settings.index_dir) / "ocr.sqlite", max_unpacked_mb=settings.max_unpacked_mb,
                   max_xml_mb=settings.max_xml_mb, max_parts=settings.max_parts, max_chars=settings.max_chars,
                   max_chunks=settings.max_chunks, max_table_cells=settings.max_table_cells,
                   read_timeout=settings.read_timeout, read_memory_mb=settings.read_memory_mb, progress=progress)
