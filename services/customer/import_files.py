"""Reading an uploaded import file row by row (never the whole file in memory): CSV (UTF-8, optional BOM,
comma-separated, a header line) or XLSX (the first sheet, openpyxl in read-only streaming mode, a header
row). A row is a dict of the known columns (`domain.imports.COLUMNS`) → cell value; unknown columns are
ignored. Rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.runtime.uploads import BadFile, csv_rows, header_of, row_of

from .domain.imports import COLUMNS, REQUIRED

FORMATS = ("csv", "xlsx")
XLSX_MAGIC = b"PK\x03\x04"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def detect_format(path: Path, filename: str) -> str:
    """`xlsx` by its zip signature, else `csv` (the name's extension must agree)."""
    with path.open("rb") as f:
        head = f.read(4)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head == XLSX_MAGIC:
        if ext not in ("", "xlsx"):
            raise BadFile("filename", "an XLSX file must be named .xlsx")
        return "xlsx"
    if ext not in ("", "csv", "txt"):
        raise BadFile("filename", "only .csv and .xlsx files can be imported")
    return "csv"


_header = header_of(COLUMNS, REQUIRED)


def check_header(path: Path, fmt: str) -> None:
    """Raise `BadFile` when the file has no usable header (read only up to the first row)."""
    for _ in iter_rows(path, fmt, start=0):
        return


def iter_rows(path: Path, fmt: str, *, start: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) for each data row after the first `start` ones (the job's checkpoint)."""
    if fmt == "xlsx":
        yield from _xlsx_rows(path, start)
    else:
        yield from csv_rows(path, start, _header)


def _xlsx_rows(path: Path, start: int) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a bad file, named by its type only
        raise BadFile("file", f"not a readable XLSX file ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise BadFile("file", "the first sheet is empty")
        header = _header(list(first))
        for index, cells in enumerate(rows):
            if index < start:
                continue
            yield index + 2, row_of(header, cells)
    finally:
        wb.close()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
