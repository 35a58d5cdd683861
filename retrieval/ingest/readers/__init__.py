"""Read a report file into plain text (``RawText``, with page starts for paged formats).

One module per format: plain text, Word (.docx; .doc/.wps through LibreOffice), PDF (text layer,
OCR for scanned pages), images (OCR), OFD, saved web pages. ``read_file`` takes the file's bytes
when the caller has already opened it (the indexer opens each corpus file once), and never opens
the path again then. Every failure is a ``ReadError`` whose message names the file and says what
is wrong, on one line.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import ReadError
from ..document import RawText
from .html import read_html, read_mht
from .images import read_image
from .ofd import read_ofd
from .options import ReadOptions
from .pdf import read_pdf
from .plain import read_text
from .word import read_doc, read_docx

READERS = {
    ".txt": read_text, ".md": read_text, ".docx": read_docx, ".pdf": read_pdf, ".doc": read_doc, ".wps": read_doc,
    ".ofd": read_ofd, ".html": read_html, ".htm": read_html, ".mht": read_mht, ".mhtml": read_mht,
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"), read_image),
}


def read_file(path: Path, data: bytes | None = None, options: ReadOptions | None = None) -> RawText:
    """The text of a supported file; raises ``ReadError`` for anything unreadable or empty.

    ``data`` is the file's content when the caller has read it (then ``path`` only names it).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise ReadError(path, f"unsupported file type {suffix or '(no extension)'}")
    try:
        raw = reader(path, path.read_bytes() if data is None else data, options or ReadOptions())
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not raw.text.strip():
        raise ReadError(path, "empty file")
    return raw


__all__ = ["READERS", "RawText", "ReadError", "ReadOptions", "read_file"]
