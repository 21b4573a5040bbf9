"""The shapes graph: every ``shapes/*.ttl`` parsed once, and questions asked of it.

Both engines validate against :func:`shapes_graph`; the authoring tools load another
tree's shapes with :func:`load_shapes` (``ddsnode ontology check --root DIR``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import rdflib
from rdflib.term import Node

from ddsnode import resources
from ddsnode.rdf.vocab import RDF, SH

# Where a shape can sit inside another shape (SHACL 2.3, 4.6, 4.7.3).
_CHILD_PREDICATES = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_LIST_PREDICATES = (SH["or"], SH["and"], SH.xone)


def parse_turtle(path: Path, graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Parse one Turtle file (into ``graph`` if given); ValueError names the file."""
    graph = rdflib.Graph() if graph is None else graph
    try:
        graph.parse(path, format="turtle")
    except Exception as e:  # noqa: BLE001 - rdflib raises many types for bad syntax
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise ValueError(f"{path}: not valid Turtle: {reason}") from None
    return graph


def load_shapes(paths: Iterable[Path]) -> rdflib.Graph:
    """Parse the given Turtle files into one shapes graph; ValueError names a bad file."""
    graph = rdflib.Graph()
    for path in paths:
        parse_turtle(path, graph)
    return graph


@cache
def shapes_graph() -> rdflib.Graph:
    """The bundled shapes (``shapes/*.ttl``), parsed once per process."""
    return load_shapes(resources.shape_files())


def _list_heads(shapes: rdflib.Graph, member: Node) -> list[Node]:
    """The first cells of every RDF list that contains ``member``."""
    heads = []
    for cell in shapes.subjects(RDF.first, member):
        while True:
            previous = next(iter(shapes.subjects(RDF.rest, cell)), None)
            if previous is None:
                break
            cell = previous
        heads.append(cell)
    return heads


def _parents(shapes: rdflib.Graph, shape: Node) -> set[Node]:
    parents: set[Node] = set()
    for predicate in _CHILD_PREDICATES:
        parents.update(shapes.subjects(predicate, shape))
    for head in _list_heads(shapes, shape):
        for predicate in _LIST_PREDICATES:
            parents.update(shapes.subjects(predicate, head))
    return parents


def owning_node_shapes(shapes: rdflib.Graph, shape: Node) -> set[rdflib.URIRef]:
    """The named shapes that contain ``shape`` (itself included when named).

    Walks ``?parent sh:property ?shape`` upward, also through ``sh:node``, ``sh:not``,
    ``sh:qualifiedValueShape`` and the lists of ``sh:or`` / ``sh:and`` / ``sh:xone``.
    """
    owners: set[rdflib.URIRef] = set()
    seen: set[Node] = set()
    todo = [shape]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if isinstance(current, rdflib.URIRef):
            owners.add(current)
        todo.extend(_parents(shapes, current))
    return owners
