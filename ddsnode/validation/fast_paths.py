"""SHACL property paths (SHACL 1.0 section 2.3.1) compiled to functions over a DataIndex.

A predicate path reads ``DataIndex.out`` directly (the hot case); the other kinds
(inverse, sequence, alternative, zero-or-more, one-or-more, zero-or-one) return sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, SH
from ddsnode.validation.fast_data import EMPTY, DataIndex

__all__ = ["PATH_PREDICATES", "PathError", "PathFunction", "compile_path", "rdf_list"]

PathFunction = Callable[[DataIndex, Node], Sequence[Node]]

# The predicates a path node may carry (SHACL 2.3.1.2 - 2.3.1.7); anything else on a
# blank-node path is not a path the fast engine knows.
PATH_PREDICATES = frozenset({
    SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath,
    SH.zeroOrOnePath, RDF.first, RDF.rest,
})
_NO_EDGES: dict[str, list[Node]] = {}


class PathError(ValueError):
    """A path node that is not a well-formed SHACL property path."""


def rdf_list(shapes: rdflib.Graph, head: Node) -> list[Node]:
    """The members of a well-formed RDF list in the shapes graph (SHACL 1.0 section 1.4)."""
    items: list[Node] = []
    cell = head
    seen: set[Node] = set()
    while cell != RDF.nil:
        if cell in seen:
            raise PathError(f"cyclic RDF list at {cell}")
        seen.add(cell)
        first = list(shapes.objects(cell, RDF.first))
        rest = list(shapes.objects(cell, RDF.rest))
        if len(first) != 1 or len(rest) != 1:
            raise PathError(f"{cell} is not a well-formed RDF list cell")
        items.append(first[0])
        cell = rest[0]
    return items


def compile_path(shapes: rdflib.Graph, path: Node) -> PathFunction:
    """A function (data, focus) -> value nodes for the SHACL path ``path``."""
    if isinstance(path, rdflib.URIRef):
        # SHACL 2.3.1.1 predicate path: the objects of focus `path` ?o.
        key = str(path)

        def predicate(data: DataIndex, focus: Node) -> Sequence[Node]:
            return data.out.get(focus, _NO_EDGES).get(key, EMPTY)
        return predicate
    if not isinstance(path, rdflib.BNode):
        raise PathError(f"sh:path value {path!r} is neither an IRI nor a blank node")
    steps = _set_steps(shapes, path)

    def complex_path(data: DataIndex, focus: Node) -> Sequence[Node]:
        return list(steps(data, {focus}))
    return complex_path


_SetStep = Callable[[DataIndex, set[Node]], set[Node]]


def _set_steps(shapes: rdflib.Graph, path: Node) -> _SetStep:
    """A set-to-set function for ``path`` (each kind below cites its SHACL clause)."""
    if isinstance(path, rdflib.URIRef):
        key = str(path)

        def forward(data: DataIndex, nodes: set[Node]) -> set[Node]:
            out: set[Node] = set()
            for n in nodes:
                out.update(data.objects(n, key))
            return out
        return forward
    if not isinstance(path, rdflib.BNode):
        raise PathError(f"path element {path!r} is neither an IRI nor a blank node")
    if (path, RDF.first, None) in shapes:
        # SHACL 2.3.1.2 sequence path: a list of at least two paths, applied in order.
        parts = [_set_steps(shapes, p) for p in rdf_list(shapes, path)]
        if len(parts) < 2:
            raise PathError("a sequence path needs at least two members")

        def sequence(data: DataIndex, nodes: set[Node]) -> set[Node]:
            for part in parts:
                nodes = part(data, nodes)
            return nodes
        return sequence
    kinds = [(p, o) for p, o in shapes.predicate_objects(path)]
    if len(kinds) != 1:
        raise PathError(f"path node {path} must have exactly one path predicate")
    kind, value = kinds[0]
    if kind == SH.inversePath:
        # SHACL 2.3.1.4 inverse path: the subjects of ?s value focus.
        if not isinstance(value, rdflib.URIRef):
            raise PathError("sh:inversePath of a complex path is not supported by the fast engine")
        inverse_key = str(value)

        def inverse(data: DataIndex, nodes: set[Node]) -> set[Node]:
            out: set[Node] = set()
            for n in nodes:
                out.update(data.subjects(inverse_key, n))
            return out
        return inverse
    if kind == SH.alternativePath:
        # SHACL 2.3.1.3 alternative path: the union over the listed paths.
        options = [_set_steps(shapes, p) for p in rdf_list(shapes, value)]
        if len(options) < 2:
            raise PathError("an alternative path needs at least two members")

        def alternative(data: DataIndex, nodes: set[Node]) -> set[Node]:
            out: set[Node] = set()
            for option in options:
                out |= option(data, nodes)
            return out
        return alternative
    if kind in (SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        step = _set_steps(shapes, value)
        return _repeat(step, kind)
    raise PathError(f"unknown path predicate {kind}")


def _repeat(step: _SetStep, kind: Node) -> _SetStep:
    """SHACL 2.3.1.5 - 2.3.1.7: zero-or-more, one-or-more, zero-or-one."""
    if kind == SH.zeroOrOnePath:
        def zero_or_one(data: DataIndex, nodes: set[Node]) -> set[Node]:
            return nodes | step(data, nodes)
        return zero_or_one
    include_start = kind == SH.zeroOrMorePath

    def closure(data: DataIndex, nodes: set[Node]) -> set[Node]:
        reached: set[Node] = set(nodes) if include_start else set()
        frontier = step(data, nodes)
        while frontier:
            new = frontier - reached
            reached |= new
            frontier = step(data, new) if new else set()
        return reached
    return closure
