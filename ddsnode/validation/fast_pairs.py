"""Checks that read other triples of the focus node: property pairs and closed shapes.

SHACL 4.5.1 - 4.5.4 (sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals) compare
the value nodes with the values of another predicate of the same focus node; SHACL
4.8.1 (sh:closed) looks at every predicate a value node uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import SH
from ddsnode.validation.fast_constraints import Check, Origin, Results, comparable_key
from ddsnode.validation.fast_data import DataIndex
from ddsnode.validation.report import ShapeResult

__all__ = ["closed", "disjoint", "equals", "less_than"]


def equals(origin: Origin, predicate: Node) -> Check:
    """SHACL 4.5.1 sh:equals: a result for each value in one set and not the other."""
    key = str(predicate)

    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        others = data.objects(focus, key)
        mine = set(values)
        theirs = set(others)
        if mine == theirs:
            return True
        if results is not None:
            for v in (mine - theirs) | (theirs - mine):
                results.append(origin.result(focus, v, SH.EqualsConstraintComponent))
        return False
    return check


def disjoint(origin: Origin, predicate: Node) -> Check:
    """SHACL 4.5.2 sh:disjoint: a result for each value also a value of ``predicate``."""
    key = str(predicate)

    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        others = set(data.objects(focus, key))
        ok = True
        for v in values:
            if v in others:
                if results is None:
                    return False
                ok = False
                results.append(origin.result(focus, v, SH.DisjointConstraintComponent))
        return ok
    return check


def less_than(origin: Origin, predicate: Node, or_equal: bool) -> Check:
    """SHACL 4.5.3 / 4.5.4 sh:lessThan(OrEquals): every value below every other value.

    One result (sh:value v) per pair of a value node v and a value o of ``predicate``
    where ``v < o`` (or ``v <= o``) is not true in SPARQL: incomparable pairs fail too.
    """
    component = (SH.LessThanOrEqualsConstraintComponent if or_equal
                 else SH.LessThanConstraintComponent)
    key = str(predicate)

    def below(v: Node, o: Node) -> bool:
        a, b = comparable_key(v), comparable_key(o)
        if a is None or b is None or a[0] != b[0]:
            return False
        try:
            return bool(a[1] <= b[1] if or_equal else a[1] < b[1])
        except TypeError:
            return False

    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        others = data.objects(focus, key)
        ok = True
        for v in values:
            for o in others:
                if not below(v, o):
                    if results is None:
                        return False
                    ok = False
                    results.append(origin.result(focus, v, component))
        return ok
    return check


def closed(origin: Origin, allowed_predicates: frozenset[Node]) -> Check:
    """SHACL 4.8.1 sh:closed: a result (path = the predicate) per triple not allowed."""
    allowed = frozenset(str(p) for p in allowed_predicates)

    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        ok = True
        for v in values:
            if isinstance(v, rdflib.Literal):
                continue
            for p, objects in data.out.get(v, {}).items():
                if p in allowed:
                    continue
                if results is None:
                    return False
                ok = False
                for o in objects:
                    # The result's sh:resultPath is the offending predicate.
                    results.append(ShapeResult(focus, rdflib.URIRef(p), o, origin.severity,
                                               origin.shape,
                                               SH.ClosedConstraintComponent,
                                               dict(origin.messages)))
        return ok
    return check
