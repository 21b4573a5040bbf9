"""pyoxigraph's JSON-LD parser (``ddsnode.rdf.jsonld``) gives the graph pyld gave.

The node parsed JSON-LD with pyld until its cost proved quadratic (issue 9 item 1). The
new parse must not change what any document means: every example, every invalid
example, and the compacted form of the broken variants the compaction and validation
tests use (one in ten: pyld is slow) parse to the same triples — same lexical forms,
same datatypes and languages — as pyld's toRdf with the same bundled context.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import rdflib
from pyld import jsonld as pyld
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from ddsnode import resources
from ddsnode.rdf import compaction, jsonld
from tests.support.variants import variants

EXAMPLES = sorted(resources.examples_dir().glob("*.jsonld"))
INVALID = sorted((resources.examples_dir() / "invalid").glob("*.jsonld"))
BASE = "http://127.0.0.1:8000/proposals/x"


def _pyld_term(node: dict[str, Any]) -> rdflib.term.Node:
    kind, value = node["type"], node["value"]
    if kind == "IRI":
        return rdflib.URIRef(value)
    if kind == "blank node":
        return rdflib.BNode(value[2:])
    if node.get("language"):
        return rdflib.Literal(value, lang=node["language"])
    datatype = node.get("datatype")
    if datatype and datatype != str(rdflib.XSD.string):
        return rdflib.Literal(value, datatype=rdflib.URIRef(datatype))
    return rdflib.Literal(value)


def pyld_graph(document: Any, base: str) -> rdflib.Graph:
    """The graph of ``document`` by pyld's toRdf (the node's parser before)."""
    dataset = pyld.to_rdf(document, {"documentLoader": jsonld.document_loader, "base": base})
    graph = rdflib.Graph()
    for t in dataset.get("@default", []):
        graph.add((_pyld_term(t["subject"]), _pyld_term(t["predicate"]),
                   _pyld_term(t["object"])))
    return graph


def _same(ours: rdflib.Graph, theirs: rdflib.Graph) -> None:
    # rdflib's term equality compares lexical forms (normalisation is off): "007" != "7".
    if not isomorphic(ours, theirs):
        _, only_ours, only_theirs = graph_diff(to_isomorphic(ours), to_isomorphic(theirs))
        raise AssertionError(f"only ours: {sorted(only_ours)[:5]}\n"
                             f"only pyld: {sorted(only_theirs)[:5]}")


@pytest.mark.parametrize("path", [*EXAMPLES, *INVALID], ids=lambda p: p.name)
def test_every_example_parses_as_pyld_parsed_it(path: Path) -> None:
    raw = path.read_bytes()
    _same(jsonld.parse_document(raw, BASE), pyld_graph(json.loads(raw), BASE))


def _variant_documents() -> list[tuple[str, Any, str]]:
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)  # ill-typed on purpose
    graphs = [(p, jsonld.parse_document(p.read_bytes())) for p in EXAMPLES]
    classes = sorted({o for _, g in graphs for o in g.objects(None, rdflib.RDF.type)}, key=str)
    out = []
    for path, graph in graphs:
        main = json.loads(path.read_bytes())["id"]
        for i, v in enumerate(variants(graph, path.stem, classes)):
            if i % 10 == 0:
                out.append((v.name, compaction.compacted(v.graph, main), main))
    return out


VARIANTS = _variant_documents()


@pytest.mark.parametrize(("name", "document", "base"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_compacted_variants_parse_as_pyld_parsed_them(name: str, document: Any,
                                                      base: str) -> None:
    _same(jsonld.parse_document(json.dumps(document), base), pyld_graph(document, base))
