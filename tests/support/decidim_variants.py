"""Variants of the real Decidim export, derived at test time (the shared data is read-only).

Each function writes an export folder under a temporary directory, starting from
``../shared/data/decidim-nightly`` (ODbL 1.0 / DbCL 1.0, metagov/data-puddle; see
``../shared/data/SOURCES.md``) and changing it the way another Decidim version or a
damaged download would: older column names, missing locales, reordered headers, broken
lines, formula-prefixed cells. No fixture here contains a real person's name: the
values added are made up, and the names in the source files are never copied into test
code.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

NIGHTLY = Path(__file__).resolve().parents[3] / "shared" / "data" / "decidim-nightly"
HOST = "nightly.decidim.org"
SMALL_FILES = ("taxonomies", "user_groups", "participatory_processes", "assemblies",
               "proposals", "proposal_comments", "results", "projects", "meetings",
               "debates", "debate_comments")

csv.field_size_limit(1 << 30)

Table = tuple[list[str], list[dict[str, str]]]


def file_name(entity: str) -> str:
    """Decidim's name for an entity's file."""
    return f"{HOST}-open-data-{entity}.csv"


def read(folder: Path, entity: str) -> Table:
    """(header, rows) of an export file."""
    with (folder / file_name(entity)).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=";")
        return list(reader.fieldnames or []), list(reader)


def write(folder: Path, entity: str, header: list[str], rows: Iterable[dict[str, str]]) -> None:
    """Write an export file as Decidim does (``;``, minimal quoting)."""
    with (folder / file_name(entity)).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, delimiter=";", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


def copy_export(target: Path, entities: Iterable[str] | None = None, *,
                max_rows: int | None = None) -> Path:
    """A copy of the nightly export (all files, or some, optionally cut to ``max_rows``)."""
    target.mkdir(parents=True, exist_ok=True)
    if entities is None:
        for path in NIGHTLY.glob("*.csv"):
            shutil.copy(path, target / path.name)
        return target
    for entity in entities:
        if max_rows is None:
            shutil.copy(NIGHTLY / file_name(entity), target / file_name(entity))
        else:
            header, rows = read(NIGHTLY, entity)
            write(target, entity, header, rows[:max_rows])
    return target


SMALL_CUTS = {"results": 30, "meetings": 15, "debates": 10, "projects": 10}


def small_export(target: Path) -> Path:
    """A quick export: the main files, some cut short, comments cut to 30 threads."""
    copy_export(target, SMALL_FILES)
    for entity, keep in SMALL_CUTS.items():
        header, rows = read(target, entity)
        write(target, entity, header, rows[:keep])
    for entity in ("proposal_comments", "debate_comments"):
        header, rows = read(target, entity)
        kept = {r["id"] for r in rows[:30]}
        rows = [r for r in rows if r["id"] in kept
                or (r["commentable_type"].endswith("Comment") and r["commentable_id"] in kept)]
        write(target, entity, header, rows)
    return target


def edit(folder: Path, entity: str, change: Callable[[list[str], list[dict[str, str]]],
                                                      Table]) -> None:
    """Rewrite one file through ``change(header, rows) -> (header, rows)``."""
    header, rows = read(folder, entity)
    header, rows = change(header, rows)
    write(folder, entity, header, rows)


def older_columns(folder: Path) -> None:
    """Decidim < 0.28 names: ``endorsements`` for likes, ``category``/``scope`` for taxonomies."""
    def proposals(header: list[str], rows: list[dict[str, str]]) -> Table:
        header = [h for h in header if h not in ("endorsements/total_count",
                                                  "endorsements/user_endorsements",
                                                  "taxonomies/ids")]
        header += ["endorsements", "category/id", "category/name/en", "scope/id",
                   "scope/name/en"]
        for row in rows:
            row["endorsements"] = row.pop("endorsements/total_count", "")
            row["category/id"], row["category/name/en"] = "7", "Mobility"
            row["scope/id"], row["scope/name/en"] = "3", "North district"
        return header, rows
    edit(folder, "proposals", proposals)


def drop_locale(folder: Path, entity: str, locale: str) -> None:
    """Remove every column of one locale (human and machine-translated)."""
    def change(header: list[str], rows: list[dict[str, str]]) -> Table:
        return [h for h in header if h.rsplit("/", 1)[-1] != locale], rows
    edit(folder, entity, change)


def drop_columns(folder: Path, entity: str, columns: Iterable[str]) -> None:
    """Remove some columns."""
    gone = set(columns)
    edit(folder, entity, lambda header, rows: ([h for h in header if h not in gone], rows))


def reorder_headers(folder: Path, entity: str) -> None:
    """Reverse the column order."""
    edit(folder, entity, lambda header, rows: (list(reversed(header)), rows))


def add_unknown_column(folder: Path, entity: str, name: str = "brand_new_field/en") -> None:
    """A column no Decidim version the importer knows has written."""
    def change(header: list[str], rows: list[dict[str, str]]) -> Table:
        for row in rows:
            row[name] = "made-up value"
        return header + [name], rows
    edit(folder, entity, change)


def set_cell(folder: Path, entity: str, ident: str, column: str, value: str) -> None:
    """Change one cell of the row with ``id == ident``."""
    def change(header: list[str], rows: list[dict[str, str]]) -> Table:
        for row in rows:
            if row.get("id") == ident:
                row[column] = value
        return header, rows
    edit(folder, entity, change)


def delete_row(folder: Path, entity: str, ident: str) -> None:
    """Remove the row with ``id == ident``."""
    edit(folder, entity, lambda header, rows: (header, [r for r in rows if r.get("id") != ident]))


def break_lines(folder: Path, entity: str) -> list[str]:
    """Append damaged records after the second data line; returns what was added.

    A record with too few fields, one with a NUL byte, and one whose quoted cell is
    never closed (the reader must resynchronise on the next line).
    """
    path = folder / file_name(entity)
    lines = path.read_bytes().splitlines(keepends=True)
    header_fields = lines[0].count(b";") + 1
    bad = [b"999001;only;three\n",
           b"999002" + b";x\x00y" * (header_fields - 1) + b"\n",
           b'999003;"this quote never closes' + b";" * (header_fields - 2) + b"\n"]
    cut = _record_end(lines, 2)
    path.write_bytes(b"".join(lines[:cut] + bad + lines[cut:]))
    return [b.decode("utf-8", "replace") for b in bad]


def _record_end(lines: list[bytes], records: int) -> int:
    """The index of the physical line after the first ``records`` data records."""
    quotes, seen = 0, -1  # the header is record 0
    for index, line in enumerate(lines):
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            seen += 1
            if seen == records:
                return index + 1
    return len(lines)
