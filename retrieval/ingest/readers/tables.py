"""A table as lines a reader can search: each row one line that names its columns.

"指标：地区生产总值，2024年：5.3万亿元，增长：5.2%" keeps which number belongs to which column
in the passage itself, so a question about one figure finds its row, and a long table cut
between chunks keeps its header on every row. Rows end at line ends only (cells are joined
with "，", not a sentence end), so the chunker never cuts inside a row.
"""
from __future__ import annotations

import re
from itertools import zip_longest

NUMBERISH = re.compile(r"^[\d\s.,%％+\-－—~～/×*]*$")
MAX_HEADER_CELL = 30  # characters; longer first-row cells are content, not column names

Row = list[str | None]  # None: the cell to the left spans this column too (a horizontal merge)


def has_header(rows: list[Row]) -> bool:
    """The first row names columns: two or more short, non-empty, non-numeric cells over more rows."""
    if len(rows) < 2:
        return False
    head = [c for c in rows[0] if c is not None]
    return len(head) >= 2 and all(c and len(c) <= MAX_HEADER_CELL and not NUMBERISH.match(c) for c in head)


def row_lines(rows: list[Row]) -> list[str]:
    """One line per non-empty row; under a header, each cell prefixed by its column name.

    A cell merged across the whole row (a group label, "合计") is a line of its own; a cell
    merged down a column repeats on each row it spans, so every row stands alone.
    """
    rows = [[None if c is None else " ".join(c.split()) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not has_header(rows):
        return ["\t".join(c for c in row if c is not None) for row in rows]
    header = rows[0]
    names, current = [], ""
    for cell in header:  # a header cell spanning columns names each of them
        current = current if cell is None else cell
        names.append(current)
    lines = []
    for row in rows[1:]:
        cells = [c for c in row if c is not None]
        if len(cells) == 1 and len(row) > 1:
            lines.append(cells[0])
            continue
        pairs = [f"{name}：{cell}" if name else cell
                 for name, cell in zip_longest(names, row, fillvalue="") if cell]
        lines.append("，".join(pairs))
    return lines


SENTENCE_MARK = re.compile(r"[。；，、！？]")
MIN_TABLE_LINES = 3  # a header and two rows: fewer is too easily an ordinary pair of lines


def text_table_lines(text: str) -> str:
    """Tables inside a text layer (a PDF page gives each row as one line, cells split by spaces)
    rewritten as row lines naming their columns; every other line kept as it is.

    A table is a run of lines without sentence punctuation that split into the same number
    (two or more) of cells, under a header of names, with digits in its rows.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        cells = _cells(lines[i])
        j = i + 1
        while cells and j < len(lines) and len(_cells(lines[j]) or ()) == len(cells):
            j += 1
        # Every start inside the run [i, j) ends the run at j, so the run is looked at once (linear):
        # the table is the first start from which every later row has a digit and that is a header.
        rows = [_cells(line) for line in lines[i:j]]
        digitless = max((k for k in range(1, len(rows)) if not any(ch.isdigit() for ch in "".join(rows[k]))), default=0)
        start = next((k for k in range(digitless, len(rows) - MIN_TABLE_LINES + 1) if has_header(rows[k:k + 2])), None) \
            if cells else None
        if start is None:
            out += lines[i:j]
        else:
            out += lines[i:i + start] + row_lines(rows[start:])
        i = j
    return "\n".join(out)


def _cells(line: str) -> list[str] | None:
    cells = line.split()
    return cells if len(cells) >= 2 and not SENTENCE_MARK.search(line) else None
