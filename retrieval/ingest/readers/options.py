"""What a reader may do with one file: OCR switch and page cap, the OCR cache, and the work limits.

Limits bound the work a small file can cause (a 124 KB .docx holding 60 MB of XML, a PDF of
10 000 scanned pages); each is checked while the file is read and fails with one clear line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...progress import Progress


@dataclass(frozen=True)
class ReadOptions:
    ocr: bool = True  # read scanned pages and images with OCR
    ocr_max_pages: int = 100  # pages needing OCR in one file; more is refused (about 3 CPU-s a page)
    ocr_workers: int = 0  # OCR worker processes, one thread each; 0: one per core
    ocr_cache: Path | None = None  # SQLite file of recognised pages (by page content); None: no cache
    max_unpacked_mb: float = 100.0  # all parts of a .docx/.ofd package, uncompressed
    max_xml_mb: float = 10.0  # its XML parts together (largest bench .docx: 0.24 MB)
    max_parts: int = 2000  # parts (files) in the package
    max_chars: int = 1_000_000  # characters of text per file (a long report: ~60 000)
    max_chunks: int = 3000  # passages per file (a long report: ~150)
    progress: Progress | None = field(default=None, compare=False)  # Stage.OCR events, page by page

    @classmethod
    def from_settings(cls, settings, progress: Progress | None = None) -> "ReadOptions":
        """The options a ``Settings`` gives (OCR cache in the index folder)."""
        return cls(ocr=settings.ocr, ocr_max_pages=settings.ocr_max_pages, ocr_workers=settings.ocr_workers,
                   ocr_cache=Path(settings.index_dir) / "ocr.sqlite", max_unpacked_mb=settings.max_unpacked_mb,
                   max_xml_mb=settings.max_xml_mb, max_parts=settings.max_parts, max_chars=settings.max_chars,
                   max_chunks=settings.max_chunks, progress=progress)
