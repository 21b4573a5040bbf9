"""One import of a Decidim export into a node: read, map, compare, write, tombstone, report.

Files are read in dependency order (taxonomies and user groups first, so rows can refer
to them; spaces before what sits in them; comments last). Each row becomes one or more
documents (:mod:`ddsnode.decidim.spaces`, ``contributions``, ``accountability``); each
document is compared with what the last import wrote (:class:`~ddsnode.store.ledger.Ledger`,
falling back to the stored graph) and written only when it differs, through
:meth:`ddsnode.ldp.node.Node.write_document` — the same validated path as an HTTP PUT. A
document the shapes refuse is reported with its file, line, id and the shapes' message,
and skipped. At the end, resources an earlier import made from rows that are now gone
become tombstones, unless ``tombstones=False`` or the file they came from was damaged.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import URIRef
from rdflib.compare import isomorphic

from ddsnode.clock import stamp
from ddsnode.decidim import accountability, contributions, spaces
from ddsnode.decidim.columns import PERSONAL, missing_columns, unknown_columns
from ddsnode.decidim.context import Context, Mapped
from ddsnode.decidim.csvrows import CsvFile
from ddsnode.decidim.mapping import Notes, Platform, Row, cell
from ddsnode.decidim.pseudonym import Pseudonymiser, load_key
from ddsnode.decidim.report import FileReport, ImportReport, Reject
from ddsnode.decidim.source import FILE_NAME, Export
from ddsnode.ldp.node import Node
from ddsnode.problem import Problem, ValidationFailed
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import DCTERMS, DDS
from ddsnode.store.ledger import Ledger

ORDER = ("taxonomies", "user_groups", "participatory_processes", "assemblies", "conferences",
         "initiatives", "proposals", "debates", "meetings", "projects", "results")
NOT_IMPORTED = {
    "users": "personal data; authors are pseudonymised from the rows that name them",
    "posts": "blog posts are not mapped to the ontology",
    "post_comments": "comments on blog posts (posts are not mapped)",
    "pages": "static pages are not mapped to the ontology",
    "moderations": "moderation records are not published",
}
# Ledger kinds each file produces: their absent rows become tombstones.
KINDS = {"proposals": ("proposals", "proposal_answers")}
NEVER_TOMBSTONED = ("platform", "participants", "legacy_taxonomies", "referenced_groups")
SERVER_MANAGED = (DCTERMS.created, DCTERMS.modified, DCTERMS.publisher, DDS.importedAt)
MEDIA_TYPE = "application/ld+json"

Progress = Callable[[int, int, str], None]


@dataclass
class ApiData:
    """Rows read from the GraphQL API, shaped like the CSV rows (see graphql.py)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def clean(value: Any) -> Any:
    """``value`` without None members, empty lists or empty maps (recursively)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [clean(v) for v in value if v is not None]
    return value


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a JSON document (``body/en``, ``place/title/ca``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def now_text() -> str:
    """The current instant as an xsd:dateTime (seconds, UTC)."""
    return stamp()


def reason_of(problem: Problem) -> str:
    """A one-line reason for a refused document: the shapes' messages, else the detail."""
    if isinstance(problem, ValidationFailed):
        messages: list[str] = []
        for error in problem.extra.get("errors", []):
            if error.get("severity") == "Violation" and error["message"] not in messages:
                messages.append(error["message"])
        if messages:
            return "; ".join(messages[:3])
    return problem.detail


class Importer:
    """Imports one export into one node."""

    def __init__(self, node: Node, node_dir: Path, export: Export, *,
                 tombstones: bool = True, currency: str | None = None,
                 topic_map: dict[str, str] | None = None, default_lang: str | None = None,
                 api: ApiData | None = None, progress: Progress | None = None,
                 dry_run: bool = False, restore_deleted: bool = False) -> None:
        self.node = node
        self.export = export
        self.tombstones = tombstones
        self.restore_deleted = restore_deleted
        self.dry_run = dry_run  # map and compare only: nothing is validated or written
        self.progress = progress
        self.api = api or ApiData()
        self.platform = Platform(node.base, export.host, export.origin, export.source)
        pseudonyms = Pseudonymiser(load_key(node_dir), export.host)
        self.ctx = Context(self.platform, pseudonyms, default_lang or "en", currency,
                           dict(topic_map or {}))
        self.ctx.steps = self.api.steps
        self._lang_given = default_lang is not None
        self.ledger = Ledger(node_dir)
        self.report = ImportReport(self.platform.iri, export.source, now_text())
        self._known = self.ledger.entries(self.platform.slug)
        self._seen: dict[tuple[str, str], str] = {}  # (kind, id) -> digest written
        self._complete: set[str] = set()  # kinds whose file was read without damage
        self._damaged: set[str] = set()  # kinds whose file had malformed lines
        self._done = 0
        self._total = sum(export.sizes.get(e, 0) for e in export.files) or 1
        self._groups_written: set[str] = set()

    # --- the run -------------------------------------------------------------------

    def run(self) -> ImportReport:
        """Import everything and return the report."""
        try:
            for entity in self._entities():
                self._import_entity(entity)
            self._finish()
        finally:
            self.report.finished = now_text()
            if not self.dry_run:
                self.ledger.log_run(self.platform.slug, self.export.source,
                                    self.report.started, json.dumps(dict(self.report.totals())))
            self.ledger.close()
        return self.report

    def _entities(self) -> list[str]:
        present = set(self.export.files) | set(self.api.rows)
        comments = sorted(e for e in present if e.endswith("_comments")
                          and e not in NOT_IMPORTED)
        ordered = [e for e in ORDER if e in present] + comments
        for entity in sorted(present - set(ordered)):
            reason = NOT_IMPORTED.get(entity, "no mapping for this file")
            self.report.files.append(FileReport(self.export.names.get(entity, entity), entity,
                                                imported=False, reason=reason))
            self._advance(self.export.sizes.get(entity, 0), entity)
        for name, why in self.export.refused:
            match = FILE_NAME.match(name)
            entity = match.group("entity") if match else name
            self.report.files.append(FileReport(name, entity, imported=False,
                                                reason=f"refused: {why}"))
        return ordered

    def _rows(self, entity: str, report: FileReport) -> Iterator[tuple[int, Row]]:
        if entity not in self.export.files:
            yield from enumerate(self.api.rows.get(entity, []), start=1)
            return
        last, checked, line = 0, False, 0
        broken: str | None = None
        with self.export.open(entity) as stream:
            reader = CsvFile(report.name, stream,
                             max_record_bytes=self.node.settings.max_body_bytes)
            try:
                for record in reader.records():
                    if not checked:
                        self._check_header(entity, reader.header, report)
                        checked = True
                    self._advance(record.offset - last, entity)
                    last, line = record.offset, record.line
                    yield record.line, record.cells
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
                # A damaged ZIP member (bad CRC, truncated, a header that lies about
                # its size): the rows read so far stand, the rest of the file is lost.
                broken = f"the file cannot be read past this record ({e})"
        if reader.header and not checked:
            self._check_header(entity, reader.header, report)
        self._advance(self.export.sizes.get(entity, 0) - last, entity)
        report.malformed = [{"line": i.line, "reason": i.reason} for i in reader.issues]
        if reader.issue_count > len(reader.issues):
            report.malformed.append({"line": 0, "reason": f"... and "
                                     f"{reader.issue_count - len(reader.issues)} more"})
        if broken is not None:
            report.malformed.append({"line": line, "reason": broken})
        if reader.duplicate_headers:
            report.notes.append({"line": 1, "id": "", "note": "duplicate columns: "
                                 + ", ".join(reader.duplicate_headers)})
            report.note_count += 1

    def _check_header(self, entity: str, header: list[str], report: FileReport) -> None:
        report.unknown_columns = unknown_columns(entity, header)
        report.missing_columns = missing_columns(entity, header)
        if not self._lang_given:
            langs = [h.split("/")[1] for h in header
                     if h.startswith("title/") and h.count("/") == 1]
            if langs:
                self.ctx.default_lang = langs[0]
                self._lang_given = True

    def _import_entity(self, entity: str) -> None:
        report = FileReport(self.export.names.get(entity, f"api:{entity}"), entity)
        self.report.files.append(report)
        if entity == "taxonomies":
            self._import_taxonomies(report)
            return
        for line, raw in self._rows(entity, report):
            report.rows += 1
            row = {k: v for k, v in raw.items() if not PERSONAL.search(k)}
            if entity in spaces.SPACE_TYPES:
                spaces.remember_space(self.ctx, entity, row)
            notes = Notes()
            ident = cell(row, "id") or (spaces.space_ident(entity, row)
                                         if entity in spaces.SPACE_TYPES else None) or ""
            try:
                mapped = self._map(entity, row, notes)
            except ValueError as e:
                self.report.reject(Reject(report.name, line, ident, str(e)),
                                   KINDS.get(entity, (entity,))[0])
                continue
            for note in notes.items:
                report.note_count += 1
                if len(report.notes) < 200:
                    report.notes.append({"line": line, "id": ident, "note": note})
            for item in mapped:
                self._submit(item, report.name, line)
            self._drain(report.name, line)
        if entity not in self.export.files:
            pass  # the API reader covers part of a platform only: no tombstones from it
        elif not report.malformed:
            self._complete.update(KINDS.get(entity, (entity,)))
        else:
            self._damaged.update(KINDS.get(entity, (entity,)))

    def _map(self, entity: str, row: Row, notes: Notes) -> list[Mapped]:
        ctx = self.ctx
        if entity in spaces.SPACE_TYPES:
            return spaces.space(ctx, entity, row, notes)
        if entity == "user_groups":
            ident = cell(row, "id") or ""
            ctx.groups[ident] = cell(row, "name") or ""
            self._groups_written.add(ident)
            return spaces.user_group(ctx, row, notes)
        if entity == "proposals":
            return contributions.proposal(ctx, row, notes)
        if entity == "debates":
            return contributions.debate(ctx, row, notes)
        if entity == "meetings":
            return contributions.meeting(ctx, row, notes)
        if entity == "projects":
            return accountability.project(ctx, row, notes)
        if entity == "results":
            return accountability.result(ctx, row, notes)
        return contributions.comment(ctx, entity, row, notes)

    def _import_taxonomies(self, report: FileReport) -> None:
        rows = []
        for line, row in self._rows("taxonomies", report):
            report.rows += 1
            rows.append(row)
        notes = Notes()
        spaces.remember_taxonomies(self.ctx, rows, notes)
        for note in notes.items:
            report.note_count += 1
            report.notes.append({"line": 0, "id": "", "note": note})
        for item in spaces.taxonomy_schemes(self.ctx):
            self._submit(item, report.name, 0)
        if not report.malformed:
            self._complete.add("taxonomies")
        else:
            self._damaged.add("taxonomies")

    def _drain(self, file: str, line: int) -> None:
        """Write the participants the last row named for the first time."""
        pending, self.ctx.pending = self.ctx.pending, []
        for item in pending:
            self._submit(item, file, line)

    def _finish(self) -> None:
        """Write what rows referred to, then tombstone what disappeared."""
        extra = spaces.platform_documents(self.ctx) + spaces.legacy_schemes(self.ctx)
        for ident in sorted(set(self.ctx.groups) - self._groups_written):
            doc = {"@context": extra[0].doc["@context"], "id": self.ctx.group(ident),
                   "type": "Organization", "name": self.ctx.groups[ident] or None,
                   "sourcePlatform": self.platform.iri}
            extra.append(Mapped("referenced_groups", ident, doc))
        for item in extra:
            self._submit(item, "(derived)", 0)
        self._drain("(derived)", 0)
        self.ledger.commit()
        if self.tombstones and not self.dry_run:
            self._tombstone()

    def _tombstone(self) -> None:
        for kind in sorted(self._damaged):
            self.report.tombstones_skipped.append(
                f"{kind}: its file had malformed lines, so absent rows may only be damaged")
        earlier = {kind for kind, _ in self._known} - set(NEVER_TOMBSTONED)
        for kind in sorted(earlier - self._complete - self._damaged):
            self.report.tombstones_skipped.append(
                f"{kind}: not in this export (or read from the API); earlier resources kept")
        for (kind, ident), (iri, _) in sorted(self._known.items()):
            if kind in NEVER_TOMBSTONED or kind not in self._complete or \
                    (kind, ident) in self._seen:
                continue
            try:
                self.node.delete(iri)
            except Problem:
                pass  # already gone (deleted over HTTP, or an earlier tombstone)
            self.ledger.forget(self.platform.slug, kind, ident)
            self.report.count(kind, "tombstoned")
        self.ledger.commit()

    # --- one document --------------------------------------------------------------

    def _submit(self, item: Mapped, file: str, line: int) -> None:
        key = (item.kind, item.ident)
        doc = clean(item.doc)
        body = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        too_large = self._too_large(doc, body)
        if too_large is not None:
            self.report.reject(Reject(file, line, item.ident, too_large), item.kind)
            return
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if key in self._seen:
            if self._seen[key] != digest:
                self.report.reject(Reject(file, line, item.ident, "another row has the same id "
                                          "and different content; the first was kept"),
                                   item.kind)
            else:  # Decidim repeats some space rows verbatim in its exports
                self.report.repeated += 1
            return
        self._seen[key] = digest
        known = self._known.get(key)
        current = self.node.store.get(item.iri)
        live = current is not None and current.kind != "tombstone"
        if not live and current is not None and known is not None and not self.restore_deleted:
            # The ledger still has it, so no import tombstoned it (those forget their
            # entry): it was deleted on the node, over HTTP — by a moderator, say. The
            # platform still having the row must not undo that.
            self.report.count(item.kind, "withheld")
            return
        if live and known is not None and known[1] == digest and known[0] == item.iri:
            self.report.count(item.kind, "unchanged")
            return
        if live and known is None and current is not None and \
                self._same_content(current.ntriples, body, item.iri):
            self.ledger.record(self.platform.slug, item.kind, item.ident, item.iri, digest)
            self.report.count(item.kind, "unchanged")
            return
        if self.dry_run:
            self.report.count(item.kind, "updated" if live else "created")
            return
        stamped = json.dumps({**doc, "importedAt": self.report.started}, sort_keys=True,
                             ensure_ascii=False).encode("utf-8")
        try:
            self.node.write_document(item.iri, stamped, MEDIA_TYPE)
        except Problem as e:
            self.report.reject(Reject(file, line, item.ident, reason_of(e)), item.kind)
            return
        self.ledger.record(self.platform.slug, item.kind, item.ident, item.iri, digest)
        self.report.count(item.kind, "updated" if live else "created")

    def _too_large(self, doc: dict[str, Any], body: str) -> str | None:
        """Why a document is bigger than an HTTP write may be, or None: the same limits
        for every way in (max_literal_bytes per value, max_body_bytes per resource)."""
        settings = self.node.settings
        for path, value in _strings(doc, ""):
            # len() counts characters, at most 4 UTF-8 bytes each: encode only near the bound
            if len(value) * 4 > settings.max_literal_bytes and \
                    len(value.encode("utf-8")) > settings.max_literal_bytes:
                return (f"the value of {path} is {len(value.encode('utf-8')):,} bytes, past "
                        f"max_literal_bytes ({settings.max_literal_bytes:,})")
        size = len(body.encode("utf-8"))
        if size > settings.max_body_bytes:
            return (f"the resource would be {size:,} bytes of JSON-LD, past max_body_bytes "
                    f"({settings.max_body_bytes:,})")
        return None

    @staticmethod
    def _same_content(stored: str, body: str, iri: str) -> bool:
        """Whether the stored graph says what ``body`` says, server-managed triples aside."""
        try:
            new = parse_rdf(body, "json-ld", base=iri)
        except Problem:
            return False
        old = rdfio.graph_from_ntriples(stored)
        # The platform's creation date is the resource's own (kept as sent): compared like
        # any triple. Without one, the node's record time stands and is left out.
        own_date = (URIRef(iri), DCTERMS.created, None) in new
        for graph in (old, new):
            for predicate in SERVER_MANAGED:
                if not (own_date and predicate == DCTERMS.created):
                    graph.remove((None, predicate, None))
        return isomorphic(old, new)

    def _advance(self, amount: int, label: str) -> None:
        self._done += max(amount, 0)
        if self.progress is not None:
            self.progress(min(self._done, self._total), self._total, label)

