"""Uploaded files, whatever they hold: the request body streamed to a temporary file as it arrives (hashed and
its line breaks counted on the way, never whole in memory, a size limit answered 413), and a stored reject
report (row, field, reason — never a value of the file) streamed back as CSV page by page. Used by the customer
service's import and the campaigns service's audience lists."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Table, select

from .api import Problem, validation_problem

REPORT_PAGE = 5000
MAX_CELL_CHARS = 10_000


class BadFile(ValueError):
    """The file cannot be imported at all (not readable, no header, a required column missing)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def header_of(known: Sequence[str], required: Sequence[str]) -> Callable[[list[Any]], list[str | None]]:
    """A header reader: the known columns by position (others None); `BadFile` when a required one is missing."""

    def header(cells: list[Any]) -> list[str | None]:
        names = [str(c).strip().lower() if c is not None else None for c in cells]
        missing = [r for r in required if r not in names]
        if missing:
            raise BadFile("file", f"the header has no {missing[0]!r} column (columns: {', '.join(known)})")
        return [n if n in known else None for n in names]

    return header


def row_of(header: list[str | None], cells: Any) -> dict[str, Any]:
    """The known columns' non-empty cells (each cut to MAX_CELL_CHARS)."""
    out: dict[str, Any] = {}
    for name, value in zip(header, cells, strict=False):
        if name is not None and value is not None:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                value = value[:MAX_CELL_CHARS]
            out[name] = value
    return out


TextOpener = Callable[[], Any]  # opens the file as text (UTF-8 with an optional BOM, newline="")


def text_file(path: Path) -> TextOpener:
    return lambda: path.open("r", encoding="utf-8-sig", newline="")


def csv_rows(source: Path | TextOpener, start: int, header: Callable[[list[Any]], list[str | None]]) -> Iterator[
        tuple[int, dict[str, Any]]]:
    """(row number as in a spreadsheet: the header is 1, the first data row 2; row) of a UTF-8 CSV file (a BOM
    allowed) after the first `start` data rows (a job's checkpoint); an empty line gives an empty row."""
    opener = text_file(source) if isinstance(source, Path) else source
    try:
        with opener() as f:
            reader = csv.reader(f)
            first = next(reader, None)
            if first is None:
                raise BadFile("file", "the file is empty")
            names = header(first)
            for index, cells in enumerate(reader):
                if index < start:
                    continue
                yield index + 2, (row_of(names, cells) if any(cells) else {})
    except UnicodeDecodeError:
        raise BadFile("file", "a CSV file must be UTF-8") from None
    except csv.Error as exc:
        raise BadFile("file", f"not a readable CSV file: {exc}") from None


@dataclass(frozen=True)
class Upload:
    path: Path  # the temporary file, in the directory given: rename it (os.replace) or unlink it
    sha256: str
    size: int
    lines: int  # line breaks, plus one for a last line without one

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")  # a name without a path or control characters


async def receive_upload(request: Request, directory: Path, limit: int, filename: str) -> Upload:
    """Write the body to a temporary file in `directory` as it arrives: 422 for a `filename` (the query's) with a
    path or control characters or for an empty body, 413 past `limit` bytes."""
    if not FILENAME.fullmatch(filename):
        raise validation_problem("query.filename", "a file name without path or control characters")
    tmp = directory / f".upload-{uuid.uuid4().hex}"
    digest, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
    f = await asyncio.to_thread(tmp.open, "wb")
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Problem(413, "Payload Too Large", f"body: at most {limit} bytes")
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:] or last
            await asyncio.to_thread(f.write, chunk)
    except BaseException:
        f.close()
        tmp.unlink(missing_ok=True)
        raise
    f.close()
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise validation_problem("body", "the file is empty")
    return Upload(tmp, digest.hexdigest(), size, lines + (last != b"\n"))


def reject_report(table: Table, key: str, value: str, read: Callable[[Any], Sequence[Any]],
                  filename: str) -> StreamingResponse:
    """`row,field,reason` of `table`'s rows where `key` = `value`, by `row_no`, page by page: `read(stmt)`
    runs a select (blocking: it is called in a thread)."""

    def page(after: int) -> Sequence[Any]:
        return read(select(table.c.row_no, table.c.field, table.c.reason)
                    .where(table.c[key] == value, table.c.row_no > after).order_by(table.c.row_no).limit(REPORT_PAGE))

    async def body() -> AsyncIterator[bytes]:
        yield b"row,field,reason\r\n"
        after = 0
        while rows := await asyncio.to_thread(page, after):
            yield "".join(f"{n},{f},{why}\r\n" for n, f, why in rows).encode()
            after = rows[-1][0]

    return StreamingResponse(body(), media_type="text/csv", headers={
        "content-disposition": f'attachment; filename="{filename}"'})


class ChunkReader(io.RawIOBase):
    """A file stored as numbered chunks (e.g. rows of a table) read as one binary stream, a chunk at a time:
    `chunk(n)` gives the n-th chunk's bytes, or None after the last."""

    def __init__(self, chunk: Callable[[int], bytes | None]):
        self._chunk, self._next, self._buf = chunk, 0, b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            data = self._chunk(self._next)
            if data is None:
                return 0
            self._next += 1
            self._buf = data
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def chunked_text(chunk: Callable[[int], bytes | None]) -> TextOpener:
    """A TextOpener over a chunked file (see `ChunkReader`) for `csv_rows`."""
    return lambda: io.TextIOWrapper(io.BufferedReader(ChunkReader(chunk), 1 << 20), encoding="utf-8-sig",
                                    newline="")
