"""Bulk dumps: every public resource of the node, in one pass, as N-Triples (gzip),
JSON-LD and CSV, for the whole node, per container and per participatory process.

The pass pages through each container with the store's keyset pages (``Store.children``)
and reads one resource at a time, so memory holds one page and one resource whatever the
size of the node; each file is written as it goes. What is public is what a reader
without a token may read (``ldp.access``): private containers are left out, and so are
open (free-form) containers, which hold whatever anyone wrote, not the node's data.

Blank node labels are scoped to one stored resource (``_:b0`` in many of them), so each
is prefixed with the resource's sequence number: two resources' blank nodes never merge
in a dump (RDF 1.1 Semantics 5.2, merging graphs).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import rdflib

from ddsnode.catalog.terms import CSV, JSONLD, NTRIPLES
from ddsnode.clock import TIMESTAMP
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.node import Node
from ddsnode.rdf import compaction, rdfio
from ddsnode.rdf.vocab import DDS
from ddsnode.store.base import StoredResource
from ddsnode.store.results import spreadsheet_safe

PAGE = 500  # members read per keyset page

#: The columns of every CSV dump (one row per resource), with their CSVW datatype and
#: meaning; multi-valued cells separate IRIs with a space (CSVW ``separator``).
COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("iri", "anyURI", "The resource's IRI (dereference it for the full description)", False),
    ("types", "anyURI", "Its rdf:type IRIs", True),
    ("title", "string", "A human title, in one of its languages", False),
    ("date", "string", "The date it is about (created, start), ISO 8601", False),
    ("states", "anyURI", "Its state, for proposals and results (dds:state)", True),
    ("topics", "anyURI", "Topic IRIs (dds:topic)", True),
    ("areas", "string", "Administrative areas (IRIs or codes)", True),
    ("platform", "anyURI", "The platform it was imported from", False),
    ("lat", "double", "Latitude (WGS 84)", False),
    ("long", "double", "Longitude (WGS 84)", False),
    ("created", "dateTime", "When the node stored it first", False),
    ("modified", "dateTime", "When the node stored its current version", False),
)


@dataclass
class Slice:
    """One dataset of participation data: the whole node, a container or a process."""

    key: str  # file stem: "node", "container-proposals", "process-mobility-2026"
    kind: str  # "node", "container" or "process"
    title: str
    subject: str  # what it is about: the node's base, a container or a process IRI
    count: int = 0
    first: str | None = None  # earliest and latest date of its resources
    last: str | None = None
    modified: str | None = None  # latest change of its resources (clock.TIMESTAMP form)
    files: list[str] = field(default_factory=list)  # file names written, in format order


class _Writers:
    """The open files of one slice: N-Triples gzip, JSON-LD and CSV."""

    def __init__(self, folder: Path, piece: Slice, context: str) -> None:
        self.piece = piece
        names = [f"{piece.key}.{f.key}" for f in (NTRIPLES, JSONLD, CSV)]
        piece.files = names
        # mtime=0 and no file name in the gzip header: the same triples give the same
        # bytes, so an unchanged dump keeps its SHA-256 and its ETag across rebuilds.
        self._raw = (folder / names[0]).open("wb")
        # Level 6: most of level 9's ratio on N-Triples at about half the time.
        self.nt = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                compresslevel=6)
        self.jsonld: IO[str] = (folder / names[1]).open("w", encoding="utf-8")
        self.jsonld.write('{"@context": ' + json.dumps(context) + ', "@graph": [\n')
        self._first_node = True
        self.csv_file: IO[str] = (folder / names[2]).open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.csv_file)
        self.csv.writerow([c[0] for c in COLUMNS])

    def add(self, resource: StoredResource, nt: bytes, nodes: list[dict[str, Any]],
            row: list[str]) -> None:
        self.nt.write(nt)
        for node in nodes:
            self.jsonld.write(("" if self._first_node else ",\n") +
                              json.dumps(node, ensure_ascii=False))
            self._first_node = False
        self.csv.writerow(row)
        piece, index = self.piece, resource.index
        piece.count += 1
        if index.date:
            piece.first = min(piece.first or index.date, index.date)
            piece.last = max(piece.last or index.date, index.date)
        stamp = resource.modified.strftime(TIMESTAMP)
        piece.modified = max(piece.modified or stamp, stamp)

    def close(self) -> None:
        self.nt.close()
        self._raw.close()
        self.jsonld.write("\n]}\n")
        self.jsonld.close()
        self.csv_file.close()


def public_containers(node: Node) -> list[tuple[str, str]]:
    """(path, title) of the containers whose data a reader without a token may read."""
    return [(c.path, c.title) for c in node.containers
            if not c.open and not needs_token(c) and c.rdf]


def members(node: Node, container: str) -> Iterator[StoredResource]:
    """The live resources of ``container``, one at a time, a keyset page at a time."""
    cursor: str | None = None
    while True:
        page = node.store.children(node.base + container, after=cursor, limit=PAGE)
        for child in page.items:
            stored = node.store.get(child.iri)
            if stored is not None and stored.kind in ("rdf", "binary"):
                yield stored
        if not page.next:
            return
        cursor = page.next


def _relabelled(resource: StoredResource) -> list[rdfio.Triple]:
    graph = rdfio.graph_from_ntriples(resource.ntriples)
    if "_:" not in resource.ntriples:
        return list(graph)
    prefix = f"r{resource.seq}x"
    out: list[rdfio.Triple] = []
    for s, p, o in graph:
        if isinstance(s, rdflib.BNode):
            s = rdflib.BNode(prefix + str(s))
        if isinstance(o, rdflib.BNode):
            o = rdflib.BNode(prefix + str(o))
        out.append((s, p, o))
    return out


def _row(resource: StoredResource) -> list[str]:
    i = resource.index
    return [resource.iri, " ".join(i.types), spreadsheet_safe(i.title), i.date or "",
            " ".join(i.states), " ".join(i.topics), " ".join(spreadsheet_safe(a) for a in i.areas),
            i.platform or "", "" if i.lat is None else repr(i.lat),
            "" if i.long is None else repr(i.long), resource.created.strftime(TIMESTAMP),
            resource.modified.strftime(TIMESTAMP)]


def _nodes(triples: list[rdfio.Triple], main: str) -> list[dict[str, Any]]:
    document = compaction.compacted(triples, main)
    document.pop("@context", None)
    graph = document.get("@graph")
    return list(graph) if isinstance(graph, list) and len(document) == 1 else [document]


def write_dumps(node: Node, folder: Path, *, max_processes: int) -> list[Slice]:
    """Write the dumps of ``node`` into ``folder``; the slices written, node first.

    A process gets its own files when resources name it with ``dds:inSpace`` (the
    process itself is in its container's files); past ``max_processes`` processes, the
    next ones are only in the node's and the containers' files (each slice holds three
    open files while the pass runs)."""
    context = compaction.context_for(node.base)
    whole = _Writers(folder, Slice("node", "node", "", node.base), context)
    out = [whole.piece]
    processes: dict[str, _Writers] = {}
    in_space = str(DDS.inSpace)
    try:
        for path, title in public_containers(node):
            writers = _Writers(folder, Slice("container-" + path.strip("/"), "container",
                                             title, node.base + path), context)
            out.append(writers.piece)
            try:
                for resource in members(node, path):
                    triples = _relabelled(resource)
                    # Stored N-Triples are already one sorted triple a line (rdfio.ntriples):
                    # written as they are unless blank nodes need their resource's prefix.
                    nt = rdfio.ntriples(triples) if "_:" in resource.ntriples else \
                        resource.ntriples.encode("utf-8")
                    nodes, row = _nodes(triples, resource.iri), _row(resource)
                    spaces = {str(o) for s, p, o in triples
                              if str(s) == resource.iri and str(p) == in_space
                              and isinstance(o, rdflib.URIRef) and str(o).startswith(node.base)}
                    for target in (whole, writers, *_process_writers(
                            spaces, processes, folder, context, node.base, max_processes, out)):
                        target.add(resource, nt, nodes, row)
            finally:
                writers.close()
    finally:
        whole.close()
        for writers in processes.values():
            writers.close()
    return out


def _process_writers(spaces: set[str], processes: dict[str, _Writers], folder: Path,
                     context: str, base: str, limit: int, out: list[Slice]) -> list[_Writers]:
    found = []
    for iri in sorted(spaces):
        writers = processes.get(iri)
        if writers is None and len(processes) < limit:
            slug = "".join(ch if ch.isalnum() or ch in "-_" else "-"
                           for ch in iri[len(base):].strip("/"))[:120]
            # A short hash keeps the names of two processes apart after slugging.
            tag = hashlib.sha256(iri.encode("utf-8")).hexdigest()[:8]
            writers = _Writers(folder, Slice(f"process-{slug}-{tag}", "process", "", iri),
                               context)
            processes[iri] = writers
            out.append(writers.piece)
        if writers is not None:
            found.append(writers)
    return found

