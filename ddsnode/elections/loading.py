"""The graph of an election's data, from a node directory, an export file or a node URL.

From a node: the election resource, then what it names, breadth first (contests,
units up and down the hierarchy, candidates, parties, offices), and the members of
``results/`` whose contest is one of the election's. The store is read directly
(SQLite), never through the SPARQL index, which a running server holds.
From a file: a NIST report mapped in memory (nothing is written). From a URL: the
node's ``/sparql`` endpoint, through the guarded outbound client.
"""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import rdflib
from rdflib import RDF, BNode, URIRef
from rdflib.term import Node as Node_

from ddsnode.elections.documents import Naming
from ddsnode.elections.model import ElectionModel, election_of
from ddsnode.ldp.node import Node
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import DDS

FOLLOWED = (DDS.hasContest, DDS.electionScope, DDS.electoralDistrict, DDS.composingUnit,
            DDS.partOfUnit, DDS.candidate, DDS.party, DDS.office, DDS.reportingUnit,
            DDS.person)
MAX_VERIFY_BYTES = 64 * 1024 * 1024  # a remote node's answer to the verify query


def merge(graph: rdflib.Graph, part: rdflib.Graph) -> None:
    """Add ``part`` to ``graph`` with fresh blank nodes: each stored resource labels its
    own (``_:b0`` ...), and two results' vote counts must not become one."""
    fresh: dict[BNode, BNode] = {}

    def term(node: Node_) -> Node_:
        if isinstance(node, BNode):
            return fresh.setdefault(node, BNode())
        return node

    for s, p, o in part:
        graph.add((term(s), p, term(o)))


def _document_iri(iri: str) -> str:
    return iri.split("#", 1)[0]


def node_graph(node: Node, election: str | None = None) -> rdflib.Graph:
    """The graph of ``election`` (or of every election on the node) and what it names."""
    graph = rdflib.Graph()
    seen: set[str] = set()
    todo: deque[str] = deque()
    starts = [election] if election else _members(node, "elections/")
    todo.extend(starts)
    while todo:
        iri = _document_iri(todo.popleft())
        if iri in seen or not iri.startswith(node.base):
            continue
        seen.add(iri)
        stored = node.store.get(iri)
        if stored is None or stored.kind != "rdf":
            continue
        part = rdfio.graph_from_ntriples(stored.ntriples)
        merge(graph, part)
        for predicate in FOLLOWED:
            for value in part.objects(None, predicate):
                if isinstance(value, URIRef):
                    todo.append(str(value))
    contests = {str(c) for c in graph.subjects(RDF.type, DDS.CandidateContest)} | \
        {str(c) for c in graph.subjects(RDF.type, DDS.BallotMeasureContest)}
    for iri in _members(node, "results/"):
        stored = node.store.get(iri)
        if stored is None or stored.kind != "rdf" or "ContestResult" not in stored.ntriples:
            continue
        part = rdfio.graph_from_ntriples(stored.ntriples)
        if any(str(c) in contests for c in part.objects(None, DDS.contest)):
            merge(graph, part)
            for unit in part.objects(None, DDS.reportingUnit):
                if _document_iri(str(unit)) not in seen:
                    merge(graph, node_graph_one(node, str(unit), seen))
    return graph


def node_graph_one(node: Node, iri: str, seen: set[str]) -> rdflib.Graph:
    """One resource's graph (a unit a result names that the election did not)."""
    seen.add(_document_iri(iri))
    stored = node.store.get(_document_iri(iri))
    if stored is None or stored.kind != "rdf":
        return rdflib.Graph()
    return rdfio.graph_from_ntriples(stored.ntriples)


def _members(node: Node, container: str) -> list[str]:
    out: list[str] = []
    cursor: str | None = None
    while True:
        page = node.store.children(node.base + container, after=cursor, limit=500)
        out.extend(c.iri for c in page.items if c.kind == "rdf")
        if not page.next:
            return out
        cursor = page.next


def node_model(node: Node, election: str) -> ElectionModel:
    """The election ``election`` of ``node``; ValueError when it has none."""
    if node.store.get(_document_iri(election)) is None:
        raise ValueError(f"{election}: no such resource on this node")
    return election_of(node_graph(node, election), election)


def file_graph(path: Path, max_bytes: int) -> rdflib.Graph:
    """A NIST report (JSON or XML) mapped in memory to the graph an import would write."""
    import json

    from ddsnode.elections import nist
    from ddsnode.elections.sources import read_source
    source = read_source(path, max_bytes)
    mapper = nist.Mapper(Naming("urn:verify:/", source.slug("nist")), source.digest,
                         source.name)
    graph = rdflib.Graph()
    for item in mapper.documents(nist.read_report(source.data, source.name)):
        merge(graph, parse_rdf(json.dumps(item.doc), "json-ld", base=item.iri))
    return graph


VERIFY_QUERY = """PREFIX dds: <https://w3id.org/dds/ns#>
CONSTRUCT { ?s ?p ?o . ?v ?vp ?vo . }
WHERE {
  { ?s a ?t . VALUES ?t { dds:ContestResult dds:GpUnit dds:ElectoralDistrict
                          dds:PollingStation dds:CandidateContest dds:BallotMeasureContest } }
  ?s ?p ?o .
  OPTIONAL { ?s dds:hasVoteCount ?v . ?v ?vp ?vo . }
}"""


def url_graph(url: str) -> rdflib.Graph:
    """Results, units and contests of a remote node, read from its ``/sparql``."""
    from ddsnode.outbound.client import OutboundClient
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    endpoint = origin + "/sparql"

    async def run() -> bytes:
        async with OutboundClient(allowed_origins={origin}, max_bytes=MAX_VERIFY_BYTES,
                                  user_agent="ddsnode-verify") as client:
            result = await client.fetch(endpoint, accept=("application/n-triples",),
                                        method="POST", body=VERIFY_QUERY.encode("utf-8"),
                                        headers={"Content-Type": "application/sparql-query"},
                                        sign=False)
            return result.body

    return rdfio.graph_from_ntriples(asyncio.run(run()).decode("utf-8"))


def load_any(source: str, max_bytes: int = 256 * 1024 * 1024) -> rdflib.Graph:
    """The graph to verify: ``source`` is a node directory, a file, or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        return url_graph(source)
    path = Path(source)
    if path.is_dir():
        from ddsnode.settings import Settings, require_node_dir
        settings = Settings.load(require_node_dir(path))
        node = Node.open(settings)
        try:
            return node_graph(node)
        finally:
            node.close()
    return file_graph(path, max_bytes)
