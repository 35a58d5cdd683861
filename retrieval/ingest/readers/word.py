"""Word files: .docx (python-docx, within package limits) and .doc/.wps (converted by LibreOffice).

Body content is read in document order, including what python-docx's own iteration skips: tables
inside table cells and block-level content controls (``w:sdt``, used by form templates).
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import docx
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from ...errors import ReadError
from ..document import RawText
from .options import ReadOptions
from .package import TextBudget, open_package
from .sniff import OLE_MAGIC, sniff
from .tables import row_lines

SOFFICE_TIMEOUT = 120  # seconds for one LibreOffice conversion
NO_SOFFICE = ("LibreOffice is needed to read .doc/.wps files "
              "(install it, e.g. apt-get install libreoffice-writer-nogui)")


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
        lines = [budget.take(line) for line in Body(path, options).lines(document.element.body, document)]
    except ReadError:
        raise
    except Exception as exc:  # python-docx raises zip, XML, key and value errors alike
        raise ReadError(path, f"corrupt .docx ({type(exc).__name__}: {exc})") from exc
    return RawText("\n".join(lines))


class Body:
    """Lines of a .docx body within the limits: grid cells per table (``max_table_cells``) and the
    characters rows repeat (``max_chars``), each table walked once whatever its spans and merges."""

    def __init__(self, path: Path, options: ReadOptions):
        self.path, self.max_cells, self.max_chars = path, options.max_table_cells, options.max_chars
        self.cells: dict = {}  # a cell's element → its lines (a vertical merge shows one cell on many rows)

    def lines(self, element, parent) -> Iterator[str]:
        """Lines of a block container (body, cell, content control) in order, as they are read."""
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                yield Paragraph(child, parent).text
            elif child.tag == qn("w:tbl"):
                yield from self.table(Table(child, parent))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from self.lines(content, parent)
            elif child.tag in (qn("w:customXml"), qn("w:ins"), qn("w:smartTag")):  # wrappers of blocks
                yield from self.lines(child, parent)

    def grid(self, table: Table) -> list[list]:
        """Each row's cell elements, one per grid column it spans, a vertically merged cell as the
        cell it continues (as python-docx's ``row.cells``, whose merges cost rows² XPath look-ups)."""
        rows, above, total = [], {}, 0
        for tr in table._tbl.tr_lst:
            offset, here, row = tr.grid_before, {}, []
            for tc in tr.tc_lst:
                root = tc
                if tc.vMerge == "continue":
                    root = above.get(offset)
                    if root is None:
                        raise ValueError(f"no cell above a merged cell at grid column {offset}")
                total += root.grid_span
                if total > self.max_cells:
                    raise ReadError(self.path, f"Word 表格超过 {self.max_cells:,} 个单元格（max_table_cells）")
                row += [root] * root.grid_span
                here[offset] = root
                offset += tc.grid_span
            rows.append(row)
            above = here
        return rows

    def table(self, table: Table) -> list[str]:
        """A table's rows naming their columns; a cell holding its own table (or several paragraphs)
        gives its first line to the row and the nested table's rows after it."""
        rows, after, chars = [], [], 0
        for grid in self.grid(table):
            cells: list[str | None] = []
            previous = None
            for tc in grid:
                if tc is previous:  # a merged cell repeats across the grid columns it spans
                    cells.append(None)
                    continue
                previous = tc
                if tc not in self.cells:
                    inner = list(self.lines(tc, _Cell(tc, table)))
                    nested = any(child.tag == qn("w:tbl") for child in tc.iterchildren())
                    after += inner[1:] if nested else []  # a vertical merge shows the nested table once
                    self.cells[tc] = inner[0] if nested and inner else \
                        "" if nested else " ".join(line for line in inner if line.strip())
                cells.append(self.cells[tc])
                chars += len(self.cells[tc])
                if chars > self.max_chars:  # rows repeating a merged cell: counted before they are joined
                    raise ReadError(self.path, f"more than {self.max_chars:,} characters of text (limit max_chars)")
            rows.append(cells)
        return row_lines(rows) + after


def read_doc(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """A .doc/.wps file converted to .docx by LibreOffice in a private temporary directory, with no
    network: inside a network namespace of its own where the system allows one; where it does not,
    only a real OLE2 or RTF document is converted (a web page saved as .doc would make LibreOffice
    fetch its links and images — ``read_file`` gives those to the web-page readers)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise ReadError(path, NO_SOFFICE)
    isolate = no_network()
    if not isolate and sniff(data) not in ("ole", "rtf"):
        raise ReadError(path, "不是 OLE2/RTF 文档，而本机无法让 LibreOffice 断网转换（unshare --net 不可用）：拒绝转换")
    with tempfile.TemporaryDirectory(prefix="yandu-doc-") as tmp:
        tmp = Path(tmp)
        source = tmp / f"input{path.suffix.lower()}"  # an ASCII name spares LibreOffice the locale
        source.write_bytes(data)
        run_soffice(path, [*isolate, soffice, f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                           "--headless", "--convert-to", "docx", "--outdir", str(tmp / "out"), str(source)])
        converted = tmp / "out" / "input.docx"
        if not converted.exists():
            raise ReadError(path, "LibreOffice could not convert the file (damaged or password-protected?)")
        try:
            return read_docx(path, converted.read_bytes(), options)
        except ReadError as exc:
            raise ReadError(path, exc.reason) from exc


@lru_cache(maxsize=1)
def no_network() -> tuple[str, ...]:
    """The command prefix that runs a program without network (a new, empty network namespace;
    its child killed with it), or () where neither root nor a user namespace allows one."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    for prefix in ((unshare, "--net", "--fork", "--kill-child"),
                   (unshare, "--map-root-user", "--net", "--fork", "--kill-child")):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    logging.getLogger(__name__).warning("no network namespace (unshare --net): only OLE2/RTF .doc/.wps "
                                        "files are converted by LibreOffice")
    return ()


def run_soffice(path: Path, command: list[str]) -> None:
    """Run LibreOffice in its own process group (in the caller's session, so a reader worker killed
    with its session takes it along), killing the whole group on timeout."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    try:
        proc.wait(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ReadError(path, f"LibreOffice timed out after {SOFFICE_TIMEOUT} s converting the file")
