"""PDF: the text layer of each page (pypdf; table rows as lines naming their columns), and OCR for
pages without a usable one.

Whether to OCR is decided page by page, so a PDF with a few scanned pages (a signed last page)
reads whole. Pages needing OCR are rendered by PDFium (pypdfium2) at ``OCR_DPI``.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError

from ...errors import ReadError
from ..document import RawText
from .images import check_size, ocr_images
from .options import ReadOptions
from .package import TextBudget
from .tables import text_table_lines

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every odd object it meets

MIN_PAGE_CHARS = 10  # a page with an image and fewer characters than this in its text layer is a scan
OCR_DPI = 200  # PP-OCR reads 12-point text at 150-300 dpi alike; 200 keeps small print legible


def read_pdf(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """Each page's text (text layer or OCR), pages joined by \\n, with each page's start offset."""
    budget = TextBudget(path, options)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(path, "password-protected PDF")
        pages = []
        for page in reader.pages:
            text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n")
            pages.append(budget.take(text_table_lines(text)))
    except ReadError:
        raise
    except DependencyError as exc:
        raise ReadError(path, f"encrypted PDF needs the 'cryptography' package ({exc})") from exc
    except Exception as exc:  # pypdf raises many error types on damaged files
        raise ReadError(path, f"corrupt PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise ReadError(path, "corrupt PDF (no pages)")
    scanned = [i for i, text in enumerate(pages)
               if len("".join(text.split())) < MIN_PAGE_CHARS and has_image(reader.pages[i])]
    if scanned:
        if not options.ocr:
            if not "".join(pages).strip():
                raise ReadError(path, "scanned PDF, no text layer (OCR is switched off)")
        else:
            for i, text in zip(scanned, ocr_images(path, render(path, data, scanned), options, len(scanned))):
                pages[i] = budget.take(text)
    if not "".join(pages).strip():
        raise ReadError(path, "no text in the PDF (no text layer, no scanned page)" if not scanned
                        else "scanned PDF, OCR found no text on its pages")
    starts, offset = [], 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 1
    return RawText("\n".join(pages), starts)


def has_image(page) -> bool:
    """Whether the page draws an image (directly or inside a form XObject)."""
    try:
        return bool(page.images)
    except Exception:  # an image pypdf cannot decode is still an image to render
        return True


def render(path: Path, data: bytes, pages: list[int]):
    """The given pages as RGB arrays (lazily: one page in memory at a time)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise ReadError(path, f"corrupt PDF (PDFium: {exc})") from exc
    try:
        for i in pages:
            page = document[i]
            width, height = page.get_size()  # points; the page is refused before any pixel is drawn
            check_size(path, width * OCR_DPI / 72, height * OCR_DPI / 72, f"第 {i + 1} 页（{width:.0f}×{height:.0f} pt）")
            yield page.render(scale=OCR_DPI / 72, rev_byteorder=True).to_numpy()[..., :3].copy()
            page.close()
    finally:
        document.close()
