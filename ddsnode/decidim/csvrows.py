"""Tolerant reading of Decidim's open-data CSV files: rows keyed by header name.

Decidim writes ``;``-separated CSV (RFC 4180 quoting, cells may span lines) with nested
fields flattened into headers such as ``title/en`` or ``author/id``. Exports differ
between versions and instances, so nothing here depends on column order or on a fixed
set of columns. A damaged record never stops the file:

* a record is assembled from physical lines until its quotes balance; if the file ends
  (or :data:`MAX_RECORD_LINES` lines pass and its second line reads as a record of its
  own) with a quote still open, that record is reported and reading resumes on the line
  after its first one, so one stray quote costs one record;
* a record longer than ``max_record_bytes`` (the node's ``max_body_bytes``: no row may
  make a resource bigger than HTTP accepts) is reported and skipped without being held
  in memory: physical lines are read at most that many bytes at a time, and the rest of
  an overlong record is consumed in chunks, counting quotes only, to where its quotes
  balance (a line with no end costs one record, not the process's memory);
* a record with a NUL byte, bytes that are not UTF-8, or a field count different from
  the header's is reported (:class:`LineIssue`) and skipped;
* cells that Decidim prefixed with ``'`` against formula injection (a cell starting
  with ``=``, ``+``, ``-`` or ``@``; ``Decidim::Exporters::CSV#sanitize``) get their
  text back: the data is text, and every CSV the node writes escapes such cells again
  (``ddsnode.store.results``, OWASP "CSV Injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

DELIMITER = ";"
MAX_RECORD_LINES = 5000  # a quoted cell longer than this is taken for a stray quote
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024  # the default max_body_bytes
MAX_ISSUES = 2000  # issues listed per file; issue_count keeps the true total
CHUNK = 64 * 1024  # how much of an overlong line is read at a time
FORMULA_MARKS = ("=", "+", "-", "@")


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


@dataclass(frozen=True)
class _Line:
    """One physical line: its bytes (None when longer than the limit: not kept)."""

    number: int
    data: bytes | None
    quotes: int
    size: int
    end: int  # bytes of the file consumed after it


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

    def __init__(self, name: str, stream: IO[bytes], *,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> None:
        self.name = name
        self._stream = stream
        self.max_record_bytes = max_record_bytes
        self.header: list[str] = []
        self.issues: list[LineIssue] = []
        self.issue_count = 0
        self.duplicate_headers: list[str] = []
        # The csv module's field bound is process-wide, 128 KiB by default: a field may be
        # as long as its record, so raise it that far (never lower it for others). What
        # bounds memory is the record limit above, applied before csv sees the bytes.
        if csv.field_size_limit() < max_record_bytes:
            csv.field_size_limit(max_record_bytes)

    def _issue(self, line: int, reason: str) -> None:
        self.issue_count += 1
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(LineIssue(line, reason))

    def _physical(self) -> Iterator[_Line]:
        """The file's physical lines, none held beyond ``max_record_bytes``."""
        offset, number, limit = 0, 0, self.max_record_bytes
        while True:
            raw = self._stream.readline(limit + 1)
            if not raw:
                return
            number += 1
            offset += len(raw)
            if len(raw) <= limit:
                yield _Line(number, raw, raw.count(b'"'), len(raw), offset)
                continue
            quotes, size = raw.count(b'"'), len(raw)
            while not raw.endswith(b"\n"):
                raw = self._stream.readline(CHUNK)
                if not raw:
                    break
                quotes += raw.count(b'"')
                size += len(raw)
                offset += len(raw)
            yield _Line(number, None, quotes, size, offset)

    def records(self) -> Iterator[Record]:
        """Every readable data record, in file order."""
        pending: list[_Line] = []  # lines to (re)read before the file's rest
        source = self._physical()
        buffer: list[_Line] = []
        size = quotes = 0
        header_done = False
        while True:
            item = pending.pop(0) if pending else next(source, None)
            if item is None:
                if not buffer:
                    return
                # The file ended inside a quoted cell: drop the first line, retry the rest.
                self._issue(buffer[0].number, "a quoted cell is never closed")
                pending = buffer[1:] + pending
                buffer, size, quotes = [], 0, 0
                continue
            if item.data is None or size + item.size > self.max_record_bytes:
                first = buffer[0].number if buffer else item.number
                closed = self._skip((quotes + item.quotes) % 2, pending, source)
                buffer, size, quotes = [], 0, 0
                reason = (f"the record is longer than {self.max_record_bytes:,} bytes "
                          "(max_body_bytes); skipped")
                if not closed:
                    reason += "; a quoted cell in it is never closed, so the file's rest is too"
                self._issue(first, reason)
                continue
            buffer.append(item)
            size += item.size
            quotes += item.quotes
            if quotes % 2 and (len(buffer) != MAX_RECORD_LINES
                               or not self._fits(buffer[1].data or b"")):
                continue  # a long quoted cell (its length is bounded above)
            if quotes % 2:
                self._issue(buffer[0].number, "a quoted cell is never closed")
                pending = buffer[1:] + pending
                buffer, size, quotes = [], 0, 0
                continue
            lines, buffer, size, quotes = buffer, [], 0, 0
            first, end = lines[0].number, lines[-1].end
            raw = b"".join(line.data or b"" for line in lines)
            if not raw.strip():
                continue  # blank line
            if not header_done:
                header_done = self._read_header(first, raw)
                continue
            if len(lines) > 1 and not self._fits(raw) and self._fits(lines[1].data or b""):
                # A quote opened on the first line swallowed whole records: drop that line
                # and read the following ones again.
                self._issue(first, "a quoted cell is never closed")
                pending = lines[1:] + pending
                continue
            record = self._record(first, raw, end)
            if record is not None:
                yield record

    @staticmethod
    def _skip(parity: int, pending: list[_Line], source: Iterator[_Line]) -> bool:
        """Consume the rest of an overlong record (to where its quotes balance) without
        keeping it; False when the file ends first."""
        while parity:
            item = pending.pop(0) if pending else next(source, None)
            if item is None:
                return False
            parity = (parity + item.quotes) % 2
        return True

    def _fits(self, raw: bytes) -> bool:
        """Whether ``raw`` reads as exactly one record with the header's field count."""
        try:
            fields = _split(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return False
        return fields is not None and len(fields) == len(self.header)

    def _decode(self, line: int, raw: bytes) -> str | None:
        if b"\x00" in raw:
            self._issue(line, "the record contains a NUL byte")
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self._issue(line, f"the record is not valid UTF-8 ({e.reason})")
            return None

    def _read_header(self, line: int, raw: bytes) -> bool:
        text = self._decode(line, raw)
        fields = _split(text.lstrip("\ufeff")) if text is not None else None
        if not fields:
            self._issue(line, "the header line cannot be read")
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
            self._issue(line, "bad quoting")
            return None
        if len(fields) != len(self.header):
            self._issue(
                line, f"{len(fields)} fields where the header has {len(self.header)}")
            return None
        cells = {name: restore_formula(value) for name, value in zip(self.header, fields)
                 if name}
        return Record(line, cells, end)


def open_lines(data: bytes) -> IO[bytes]:
    """``data`` as the binary stream :class:`CsvFile` reads."""
    return io.BytesIO(data)
