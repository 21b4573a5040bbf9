"""Tolerant reading of Decidim's open-data CSV files: rows keyed by header name.

Decidim writes ``;``-separated CSV (RFC 4180 quoting, cells may span lines) with nested
fields flattened into headers such as ``title/en`` or ``author/id``. Exports differ
between versions and instances, so nothing here depends on column order or on a fixed
set of columns. A damaged record never stops the file:

* a record is assembled from physical lines until its quotes balance; if the file ends
  (or :data:`MAX_RECORD_LINES` lines pass) with a quote still open, that record is
  reported and reading resumes on the line after its first one, so one stray quote
  costs one record;
* a record with a NUL byte, bytes that are not UTF-8, or a field count different from
  the header's is reported (:class:`LineIssue`) and skipped;
* cells that Decidim prefixed with ``'`` against formula injection (a cell starting
  with ``=``, ``+``, ``-`` or ``@``; ``Decidim::Exporters::CSV#sanitize``) get their
  text back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DELIMITER = ";"
MAX_RECORD_LINES = 5000  # a quoted cell longer than this is taken for a stray quote
FORMULA_MARKS = ("=", "+", "-", "@")

csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class LineIssue:
    """A record that could not be read: where it starts and why."""

    line: int  # physical line (1-based) where the record starts
    reason: str


@dataclass(frozen=True)
class Record:
    """One data row: its starting line, its cells by header, and the bytes read so far."""

    line: int
    cells: dict[str, str]
    offset: int  # bytes of the file consumed once this record is read (progress)


def restore_formula(cell: str) -> str:
    """Undo Decidim's formula-injection prefix: ``'=SUM(A1)`` becomes ``=SUM(A1)``."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_MARKS:
        return cell[1:]
    return cell


def _split(text: str) -> list[str] | None:
    """The fields of one complete record, or None when csv cannot make sense of it."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER, strict=True))
    except csv.Error:
        return None
    if len(rows) != 1:
        return None
    return rows[0]


class CsvFile:
    """Reads one export file; ``records()`` yields rows, ``issues`` collects the damage."""

    def __init__(self, name: str, lines: Iterable[bytes]) -> None:
        self.name = name
        self._lines = lines
        self.header: list[str] = []
        self.issues: list[LineIssue] = []
        self.duplicate_headers: list[str] = []

    def _physical(self) -> Iterator[tuple[int, bytes, int]]:
        offset = 0
        for number, raw in enumerate(self._lines, start=1):
            offset += len(raw)
            yield number, raw, offset

    def records(self) -> Iterator[Record]:
        """Every readable data record, in file order."""
        pending: list[tuple[int, bytes, int]] = []  # lines to (re)read before the file's rest
        source = self._physical()
        buffer: list[tuple[int, bytes, int]] = []
        quotes = 0
        header_done = False
        while True:
            if pending:
                item: tuple[int, bytes, int] | None = pending.pop(0)
            else:
                item = next(source, None)
            if item is None:
                if not buffer:
                    return
                # The file ended inside a quoted cell: drop the first line, retry the rest.
                self.issues.append(LineIssue(buffer[0][0], "a quoted cell is never closed"))
                pending = buffer[1:] + pending
                buffer, quotes = [], 0
                continue
            buffer.append(item)
            quotes += item[1].count(b'"')
            if quotes % 2 and len(buffer) < MAX_RECORD_LINES:
                continue
            if quotes % 2:
                self.issues.append(LineIssue(buffer[0][0], "a quoted cell is never closed"))
                pending = buffer[1:] + pending
                buffer, quotes = [], 0
                continue
            lines, buffer, quotes = buffer, [], 0
            first, end = lines[0][0], lines[-1][2]
            raw = b"".join(b for _, b, _ in lines)
            if not raw.strip():
                continue  # blank line
            if not header_done:
                header_done = self._read_header(first, raw)
                continue
            if len(lines) > 1 and not self._fits(raw) and self._fits(lines[1][1]):
                # A quote opened on the first line swallowed whole records: drop that line
                # and read the following ones again.
                self.issues.append(LineIssue(first, "a quoted cell is never closed"))
                pending = lines[1:] + pending
                continue
            record = self._record(first, raw, end)
            if record is not None:
                yield record

    def _fits(self, raw: bytes) -> bool:
        """Whether ``raw`` reads as exactly one record with the header's field count."""
        try:
            fields = _split(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return False
        return fields is not None and len(fields) == len(self.header)

    def _decode(self, line: int, raw: bytes) -> str | None:
        if b"\x00" in raw:
            self.issues.append(LineIssue(line, "the record contains a NUL byte"))
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.issues.append(LineIssue(line, f"the record is not valid UTF-8 ({e.reason})"))
            return None

    def _read_header(self, line: int, raw: bytes) -> bool:
        text = self._decode(line, raw)
        fields = _split(text.lstrip("\ufeff")) if text is not None else None
        if not fields:
            self.issues.append(LineIssue(line, "the header line cannot be read"))
            return False
        seen: set[str] = set()
        header = []
        for name in (f.strip() for f in fields):
            if name in seen:
                self.duplicate_headers.append(name)
                name = ""  # keep the first column of that name
            seen.add(name)
            header.append(name)
        self.header = header
        return True

    def _record(self, line: int, raw: bytes, end: int) -> Record | None:
        text = self._decode(line, raw)
        if text is None:
            return None
        fields = _split(text)
        if fields is None:
            self.issues.append(LineIssue(line, "bad quoting"))
            return None
        if len(fields) != len(self.header):
            self.issues.append(LineIssue(
                line, f"{len(fields)} fields where the header has {len(self.header)}"))
            return None
        cells = {name: restore_formula(value) for name, value in zip(self.header, fields)
                 if name}
        return Record(line, cells, end)


def open_lines(data: bytes) -> Iterator[bytes]:
    """Physical lines of ``data``, each with its line ending (``\\n``, ``\\r\\n``)."""
    return iter(io.BytesIO(data))
