"""A compiled shape, and the checks that validate value nodes against other shapes.

SHACL 4.6 (sh:not, sh:and, sh:or, sh:xone) and 4.7 (sh:node, sh:property,
sh:qualifiedValueShape) ask whether a value node conforms to another shape; they call
:meth:`CompiledShape.validate` with ``None`` for the results, which only answers that.
"""

from __future__ import annotations

from collections.abc import Sequence

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import SH
from ddsnode.validation.fast_constraints import Check, Origin, Results, per_value
from ddsnode.validation.fast_data import DataIndex
from ddsnode.validation.fast_paths import PathFunction

__all__ = ["CompiledShape", "logical_check", "property_check", "qualified"]


class CompiledShape:
    """One shape: its path (None for a node shape) and its checks (SHACL 2.1, 2.2, 2.3)."""

    __slots__ = ("checks", "deactivated", "empty_checks", "node", "path")

    def __init__(self, node: Node, path: PathFunction | None, deactivated: bool) -> None:
        self.node = node
        self.path = path
        self.deactivated = deactivated
        self.checks: list[Check] = []
        self.empty_checks: list[Check] = []  # the checks that can fail on no value nodes

    def validate(self, data: DataIndex, focus: Node, results: Results) -> bool:
        """Validate ``focus``; append results (unless None) and return conformance."""
        if self.deactivated:  # SHACL 2.1.6 sh:deactivated: no results, conforms.
            return True
        if self.path is None:
            values: Sequence[Node] = (focus,)
            checks = self.checks
        else:
            values = self.path(data, focus)
            checks = self.checks if values else self.empty_checks
        ok = True
        for check in checks:
            if not check(data, focus, values, results):
                if results is None:
                    return False
                ok = False
        return ok


def property_check(prop: CompiledShape) -> Check:
    """SHACL 4.7.2 sh:property: each value node validated against the property shape."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        ok = True
        for v in values:
            if not prop.validate(data, v, results):
                if results is None:
                    return False
                ok = False
        return ok
    return check


_LOGICAL: dict[Node, rdflib.URIRef] = {
    SH.node: SH.NodeConstraintComponent, SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent, SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent}


def qualified(origin: Origin, shape: CompiledShape, siblings: list[CompiledShape],
              low: int | None, high: int | None) -> Check:
    """SHACL 4.7.3: count value nodes conforming to ``shape`` and to no sibling."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        count = sum(1 for v in values if shape.validate(data, v, None)
                    and not any(s.validate(data, v, None) for s in siblings))
        ok = True
        if low is not None and count < low:
            ok = False
            if results is not None:
                results.append(origin.result(focus, None, SH.QualifiedMinCountConstraintComponent))
        if high is not None and count > high:
            ok = False
            if results is not None:
                results.append(origin.result(focus, None, SH.QualifiedMaxCountConstraintComponent))
        return ok
    return check


def logical_check(origin: Origin, p: Node, members: list[CompiledShape]) -> Check:
    """SHACL 4.6 sh:not/and/or/xone and 4.7.1 sh:node: one result per failing value node."""
    if p == SH.node or p == SH["and"]:
        def test(data: DataIndex, v: Node) -> bool:
            return all(s.validate(data, v, None) for s in members)
    elif p == SH["not"]:
        def test(data: DataIndex, v: Node) -> bool:
            return not members[0].validate(data, v, None)
    elif p == SH["or"]:
        def test(data: DataIndex, v: Node) -> bool:
            return any(s.validate(data, v, None) for s in members)
    else:
        def test(data: DataIndex, v: Node) -> bool:
            return sum(1 for s in members if s.validate(data, v, None)) == 1
    return per_value(origin, _LOGICAL[p], test)
