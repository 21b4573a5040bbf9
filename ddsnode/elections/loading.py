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

import pyoxigraph as ox
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


def stored_triples(text: str, scope: str) -> list[tuple[Node_, Node_, Node_]]:
    """A stored resource's N-Triples as rdflib triples, its blank nodes renamed into
    ``scope`` (a label no other resource of the same graph uses), so they can be added
    to a graph of many resources as they are: parsed once by pyoxigraph, never parsed
    into a graph of their own and copied over."""
    fresh: dict[str, BNode] = {}

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node_:
        if isinstance(node, ox.BlankNode):
            found = fresh.get(node.value)
            if found is None:
                found = fresh[node.value] = BNode(f"{scope}x{node.value}")
            return found
        return rdfio.from_ox(node)

    try:
        quads = list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES, without_named_graphs=True))
    except (SyntaxError, ValueError):  # what pyoxigraph refuses, rdflib may read
        own = rdfio.graph_from_ntriples(text)
        renamed: dict[BNode, BNode] = {}

        def again(node: Node_) -> Node_:
            if isinstance(node, BNode):
                return renamed.setdefault(node, BNode(f"{scope}y{len(renamed)}"))
            return node

        return [(again(s), p, again(o)) for s, p, o in own]
    return [(term(q.subject), rdfio.from_ox(q.predicate), term(q.object)) for q in quads]


def merge_ntriples(graph: rdflib.Graph, text: str, scope: str) -> None:
    """Add a stored resource's N-Triples to ``graph`` (see :func:`stored_triples`)."""
    for triple in stored_triples(text, scope):
        graph.add(triple)


def _document_iri(iri: str) -> str:
    return iri.split("#", 1)[0]


def node_graph(node: Node, election: str | None = None) -> rdflib.Graph:
    """The graph of ``election`` (or of every election on the node) and what it names."""
    graph = rdfio.new_graph()  # read by pattern only: no context bookkeeping
    seen: set[str] = set()
    todo: deque[str] = deque()
    starts = [election] if election else _members(node, "elections/")
    todo.extend(starts)
    followed = set(FOLLOWED)
    while todo:
        iri = _document_iri(todo.popleft())
        if iri in seen or not iri.startswith(node.base):
            continue
        seen.add(iri)
        stored = node.store.get(iri)
        if stored is None or stored.kind != "rdf":
            continue
        for s, p, o in stored_triples(stored.ntriples, f"r{len(seen)}"):
            graph.add((s, p, o))
            if p in followed and isinstance(o, URIRef):
                todo.append(str(o))
    contests = {str(c) for c in graph.subjects(RDF.type, DDS.CandidateContest)} | \
        {str(c) for c in graph.subjects(RDF.type, DDS.BallotMeasureContest)}
    for number, iri in enumerate(_members(node, "results/")):
        stored = node.store.get(iri)
        if stored is None or stored.kind != "rdf" or "ContestResult" not in stored.ntriples:
            continue
        part = stored_triples(stored.ntriples, f"c{number}")
        if any(p == DDS.contest and str(o) in contests for _, p, o in part):
            for triple in part:
                graph.add(triple)
            for unit in {o for _, p, o in part if p == DDS.reportingUnit}:
                if _document_iri(str(unit)) not in seen:
                    for triple in node_graph_one(node, str(unit), seen):
                        graph.add(triple)
    return graph


def node_graph_one(node: Node, iri: str,
                   seen: set[str]) -> list[tuple[Node_, Node_, Node_]]:
    """One resource's triples (a unit a result names that the election did not)."""
    seen.add(_document_iri(iri))
    stored = node.store.get(_document_iri(iri))
    if stored is None or stored.kind != "rdf":
        return []
    return stored_triples(stored.ntriples, f"u{len(seen)}")


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
