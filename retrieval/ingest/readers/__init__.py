"""Read a report file into plain text (``RawText``, with page starts for paged formats).

One module per format: plain text, Word (.docx; .doc/.wps through LibreOffice), PDF (text layer,
OCR for scanned pages), images (OCR), OFD, saved web pages. ``read_file`` takes the file's bytes
when the caller has already opened it (the indexer opens each corpus file once), and never opens
the path again then. Files are read as what their content is (``sniff``): a web page saved as
``.doc`` is read as a web page, and only real OLE2/RTF documents reach LibreOffice. Every failure
is a ``ReadError`` whose message names the file and says what is wrong, on one line; the indexer
runs all this in a worker process (``ingest/fence.py``), where any other error becomes one too.
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
from .sniff import language_share, sniff
from .word import read_doc, read_docx

READERS = {
    ".txt": read_text, ".md": read_text, ".docx": read_docx, ".pdf": read_pdf, ".doc": read_doc, ".wps": read_doc,
    ".ofd": read_ofd, ".html": read_html, ".htm": read_html, ".mht": read_mht, ".mhtml": read_mht,
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"), read_image),
}


WORD_BY_CONTENT = {"ole": read_doc, "rtf": read_doc, "zip": read_docx, "pdf": read_pdf, "mht": read_mht,
                   "html": read_html, None: read_text}
MIN_LANGUAGE = 0.8  # of a .doc/.wps's text: reports score ≥ 0.9995, bytes misread as text ≤ 0.55 (sniff.py)


def reader_for(path: Path, data: bytes):
    """The reader of what the bytes are: by content for Word names and web archives, else by suffix."""
    suffix = path.suffix.lower()
    kind = sniff(data)
    if suffix in (".doc", ".wps"):
        return WORD_BY_CONTENT[kind]
    if suffix in (".html", ".htm") and kind == "mht":
        return read_mht
    if suffix in (".mht", ".mhtml") and kind == "html":
        return read_html
    return READERS[suffix]


def read_file(path: Path, data: bytes | None = None, options: ReadOptions | None = None) -> RawText:
    """The text of a supported file; raises ``ReadError`` for anything unreadable or empty.

    ``data`` is the file's content when the caller has read it (then ``path`` only names it).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ReadError(path, f"unsupported file type {suffix or '(no extension)'}")
    try:
        data = path.read_bytes() if data is None else data
        raw = reader_for(path, data)(path, data, options or ReadOptions())
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not raw.text.strip():
        raise ReadError(path, "empty file")
    if suffix in (".doc", ".wps") and (share := language_share(raw.text)) < MIN_LANGUAGE:
        raise ReadError(path, f"内容大多不是文字（可读字符 {share:.0%}，低于 {MIN_LANGUAGE:.0%}）：不是 Word/WPS 文档或已损坏")
    return raw


__all__ = ["READERS", "RawText", "ReadError", "ReadOptions", "language_share", "read_file", "reader_for", "sniff"]
