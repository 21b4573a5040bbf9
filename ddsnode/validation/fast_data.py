"""The data graph as plain dicts, built once per validation for the fast engine.

Every check of the fast engine reads this index instead of calling
``Graph.triples()``: ``out[subject][str(predicate)]`` is the list of objects; the inverse
index and the ``rdfs:subClassOf`` closure are built on first use. Predicates are keyed
by plain ``str``: rdflib compares terms in Python, so a lookup with an equal but not
identical URIRef (the shapes graph's, against the data graph's) costs a Python call,
while two ``str`` compare in C. The compiled checks hold their predicates as ``str``.

Class membership follows SHACL 1.0 section 1.4 ("SHACL instance"): a node is an
instance of ``C`` when it has an ``rdf:type`` ``T`` and ``T`` is ``C`` or reaches ``C``
through ``rdfs:subClassOf*`` *in the data graph*. pyshacl with ``inference="none"``
uses the data graph's ``rdfs:subClassOf`` triples for ``sh:targetClass`` and
``sh:class`` alike, and so does this index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, RDFS

__all__ = ["EMPTY", "DataIndex"]

_TYPE = str(RDF.type)
_SUBCLASS = str(RDFS.subClassOf)
EMPTY: tuple[Node, ...] = ()
_NO_EDGES: dict[str, list[Node]] = {}


class DataIndex:
    """Subject -> predicate -> objects of one data graph, with lazy derived indexes."""

    __slots__ = ("_by_type", "_instances", "_inverse", "_supers", "out")

    def __init__(self, graph: rdflib.Graph) -> None:
        out: dict[Node, dict[str, list[Node]]] = {}
        by_type: dict[Node, list[Node]] = {}
        for s, p, o in graph.triples((None, None, None)):
            edges = out.get(s)
            if edges is None:
                edges = out[s] = {}
            key = str(p)
            objects = edges.get(key)
            if objects is None:
                edges[key] = [o]
            else:
                objects.append(o)
            if key == _TYPE:
                by_type.setdefault(o, []).append(s)
        # Parsers make a new term object per occurrence. Point every object, and every
        # typed node, at the object that keys ``out``: a later ``out.get(value)`` then
        # matches by identity instead of calling rdflib's Python ``__eq__``.
        canonical = {s: s for s in out}
        for edges in out.values():
            for objects in edges.values():
                for i, o in enumerate(objects):
                    if not isinstance(o, rdflib.Literal):
                        same = canonical.get(o)
                        if same is not None:
                            objects[i] = same
        for typed in by_type.values():
            typed[:] = [canonical[s] for s in typed]
        self.out = out
        self._by_type = by_type
        self._inverse: dict[Node, dict[str, list[Node]]] | None = None
        self._supers: dict[Node, frozenset[Node]] = {}
        self._instances: dict[Node, frozenset[Node]] = {}

    def objects(self, subject: Node, predicate: str) -> Sequence[Node]:
        """The objects of ``subject predicate ?o`` (no duplicates: a graph is a set)."""
        return self.out.get(subject, _NO_EDGES).get(predicate, EMPTY)

    def subjects(self, predicate: str, obj: Node) -> Sequence[Node]:
        """The subjects of ``?s predicate obj`` (builds the inverse index once)."""
        inverse = self._inverse
        if inverse is None:
            inverse = self._inverse = {}
            for s, edges in self.out.items():
                for p, objects in edges.items():
                    for o in objects:
                        inverse.setdefault(o, {}).setdefault(p, []).append(s)
        return inverse.get(obj, _NO_EDGES).get(predicate, EMPTY)

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """``cls`` and every class it reaches by ``rdfs:subClassOf*`` in the data graph."""
        found = self._supers.get(cls)
        if found is None:
            seen = {cls}
            todo = [cls]
            while todo:
                for parent in self.objects(todo.pop(), _SUBCLASS):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            found = self._supers[cls] = frozenset(seen)
        return found

    def is_instance(self, node: Node, cls: Node) -> bool:
        """Whether ``node`` is a SHACL instance of ``cls`` (SHACL 1.4, "SHACL instance")."""
        for t in self.objects(node, _TYPE):
            if t == cls or cls in self.superclasses(t):
                return True
        return False

    def typed(self) -> Iterable[tuple[Node, list[Node]]]:
        """(type, its direct instances) for every rdf:type object in the data graph."""
        return self._by_type.items()

    def instances(self, cls: Node) -> frozenset[Node]:
        """Every SHACL instance of ``cls`` in the data graph (SHACL 2.1.3.2 sh:targetClass)."""
        found = self._instances.get(cls)
        if found is None:
            members: set[Node] = set()
            for t, typed in self._by_type.items():
                if cls in self.superclasses(t):
                    members.update(typed)
            found = self._instances[cls] = frozenset(members)
        return found

    def subjects_of(self, predicate: str) -> set[Node]:
        """Every subject of a triple with ``predicate`` (SHACL 2.1.3.4 sh:targetSubjectsOf)."""
        return {s for s, edges in self.out.items() if predicate in edges}

    def objects_of(self, predicate: str) -> set[Node]:
        """Every object of a triple with ``predicate`` (SHACL 2.1.3.5 sh:targetObjectsOf)."""
        found: set[Node] = set()
        for edges in self.out.values():
            found.update(edges.get(predicate, EMPTY))
        return found
