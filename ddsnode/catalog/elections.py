"""The files of each election on the node: NIST CDF JSON, CSV, JSON-LD and N-Triples.

An election is a DCAT dataset series (DCAT 3, 6.7 ``dcat:DatasetSeries``); its data as
the node holds it — the election, its contests, units, candidates, parties and results
(``elections.loading.node_graph``) — is a dataset of the series, in four distributions:
the NIST SP 1500-100 v2 JSON and the OpenElections-style CSV that ``ddsnode export
election`` writes (``elections.export``), and the graph itself as JSON-LD and N-Triples. Its published results generations, when
election night's publication made any, are further datasets of the series
(``catalog.generations``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rdflib

from ddsnode.catalog.dump import members
from ddsnode.catalog.generations import generations_of
from ddsnode.catalog.terms import CSV, JSONLD, NIST_CDF, NTRIPLES
from ddsnode.clock import TIMESTAMP
from ddsnode.elections import export
from ddsnode.elections.loading import node_graph
from ddsnode.elections.model import election_of
from ddsnode.ldp.node import Node
from ddsnode.rdf import compaction, rdfio
from ddsnode.rdf.vocab import DDS

log = logging.getLogger(__name__)


@dataclass
class Election:
    """One election's dataset: what the catalogue says of it, and its files."""

    key: str  # file stem: "election-municipal-2026-1a2b3c4d"
    iri: str
    title: dict[str, str]  # language -> title
    start: str
    end: str
    scope: str | None  # the electoral area's IRI (dct:spatial)
    modified: str | None
    files: list[str] = field(default_factory=list)
    csv_columns: list[str] = field(default_factory=list)  # the CSV's header, for CSVW
    generations: list[dict[str, Any]] = field(default_factory=list)  # generations.Generation


def election_title(election: Election, lang: str) -> str:
    """The election's title in ``lang``, else in English, else in any language it has."""
    return election.title.get(lang) or election.title.get("en") or \
        next(iter(election.title.values()), election.key)


def _key(node: Node, iri: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-"
                   for ch in iri[len(node.base):].split("/")[-1])[:100]
    return f"election-{slug}-{hashlib.sha256(iri.encode('utf-8')).hexdigest()[:8]}"


def write_elections(node: Node, folder: Path, *, issuer: str) -> list[Election]:
    """Write the files of every election of ``node`` into ``folder``."""
    out: list[Election] = []
    election_type = str(DDS.Election)
    for stored in members(node, "elections/"):
        if election_type not in stored.index.types:
            continue
        graph = node_graph(node, stored.iri)
        model = election_of(graph, stored.iri)
        piece = Election(_key(node, stored.iri), stored.iri, model.title or
                         {"und": model.ident}, model.start, model.end, model.scope,
                         stored.modified.strftime(TIMESTAMP))
        _write_graph(folder, piece, graph)
        if node.settings.node_dir is not None:
            piece.generations = [asdict(g) for g in generations_of(
                node.settings.node_dir, node.base, stored.iri)]
        try:
            nist = export.nist_json(model, issuer=issuer)
        except ValueError as e:  # ExportInvalid: a bug, said in the log, the rest published
            log.warning("%s: no NIST CDF file in the catalogue: %s", stored.iri, e)
        else:
            name = f"{piece.key}.{NIST_CDF.key}"
            (folder / name).write_text(nist, encoding="utf-8")
            piece.files.append(name)
        text = export.csv_text(model)
        name = f"{piece.key}.{CSV.key}"
        (folder / name).write_text(text, encoding="utf-8", newline="")
        piece.files.append(name)
        piece.csv_columns = text.splitlines()[0].split(",") if text else []
        out.append(piece)
    return out


def _write_graph(folder: Path, piece: Election, graph: rdflib.Graph) -> None:
    nt = f"{piece.key}.{NTRIPLES.key}"
    with (folder / nt).open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(rdfio.ntriples(graph))
    jsonld = f"{piece.key}.{JSONLD.key}"
    document = compaction.compacted(graph, piece.iri, context=compaction.context_for(piece.iri))
    (folder / jsonld).write_text(json.dumps(document, ensure_ascii=False, indent=1),
                                 encoding="utf-8")
    piece.files += [nt, jsonld]
