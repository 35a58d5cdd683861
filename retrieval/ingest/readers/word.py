"""Word files: .docx (python-docx, within package limits) and .doc/.wps (converted by LibreOffice).

Body content is read in document order, including what python-docx's own iteration skips: tables
inside table cells and block-level content controls (``w:sdt``, used by form templates).
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ...errors import ReadError
from ..document import RawText
from .options import ReadOptions
from .package import TextBudget, open_package
from .tables import row_lines

SOFFICE_TIMEOUT = 120  # seconds for one LibreOffice conversion
NO_SOFFICE = ("LibreOffice is needed to read .doc/.wps files "
              "(install it, e.g. apt-get install libreoffice-writer-nogui)")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_docx(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """Paragraphs and tables of a .docx in document order; table rows as lines naming their columns."""
    if data.startswith(OLE_MAGIC):  # OLE container, not a zip
        if b"EncryptedPackage" in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise ReadError(path, "password-protected document")
        raise ReadError(path, "corrupt .docx (an old Word .doc file; rename it to .doc)")
    open_package(path, data, options, ".docx")  # limits first: nothing is inflated past them
    budget = TextBudget(path, options)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = [budget.take(line) for line in body_lines(document.element.body, document)]
    except ReadError:
        raise
    except Exception as exc:  # python-docx raises zip, XML, key and value errors alike
        raise ReadError(path, f"corrupt .docx ({type(exc).__name__}: {exc})") from exc
    return RawText("\n".join(lines))


def body_lines(element, parent) -> Iterator[str]:
    """Lines of a block container (body, cell, content control) in order, as they are read."""
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent).text
        elif child.tag == qn("w:tbl"):
            yield from table_lines(Table(child, parent))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from body_lines(content, parent)
        elif child.tag in (qn("w:customXml"), qn("w:ins"), qn("w:smartTag")):  # wrappers of blocks
            yield from body_lines(child, parent)


def table_lines(table: Table) -> list[str]:
    """A table's rows naming their columns; a cell holding its own table (or several paragraphs)
    gives its first line to the row and the nested table's rows after it."""
    rows, after, seen = [], [], set()
    for row in table.rows:
        cells: list[str | None] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats across the grid columns it spans
                cells.append(None)
                continue
            previous = cell._tc
            inner = list(body_lines(cell._tc, cell))
            if any(child.tag == qn("w:tbl") for child in cell._tc.iterchildren()):
                cells.append(inner[0] if inner else "")
                if cell._tc not in seen:  # a vertical merge shows the same nested table again
                    seen.add(cell._tc)  # the set keeps each lxml proxy alive, so identity is stable
                    after += inner[1:]
            else:
                cells.append(" ".join(line for line in inner if line.strip()))
        rows.append(cells)
    return row_lines(rows) + after


def read_doc(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A .doc/.wps file converted to .docx by LibreOffice in a private temporary directory."""
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
            return read_docx(path, converted.read_bytes(), options)
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
