"""The report of one import: counts per kind, rejected rows, unexpected data, file damage.

``summary_table()`` is what the command prints; ``to_json()`` is what ``--report FILE``
writes (the shape is documented in docs/decidim.md and pinned by a test). Lists are cut
to :data:`MAX_LISTED` entries each, with the true totals kept in the counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("created", "updated", "unchanged", "rejected", "tombstoned", "withheld")
MAX_LISTED = 2000


@dataclass(frozen=True)
class Reject:
    """A row that was not imported: the file, its line, Decidim's id and why."""

    file: str
    row: int
    id: str
    reason: str


@dataclass
class FileReport:
    """What was odd about one file."""

    name: str
    entity: str
    rows: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    note_count: int = 0
    imported: bool = True
    reason: str = ""


@dataclass
class ImportReport:
    """The whole report."""

    platform: str
    source: str
    started: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    reject_count: int = 0
    files: list[FileReport] = field(default_factory=list)
    tombstones_skipped: list[str] = field(default_factory=list)
    repeated: int = 0  # rows identical to an earlier row of the same id (ignored)
    finished: str = ""

    def count(self, kind: str, outcome: str) -> None:
        """Add one outcome for a ledger kind."""
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def reject(self, item: Reject, kind: str) -> None:
        """Record a rejected row."""
        self.count(kind, "rejected")
        self.reject_count += 1
        if len(self.rejects) < MAX_LISTED:
            self.rejects.append(item)

    def totals(self) -> Counter[str]:
        """Outcome -> count over every kind."""
        total: Counter[str] = Counter()
        for counter in self.counts.values():
            total.update(counter)
        return total

    def summary_table(self) -> str:
        """A plain-text table: one line per kind, then the totals."""
        width = max([len(k) for k in self.counts] + [len("total")])
        head = f"{'':{width}}  " + "  ".join(f"{o:>10}" for o in OUTCOMES)
        lines = [head]
        for kind in sorted(self.counts):
            c = self.counts[kind]
            lines.append(f"{kind:{width}}  " + "  ".join(f"{c[o]:>10}" for o in OUTCOMES))
        t = self.totals()
        lines.append(f"{'total':{width}}  " + "  ".join(f"{t[o]:>10}" for o in OUTCOMES))
        return "\n".join(lines)

    def problems_text(self, limit: int = 20) -> str:
        """The first rejects and file problems, one per line, for the terminal."""
        lines = []
        for r in self.rejects[:limit]:
            lines.append(f"rejected {r.file}:{r.row} id={r.id or '?'}: {r.reason}")
        if self.reject_count > limit:
            lines.append(f"... and {self.reject_count - limit} more rejected rows (--report)")
        for f in self.files:
            if not f.imported:
                lines.append(f"not imported {f.name}: {f.reason}")
                continue
            for m in f.malformed[:5]:
                lines.append(f"malformed {f.name}:{m['line']}: {m['reason']}")
            if len(f.malformed) > 5:
                lines.append(f"... {len(f.malformed) - 5} more malformed lines in {f.name}")
            if f.missing_columns:
                lines.append(f"missing columns in {f.name}: {', '.join(f.missing_columns)}")
            if f.unknown_columns:
                lines.append(f"{len(f.unknown_columns)} unknown column(s) in {f.name} "
                             f"(ignored): {', '.join(f.unknown_columns[:5])}")
            if f.note_count:
                lines.append(f"{f.note_count} note(s) on unexpected data in {f.name} "
                             f"(first: {f.notes[0]['note']})")
        lines.extend(f"tombstones skipped: {s}" for s in self.tombstones_skipped)
        if self.repeated:
            lines.append(f"{self.repeated} row(s) repeated an earlier row verbatim (ignored)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The full report as JSON-ready data."""
        return {
            "platform": self.platform, "source": self.source,
            "started": self.started, "finished": self.finished,
            "totals": {o: self.totals()[o] for o in OUTCOMES},
            "counts": {k: {o: c[o] for o in OUTCOMES} for k, c in sorted(self.counts.items())},
            "rejected": [r.__dict__ for r in self.rejects],
            "rejectedCount": self.reject_count,
            "files": [{"name": f.name, "entity": f.entity, "rows": f.rows,
                       "imported": f.imported, "reason": f.reason,
                       "unknownColumns": f.unknown_columns,
                       "missingColumns": f.missing_columns, "malformed": f.malformed,
                       "notes": f.notes, "noteCount": f.note_count} for f in self.files],
            "tombstonesSkipped": self.tombstones_skipped,
            "repeatedRows": self.repeated,
        }
