"""The "ocr" run: OCR seconds per page on the scanned fixture of a seed report (the one the tests
use: skew, blur, noise, JPEG, a red seal), one thread in this process (wall and CPU), then the
whole file through the worker pool (all cores, cold cache) and again from the page cache."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .common import SEEDS

SEED = "004"  # the smallest seed report: 2 A4 pages


def run(workdir: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import numpy as np
    from scans import character_error, image_pdf, scanned_pages  # test fixtures (PyMuPDF, dev only)

    from retrieval.ingest import ReadOptions, read_file
    from retrieval.ingest.readers import ocr

    text = next(SEEDS.glob(f"{SEED}_*.txt")).read_text(encoding="utf-8")
    pages = scanned_pages(text)
    ocr._engine()  # model load is not a page's cost
    walls, cpus = [], []
    for page in pages:
        wall, cpu = time.perf_counter(), time.process_time()
        ocr.recognise(np.asarray(page))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    path = workdir / "扫描件.pdf"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_pdf(pages))
    options = ReadOptions(ocr_cache=workdir / "ocr.sqlite")
    start = time.perf_counter()
    raw = read_file(path, options=options)
    pool_s = time.perf_counter() - start
    start = time.perf_counter()
    read_file(path, options=options)
    cached_s = time.perf_counter() - start
    return {
        "corpus": "ocr", "docs": 1, "ocr_pages": len(pages),
        "ocr_wall_s_per_page": round(sum(walls) / len(pages), 2),
        "ocr_cpu_s_per_page": round(sum(cpus) / len(pages), 2),
        "ocr_file_wall_s_per_page": round(pool_s / len(pages), 2),
        "ocr_cached_file_s": round(cached_s, 2),
        "ocr_character_error": round(character_error(text, raw.text), 4),
        "notes": {"ocr_file_wall_s_per_page": "worker pool, one thread per core, spawn and model load included"},
    }
