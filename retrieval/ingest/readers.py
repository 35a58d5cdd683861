"""Read a report file (.txt/.md, .docx, .pdf, .doc/.wps) into plain text.

Every failure is a ``ReadError`` whose message names the file and says what is wrong.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import unicodedata
import zipfile
from io import BytesIO
from pathlib import Path

import docx
from charset_normalizer import from_bytes
from pypdf import PdfReader
from pypdf.errors import DependencyError

from ..errors import ReadError
from .document import RawText

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every odd object it meets

SOFFICE_TIMEOUT = 120  # seconds for one LibreOffice conversion
NO_SOFFICE = ("LibreOffice is needed to read .doc/.wps files "
              "(install it, e.g. apt-get install libreoffice-writer)")


def read_file(path: Path, data: bytes | None = None) -> RawText:
    """The text of a supported file; raises ``ReadError`` for anything unreadable or empty.

    ``data``: the file's bytes, already read (the indexer reads each file once, safely, and parses
    exactly the bytes it hashed); without it the file at ``path`` is read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    readers = {".txt": read_text, ".md": read_text, ".docx": read_docx, ".pdf": read_pdf,
               ".doc": read_doc, ".wps": read_doc}
    if suffix not in readers:
        raise ReadError(path, f"unsupported file type {suffix or '(no extension)'}")
    try:
        raw = readers[suffix](path, path.read_bytes() if data is None else data)
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not raw.text.strip():
        raise ReadError(path, "empty file")
    return raw


# --- plain text -------------------------------------------------------------------------------


def read_text(path: Path, data: bytes) -> RawText:
    """A .txt/.md file in UTF-8, UTF-16 or GB18030/GBK, with line endings normalised to \\n."""
    text = decode(data)
    if text is None or looks_binary(text):
        raise ReadError(path, "not a text file (binary content)")
    return RawText(text.replace("\r\n", "\n").replace("\r", "\n"))


def decode(data: bytes) -> str | None:
    """Decode text bytes, or None when they are not text in any encoding we accept."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return try_decode(data, "utf-16")  # the codec reads and strips the BOM
    if b"\x00" in data:
        return utf16_without_bom(data)
    for encoding in ("utf-8-sig", "gb18030"):
        text = try_decode(data, encoding)
        if text is not None:
            return text
    best = from_bytes(data).best()
    return str(best) if best is not None else None


def try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def utf16_without_bom(data: bytes) -> str | None:
    """BOM-less UTF-16 (ASCII leaves a NUL in every other byte) that decodes to common text."""
    if len(data) % 2:
        return None
    little = data[1::2].count(0) >= data[0::2].count(0)
    for encoding in ("utf-16-le", "utf-16-be") if little else ("utf-16-be", "utf-16-le"):
        text = try_decode(data, encoding)
        if text and sum(map(is_common, text)) >= 0.95 * len(text):
            return text
    return None


def is_common(ch: str) -> bool:
    """ASCII, CJK symbols/ideographs, general punctuation or full-width forms."""
    return ch < "\x80" or "\u3000" <= ch <= "\u9fff" or "\u2000" <= ch <= "\u206f" or "\uff00" <= ch <= "\uffef"


def looks_binary(text: str) -> bool:
    """True when over 2% of the characters are control characters or unassigned code points."""
    bad = sum(1 for ch in text if ch not in "\t\n\r\f" and unicodedata.category(ch) in ("Cc", "Cn"))
    return bad > 0.02 * len(text)


# --- Word ---------------------------------------------------------------------------------------


def read_docx(path: Path, data: bytes) -> RawText:
    """Paragraphs and tables of a .docx in document order; a table row is one tab-separated line."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE container, not a zip
        if b"EncryptedPackage" in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise ReadError(path, "password-protected document")
        raise ReadError(path, "corrupt .docx (an old Word .doc file; rename it to .doc)")
    if not zipfile.is_zipfile(BytesIO(data)):  # python-docx would say "Package not found at <full path>"
        raise ReadError(path, "corrupt .docx (not a Word .docx package)")
    try:
        document = docx.Document(BytesIO(data))
        lines = [line for block in document.iter_inner_content() for line in block_lines(block)]
    except Exception as exc:  # python-docx raises zip, XML, key and value errors alike
        raise ReadError(path, f"corrupt .docx ({type(exc).__name__}: {exc})") from exc
    return RawText("\n".join(lines))


def block_lines(block) -> list[str]:
    """A paragraph's text as it is, or a table's rows with merged cells given once."""
    if not hasattr(block, "rows"):
        return [block.text]
    seen, lines = set(), []
    for row in block.rows:
        cells = []
        for cell in row.cells:
            if cell._tc not in seen:  # a merged cell repeats across the grid cells it spans
                seen.add(cell._tc)  # the set keeps each lxml proxy alive, so identity is stable
                cells.append(cell.text.replace("\n", " "))
        if any(c.strip() for c in cells):
            lines.append("\t".join(cells))
    return lines


def read_doc(path: Path, data: bytes) -> RawText:
    """A .doc/.wps file converted to .docx by LibreOffice in a temporary directory."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise ReadError(path, NO_SOFFICE)
    with tempfile.TemporaryDirectory(prefix="yandu-doc-") as tmp:
        tmp = Path(tmp)
        source = tmp / f"input{path.suffix.lower()}"  # an ASCII name spares LibreOffice the locale
        source.write_bytes(data)
        run_soffice(path, [soffice, f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                           "--headless", "--convert-to", "docx", "--outdir", str(tmp / "out"), str(source)])
        converted = tmp / "out" / "input.docx"
        if not converted.exists():
            raise ReadError(path, "LibreOffice could not convert the file (damaged or password-protected?)")
        try:
            return read_docx(converted, converted.read_bytes())
        except ReadError as exc:
            raise ReadError(path, exc.reason) from exc


def run_soffice(path: Path, command: list[str]) -> None:
    """Run LibreOffice in its own process group, killing the whole group on timeout."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ReadError(path, f"LibreOffice timed out after {SOFFICE_TIMEOUT} s converting the file")


# --- PDF ----------------------------------------------------------------------------------------


def read_pdf(path: Path, data: bytes) -> RawText:
    """The text layer of each page, pages joined by \\n, with each page's start offset."""
    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(path, "password-protected PDF")
        pages = [(page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n")
                 for page in reader.pages]
    except ReadError:
        raise
    except DependencyError as exc:
        raise ReadError(path, f"encrypted PDF needs the 'cryptography' package ({exc})") from exc
    except Exception as exc:  # pypdf raises many error types on damaged files
        raise ReadError(path, f"corrupt PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise ReadError(path, "corrupt PDF (no pages)")
    if not "".join(pages).strip():
        raise ReadError(path, "scanned PDF, no text layer")
    starts, offset = [], 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 1
    return RawText("\n".join(pages), starts)
