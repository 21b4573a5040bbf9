"""Writing an election import: the node's one validated write path, a ledger, one transaction.

Like the Decidim importer (:mod:`ddsnode.decidim.importer`): each document goes through
:meth:`ddsnode.ldp.node.Node.write_document`, the path of an HTTP PUT, so the shapes judge it
like any write; a refused one is reported with file, line, source id and the shapes'
message. The ledger (``DIR/imports.db``, :class:`ddsnode.store.ledger.Ledger`, keyed on
the source's identifiers) makes a re-import write only what changed. Unlike a Decidim
export, an election file is one publication: all of its documents are written in ONE
store transaction (a savepoint per document), so a crash or a refused file leaves
nothing of it half-imported; the ledger is committed after the store.

Results are checked for plausibility first (:mod:`.plausibility`): a result whose
numbers cannot be (turnout above 100%, parts over the total) is refused like a document
the shapes refuse.

Tombstones: what an earlier import of the same source (ledger key) wrote and this file no
longer has is deleted like an HTTP DELETE (410 Gone from then on, as the Decidim importer
does), in the same transaction, and counted ``tombstoned``. Kept: kinds this file does not
produce at all (a 230 candidate list and a 510 count share a slug), results of an earlier
sequence than this file's (they are the record of earlier publications, NIST 1500-100
``SequenceStart``/``SequenceEnd``), resources another source also wrote, and everything when
the file was damaged (a broken line may be a missing row, not a removed one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddsnode.clock import stamp
from ddsnode.elections.documents import Document
from ddsnode.elections.plausibility import ERROR, Figures, Finding, check_result
from ddsnode.ldp.node import Node
from ddsnode.problem import Problem, ValidationFailed
from ddsnode.store.ledger import Ledger

MEDIA_TYPE = "application/ld+json"
Progress = Callable[[int, int, str], None]  # (done, total, label), e.g. imports.ProgressBar
OUTCOMES = ("created", "updated", "unchanged", "rejected", "tombstoned")
SEQUENCE = re.compile(r"-seq-(\d+)$")  # how importers suffix a result's source id


@dataclass(frozen=True)
class Reject:
    """A document not written: the file, its line, the source id and why."""

    file: str
    line: int
    id: str
    reason: str


@dataclass
class ElectionImportReport:
    """What one import did."""

    source: str
    digest: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # plausibility and data checks
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> None:
        """Add one outcome for a kind of document."""
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def totals(self) -> Counter[str]:
        """Outcome -> count over every kind."""
        out: Counter[str] = Counter()
        for c in self.counts.values():
            out.update(c)
        return out

    def summary_table(self) -> str:
        """One line per kind of document, then the totals."""
        width = max([len(k) for k in self.counts] + [5])
        lines = [f"{'':{width}}  " + "  ".join(f"{o:>9}" for o in OUTCOMES)]
        for kind in sorted(self.counts):
            lines.append(f"{kind:{width}}  " + "  ".join(f"{self.counts[kind][o]:>9}"
                                                         for o in OUTCOMES))
        t = self.totals()
        lines.append(f"{'total':{width}}  " + "  ".join(f"{t[o]:>9}" for o in OUTCOMES))
        return "\n".join(lines)

    def problems_text(self, limit: int = 20) -> str:
        """Rejects, then findings, one per line."""
        lines = [f"rejected {r.file}:{r.line} id={r.id}: {r.reason}" for r in self.rejects[:limit]]
        if len(self.rejects) > limit:
            lines.append(f"... and {len(self.rejects) - limit} more rejected (--report)")
        lines += [f"{f.severity}: {f.message}" for f in self.findings[:limit]]
        if len(self.findings) > limit:
            lines.append(f"... and {len(self.findings) - limit} more findings (--report)")
        lines += [f"note: {n}" for n in sorted(set(self.notes))[:limit]]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (``--report FILE``)."""
        return {"source": self.source, "sourceDigest": self.digest,
                "totals": {o: self.totals()[o] for o in OUTCOMES},
                "counts": {k: {o: c[o] for o in OUTCOMES} for k, c in sorted(self.counts.items())},
                "rejected": [r.__dict__ for r in self.rejects],
                "findings": [f.to_json() for f in self.findings],
                "notes": sorted(set(self.notes))}


def figures(doc: dict[str, Any], units: dict[str, dict[str, Any]],
            votes_allowed: dict[str, int]) -> Figures:
    """The numbers of a ContestResult document, with its unit's registered voters."""
    unit = str(doc.get("reportingUnit", ""))
    place = units.get(unit, {})
    counts: dict[tuple[str, str], int] = {}
    for vc in doc.get("voteCounts", []):
        key = (str(vc.get("selection")), str(vc.get("countType")))
        counts[key] = counts.get(key, 0) + int(vc.get("count") or 0)
    registered = doc.get("registeredVoters", place.get("registeredVoters"))
    return Figures(str(doc["id"]), unit, str(place.get("name", "")), registered,
                   doc.get("ballotsCast"), doc.get("blankBallots"), doc.get("invalidBallots"),
                   votes_allowed.get(str(doc.get("contest"))), counts)


def _strings(value: Any) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def now_text() -> str:
    """Now as an xsd:dateTime (seconds, UTC)."""
    return stamp()


def reason_of(problem: Problem) -> str:
    """One line: the shapes' violation messages, else the problem's detail."""
    if isinstance(problem, ValidationFailed):
        messages = [e["message"] for e in problem.extra.get("errors", [])
                    if e.get("severity") == "Violation"]
        if messages:
            return "; ".join(dict.fromkeys(messages))
    return problem.detail


class ElectionImport:
    """Writes one source file's documents into one node."""

    def __init__(self, node: Node, node_dir: Path, ledger_key: str,
                 report: ElectionImportReport, progress: Progress | None = None, *,
                 tombstones: bool = True, damaged: str | None = None,
                 present: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.progress = progress
        self.tombstones = tombstones
        self.damaged = damaged  # why absent rows may be damaged ones (no tombstones), or None
        self.present = present  # (kind, id) in the file but not written (rejected rows)
        self.node = node
        self.node_dir = node_dir
        self.key = ledger_key  # e.g. "nist:nist-va-2013": the ledger's platform column
        self.report = report

    def run(self, docs: list[Document]) -> ElectionImportReport:
        """Check, then write every document in one transaction; returns the report."""
        units = {d.iri: d.doc for d in docs if d.kind == "unit"}
        allowed = {d.iri: int(d.doc["votesAllowed"]) for d in docs
                   if d.kind == "contest" and isinstance(d.doc.get("votesAllowed"), int)}
        ledger = Ledger(self.node_dir)
        try:
            known = ledger.entries(self.key)
            done: list[tuple[Document, str]] = []
            started = now_text()
            with self.node.store.transaction():
                for number, item in enumerate(docs, start=1):
                    if self.progress is not None:
                        self.progress(number, len(docs), item.kind)
                    digest = self._write(item, known, units, allowed, started)
                    if digest is not None:
                        done.append((item, digest))
                gone = self._tombstone(docs, known, ledger) if self.tombstones else []
            # The store has committed: now the ledger (a crash in between only costs a
            # comparison on the next run, never a lost or doubled resource).
            for item, digest in done:
                ledger.record(self.key, item.kind, item.ident, item.iri, digest)
            for kind, ident in gone:
                ledger.forget(self.key, kind, ident)
            ledger.log_run(self.key, self.report.source, started,
                           json.dumps(dict(self.report.totals())))
        finally:
            ledger.close()
        return self.report

    def _tombstone(self, docs: list[Document], known: dict[tuple[str, str], tuple[str, str]],
                   ledger: Ledger) -> list[tuple[str, str]]:
        """Delete what an earlier import of this source wrote and this file lacks; the
        (kind, id) entries to forget."""
        if self.damaged:
            if known:
                self.report.notes.append(f"no tombstones: {self.damaged}")
            return []
        present = {(d.kind, d.ident) for d in docs} | set(self.present)
        kinds = {kind for kind, _ in present}
        sequences = [int(m.group(1)) for kind, ident in present if kind == "result"
                     and (m := SEQUENCE.search(ident))]
        first = min(sequences) if sequences else None
        gone = []
        for (kind, ident), (iri, _) in sorted(known.items()):
            if (kind, ident) in present or kind not in kinds:
                continue
            seq = SEQUENCE.search(ident) if kind == "result" else None
            if seq and first is not None and int(seq.group(1)) < first:
                continue  # an earlier publication: kept, like every sequence of a unit
            gone.append((kind, ident))
            if ledger.held_elsewhere(iri, self.key):
                continue  # another source also wrote it: only this source's entry goes
            try:
                with self.node.store.savepoint():
                    self.node.delete(iri)
            except Problem:
                continue  # already gone (deleted over HTTP, or an earlier tombstone)
            self.report.count(kind, "tombstoned")
        return gone

    def _write(self, item: Document, known: dict[tuple[str, str], tuple[str, str]],
               units: dict[str, dict[str, Any]], allowed: dict[str, int],
               started: str) -> str | None:
        """Write one document; the digest to record in the ledger, or None."""
        if item.kind == "result":
            findings = check_result(figures(item.doc, units, allowed))
            self.report.findings.extend(findings)
            errors = [f.message for f in findings if f.severity == ERROR]
            if errors:
                self._reject(item, "; ".join(errors))
                return None
        body = json.dumps(item.doc, sort_keys=True, ensure_ascii=False)
        too_large = self._too_large(item.doc, body)
        if too_large is not None:
            self._reject(item, too_large)
            return None
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        current = self.node.store.get(item.iri)
        live = current is not None and current.kind != "tombstone"
        entry = known.get((item.kind, item.ident))
        if live and entry == (item.iri, digest):
            self.report.count(item.kind, "unchanged")
            return None
        stamped = json.dumps({**item.doc, "importedAt": started}, sort_keys=True,
                             ensure_ascii=False).encode("utf-8")
        try:
            with self.node.store.savepoint():
                self.node.write_document(item.iri, stamped, MEDIA_TYPE)
        except Problem as e:
            self._reject(item, reason_of(e))
            return None
        self.report.count(item.kind, "updated" if live else "created")
        return digest

    def _too_large(self, doc: dict[str, Any], body: str) -> str | None:
        """Why a document is past a limit an HTTP write has, or None: the same limits
        for every way in (max_literal_bytes per value, max_body_bytes per resource)."""
        settings = self.node.settings
        for value in _strings(doc):
            size = len(value.encode("utf-8"))
            if size > settings.max_literal_bytes:
                return (f"a value of {size:,} bytes, past max_literal_bytes "
                        f"({settings.max_literal_bytes:,})")
        size = len(body.encode("utf-8"))
        if size > settings.max_body_bytes:
            return (f"the resource would be {size:,} bytes of JSON-LD, past max_body_bytes "
                    f"({settings.max_body_bytes:,})")
        return None

    def _reject(self, item: Document, reason: str) -> None:
        self.report.count(item.kind, "rejected")
        self.report.rejects.append(Reject(item.file, item.line, item.ident, reason))
