"""Reading a directory spreadsheet: CSV dialect, headers in English or French, the report.

The file is a spreadsheet exported as CSV, UTF-8 (a byte-order mark is fine), separated by
commas, semicolons or tabs (whichever the header line has most of). Headers are matched
ignoring case, accents and punctuation (:data:`HEADERS`). A row whose field count differs
from the header's is rejected on its own; a quote left open ends the reading there, the
rows before it standing (Python's csv module in strict mode, RFC 4180 2.5-2.7).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from ddsnode.explorer.directory_terms import fold

# Column -> folded headers that name it (English, French, synonyms).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "organisation", "organization", "organisation name", "organization name",
             "nom", "organisme", "nom de l organisation", "structure"),
    "website": ("website", "web site", "url", "homepage", "site", "site web", "site internet",
                "lien"),
    "country": ("country", "country code", "pays", "code pays"),
    "type": ("type", "kind", "organisation type", "organization type", "type of organisation",
             "type d organisation", "type de structure", "categorie", "category", "sector",
             "secteur"),
    "clusters": ("clusters", "cluster", "cluster s", "famille", "familles",
                 "familles d activite", "famille d activite", "activity cluster"),
    "level": ("iap2 level", "iap2", "level", "participation level", "niveau", "niveau iap2",
              "niveau de participation"),
    "description": ("description", "summary", "resume", "presentation"),
    "initiatives": ("initiative", "initiatives", "initiative s", "programme", "project",
                    "projet", "projets", "initiative name"),
    "city": ("city", "town", "ville", "commune", "locality", "localite"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "long", "lon", "lng"),
    "language": ("language", "lang", "langue"),
}
REQUIRED = ("name", "clusters", "level")


class SourceRefused(ValueError):
    """The whole file is refused (too big, not UTF-8, no header, required columns absent)."""


@dataclass(frozen=True)
class Rejected:
    """A row not imported: its line in the file, the organisation's name, and why."""

    line: int
    name: str
    reason: str


@dataclass
class Report:
    """What an import did."""

    source: str
    columns: dict[str, str] = field(default_factory=dict)  # column -> header found
    ignored_headers: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        """One line of counts."""
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.rejected)} rejected")

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (``--report FILE``)."""
        return {"source": self.source, "columns": self.columns,
                "ignoredHeaders": self.ignored_headers, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged,
                "rejected": [{"line": r.line, "name": r.name, "reason": r.reason}
                             for r in self.rejected]}


def map_headers(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """(column -> index, headers not understood). The first header naming a column wins."""
    found: dict[str, int] = {}
    ignored = []
    for index, text in enumerate(header):
        key = fold(text)
        column = next((c for c, names in HEADERS.items() if key in names), None)
        if column is None or column in found:
            ignored.append(text)
        else:
            found[column] = index
    return found, ignored


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def read_rows(data: bytes, *, max_rows: int, report: Report
              ) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The header mapping and the data rows (line, cells) of a CSV file.

    A row whose field count differs from the header's is rejected; a quote left open
    ends the reading there (the rows before it stand), reported on its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceRefused(f"the file is not UTF-8 (byte {e.start}); export it as "
                            "'CSV UTF-8'") from None
    if "\x00" in text:
        raise SourceRefused("the file holds NUL bytes: not a CSV export")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not header:
                header = [h.strip() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(rows) >= max_rows:
                raise SourceRefused(f"more than {max_rows:,} rows (directory_max_rows)")
            if len(record) != len(header):
                report.rejected.append(Rejected(start, record[0][:80] if record else "",
                                                f"{len(record)} fields where the header has "
                                                f"{len(header)}"))
                continue
            rows.append((start, record))
    except csv.Error as e:
        report.rejected.append(Rejected(line, "", f"the file cannot be read from this line "
                                                  f"on: {e} (an unbalanced quote?)"))
    if not header:
        raise SourceRefused("the file is empty: no header row")
    columns, ignored = map_headers(header)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise SourceRefused(
            f"missing column(s): {', '.join(missing)}; accepted headers: " + "; ".join(
                f"{c}: {', '.join(repr(h) for h in HEADERS[c][:4])}" for c in missing))
    report.columns = {c: header[i] for c, i in columns.items()}
    report.ignored_headers = ignored
    return columns, rows
