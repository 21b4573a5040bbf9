"""Compile a SHACL shapes graph, once, into :class:`CompiledShape` objects.

Only the SHACL Core subset listed in :data:`SUPPORTED` is compiled; any other SHACL
predicate in the shapes graph raises :class:`UnsupportedShape`, so the fast engine never
skips a constraint it does not know. Results follow SHACL 1.0 section 3.6.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, RDFS, SH
from ddsnode.validation.fast_constraints import (
    Check,
    Origin,
    ValueTest,
    class_test,
    compile_pattern,
    datatype_test,
    has_value,
    in_test,
    language_in_test,
    length_test,
    max_count,
    min_count,
    node_kind_test,
    pattern_test,
    per_value,
    range_test,
    unique_lang,
)
from ddsnode.validation.fast_data import DataIndex
from ddsnode.validation.fast_pairs import closed, disjoint, equals, less_than
from ddsnode.validation.fast_paths import (
    PATH_PREDICATES,
    PathError,
    compile_path,
    rdf_list,
)
from ddsnode.validation.fast_shape import CompiledShape, logical_check, property_check, qualified
from ddsnode.validation.report import ShapeResult

__all__ = ["SUPPORTED", "CompiledShape", "CompiledShapes", "Targets", "UnsupportedShape",
           "compile_shapes"]


class UnsupportedShape(ValueError):
    """The shapes graph uses SHACL the fast engine does not implement (or is ill-formed)."""


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_VALUE_COMPONENTS: dict[Node, rdflib.URIRef] = {
    SH["class"]: SH.ClassConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent, SH["in"]: SH.InConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent, SH.languageIn: SH.LanguageInConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
}
_SHAPE_VALUED = (SH.node, SH["not"], SH.property)
_LIST_OF_SHAPES = (SH["and"], SH["or"], SH.xone)
_FAIL_WHEN_EMPTY = frozenset({SH.minCount, SH.equals, SH.qualifiedValueShape, SH.hasValue})
_NON_VALIDATING = (SH.name, SH.description, SH.order, SH.group, SH.defaultValue)
_PAIRS = (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)
_QUALIFIED = (SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
              SH.qualifiedValueShapesDisjoint)

SUPPORTED: frozenset[Node] = frozenset({
    *_TARGETS, *_VALUE_COMPONENTS, *_SHAPE_VALUED, *_LIST_OF_SHAPES, *_NON_VALIDATING,
    *_PAIRS, *_QUALIFIED, SH.closed, SH.ignoredProperties,
    SH.path, SH.minCount, SH.maxCount, SH.hasValue, SH.uniqueLang, SH.flags,
    SH.severity, SH.message, SH.deactivated, *PATH_PREDICATES})
"""SHACL predicates the fast engine compiles (plus rdf:first/rest of paths and lists)."""

# SHACL terms that may sit in a shapes graph without being constraints: the report
# vocabulary (W3C test files keep the expected report next to the shapes) and prefix
# declarations (SHACL 5.2.1), which only matter to SPARQL-based constraints.
_IGNORED = frozenset({
    SH.conforms, SH.result, SH.focusNode, SH.resultPath, SH.value, SH.resultSeverity,
    SH.sourceShape, SH.sourceConstraintComponent, SH.sourceConstraint, SH.resultMessage,
    SH.detail, SH.declare, SH.prefix, SH.namespace, SH.shapesGraph, SH.suggestedShapesGraph})


@dataclass
class Targets:
    """The target declarations of one shape (SHACL 2.1.3)."""

    nodes: list[Node] = field(default_factory=list)
    classes: list[Node] = field(default_factory=list)
    subjects_of: list[Node] = field(default_factory=list)
    objects_of: list[Node] = field(default_factory=list)

    def other_focus_nodes(self, data: DataIndex) -> set[Node]:
        """The focus nodes of the node, subjects-of and objects-of targets."""
        found: set[Node] = set(self.nodes)
        for p in self.subjects_of:
            found |= data.subjects_of(str(p))
        for p in self.objects_of:
            found |= data.objects_of(str(p))
        return found


class CompiledShapes:
    """Every shape with targets, ready to run over a data index."""

    def __init__(self, targeted: list[tuple[CompiledShape, Targets]]) -> None:
        self.shapes = [shape for shape, _ in targeted]
        # Class targets are looked up from the data's few types (through their
        # superclasses) rather than asked of every shape: SHACL 2.1.3.2 and 2.1.3.3.
        self.by_class: dict[Node, list[int]] = {}
        self.others: list[tuple[int, Targets]] = []
        for i, (_, targets) in enumerate(targeted):
            for cls in targets.classes:
                self.by_class.setdefault(cls, []).append(i)
            if targets.nodes or targets.subjects_of or targets.objects_of:
                self.others.append((i, targets))

    def validate(self, data: DataIndex) -> list[ShapeResult]:
        """All results for the data graph behind ``data``."""
        foci: dict[int, set[Node]] = {}
        by_class = self.by_class
        for t, members in data.typed():
            for cls in data.superclasses(t):
                for i in by_class.get(cls, ()):
                    foci.setdefault(i, set()).update(members)
        for i, targets in self.others:
            foci.setdefault(i, set()).update(targets.other_focus_nodes(data))
        results: list[ShapeResult] = []
        for i in sorted(foci):
            shape = self.shapes[i]
            for focus in foci[i]:
                shape.validate(data, focus, results)
        return results


def _check_vocabulary(shapes: rdflib.Graph) -> None:
    """Raise UnsupportedShape for any SHACL predicate outside SUPPORTED (never skip one)."""
    sh = str(SH)
    for p in set(shapes.predicates()):
        if str(p).startswith(sh) and p not in SUPPORTED and p not in _IGNORED:
            local = str(p)[len(sh):]
            raise UnsupportedShape(f"unsupported component sh:{local}")


def _shape_nodes(shapes: rdflib.Graph) -> set[Node]:
    """The shapes of the graph (SHACL 2.1: typed, targeted, parameterised, or referenced)."""
    found: set[Node] = set()
    found.update(shapes.subjects(RDF.type, SH.NodeShape))
    found.update(shapes.subjects(RDF.type, SH.PropertyShape))
    for p in (*_TARGETS, *_SHAPE_VALUED, *_LIST_OF_SHAPES, SH.path):
        found.update(shapes.subjects(p, None))
    for p in (*_SHAPE_VALUED, SH.qualifiedValueShape):
        found.update(shapes.objects(None, p))
    for p in _LIST_OF_SHAPES:
        for head in shapes.objects(None, p):
            found.update(rdf_list(shapes, head))
    return found


def _one(shapes: rdflib.Graph, node: Node, p: Node) -> Node | None:
    values = list(shapes.objects(node, p))
    if len(values) > 1:
        raise UnsupportedShape(f"{node} has {len(values)} values of {p}; SHACL allows one")
    return values[0] if values else None


def _is_true(value: Node) -> bool:
    """Whether a boolean parameter is true ("true"^^xsd:boolean; SHACL 4.4.5, 4.8.1)."""
    return isinstance(value, rdflib.Literal) and value.value is True


def _int(value: Node, p: Node) -> int:
    if not isinstance(value, rdflib.Literal) or not isinstance(value.value, int) \
            or isinstance(value.value, bool) or value.value < 0:
        raise UnsupportedShape(f"{p} must be a non-negative xsd:integer, not {value!r}")
    return value.value


class _Compiler:
    """Turns shape nodes into CompiledShape objects, each compiled once."""

    def __init__(self, shapes: rdflib.Graph) -> None:
        self.g = shapes
        self.done: dict[Node, CompiledShape] = {}
        self.in_progress: set[Node] = set()

    def shape(self, node: Node) -> CompiledShape:
        """The compiled shape for ``node``; recursion is refused (SHACL leaves it undefined)."""
        found = self.done.get(node)
        if found is not None:
            return found
        if node in self.in_progress:
            raise UnsupportedShape(
                f"recursive shape reference through {node} (undefined in SHACL 1.0)")
        self.in_progress.add(node)
        g = self.g
        path_node = _one(g, node, SH.path)
        try:
            path = compile_path(g, path_node) if path_node is not None else None
        except PathError as e:
            raise UnsupportedShape(f"sh:path of {node}: {e}") from None
        deactivated = _one(g, node, SH.deactivated)
        severity = _one(g, node, SH.severity) or SH.Violation
        messages = {(m.language or ""): str(m) for m in g.objects(node, SH.message)
                    if isinstance(m, rdflib.Literal)}
        if not isinstance(severity, rdflib.URIRef):
            raise UnsupportedShape(f"sh:severity of {node} must be an IRI")
        origin = Origin(node, path_node, severity, messages)
        compiled = CompiledShape(node, path, deactivated is not None and _is_true(deactivated))
        made = self._checks(node, origin, path_node is not None)
        compiled.checks = [check for _, check in made]
        # With no value nodes only these can fail (SHACL 4.2.1 sh:minCount, 4.5.1 sh:equals,
        # 4.7.3 sh:qualifiedMinCount, 4.8.2 sh:hasValue); the rest loop over the values.
        compiled.empty_checks = [check for p, check in made if p in _FAIL_WHEN_EMPTY]
        self.in_progress.discard(node)
        self.done[node] = compiled
        return compiled

    def _checks(self, node: Node, origin: Origin,
                is_property: bool) -> list[tuple[Node, Check]]:
        """(parameter, check) for every constraint ``node`` declares."""
        checks: list[tuple[Node, Check]] = []
        for p, o in self.g.predicate_objects(node):
            check = self._check(node, origin, is_property, p, o)
            if check is not None:
                checks.append((p, check))
        return checks

    def _check(self, node: Node, origin: Origin, is_property: bool, p: Node,
               o: Node) -> Check | None:
        """The check for parameter ``p`` with value ``o`` (None: not a constraint)."""
        component = _VALUE_COMPONENTS.get(p)
        if component is not None:
            return per_value(origin, component, self._value_test(node, p, o))
        if p in (SH.minCount, SH.maxCount, SH.uniqueLang) and not is_property:
            raise UnsupportedShape(f"{p} on node shape {node} (SHACL 4.2, 4.4.5)")
        if p == SH.minCount:
            return min_count(origin, _int(o, p))
        if p == SH.maxCount:
            return max_count(origin, _int(o, p))
        if p == SH.uniqueLang:
            return unique_lang(origin) if _is_true(o) else None
        if p == SH.hasValue:
            return has_value(origin, o)
        if p in _SHAPE_VALUED or p in _LIST_OF_SHAPES:
            return self._shape_check(origin, p, o)
        if p in _PAIRS:
            return self._pair_check(node, origin, p, o, is_property)
        if p == SH.closed:
            return closed(origin, self._allowed_predicates(node)) if _is_true(o) else None
        if p == SH.qualifiedValueShape:
            return self._qualified_check(node, origin, o)
        return None

    def _pair_check(self, node: Node, origin: Origin, p: Node, o: Node,
                    is_property: bool) -> Check:
        if not isinstance(o, rdflib.URIRef):
            raise UnsupportedShape(f"{p} of {node} must be an IRI (SHACL 4.5)")
        if p == SH.equals:
            return equals(origin, o)
        if p == SH.disjoint:
            return disjoint(origin, o)
        if not is_property:
            raise UnsupportedShape(f"{p} on node shape {node} (SHACL 4.5.3)")
        return less_than(origin, o, or_equal=p == SH.lessThanOrEquals)

    def _allowed_predicates(self, node: Node) -> frozenset[Node]:
        """SHACL 4.8.1: predicate paths of sh:property values, plus sh:ignoredProperties."""
        g = self.g
        allowed: set[Node] = set()
        for prop in g.objects(node, SH.property):
            allowed.update(p for p in g.objects(prop, SH.path) if isinstance(p, rdflib.URIRef))
        for head in g.objects(node, SH.ignoredProperties):
            allowed.update(rdf_list(g, head))
        return frozenset(allowed)

    def _qualified_check(self, node: Node, origin: Origin, value_shape: Node) -> Check:
        """SHACL 4.7.3 sh:qualifiedValueShape with its min/max counts and disjointness."""
        g = self.g
        low, high = _one(g, node, SH.qualifiedMinCount), _one(g, node, SH.qualifiedMaxCount)
        disjoint_flag = _one(g, node, SH.qualifiedValueShapesDisjoint)
        siblings: list[CompiledShape] = []
        if isinstance(disjoint_flag, rdflib.Literal) and disjoint_flag.value is True:
            for parent in g.subjects(SH.property, node):
                for prop in g.objects(parent, SH.property):
                    for sibling in g.objects(prop, SH.qualifiedValueShape):
                        if sibling != value_shape:
                            siblings.append(self.shape(sibling))
        return qualified(origin, self.shape(value_shape), siblings,
                         None if low is None else _int(low, SH.qualifiedMinCount),
                         None if high is None else _int(high, SH.qualifiedMaxCount))

    def _value_test(self, node: Node, p: Node, o: Node) -> ValueTest:
        g = self.g
        test: ValueTest | None
        if p == SH["class"]:
            test = class_test(o)
        elif p == SH.datatype:
            test = datatype_test(o)
        elif p == SH.nodeKind:
            test = node_kind_test(o)
        elif p == SH["in"]:
            test = in_test(rdf_list(g, o))
        elif p in (SH.minLength, SH.maxLength):
            test = length_test(p, _int(o, p))
        elif p == SH.pattern:
            flags = _one(g, node, SH.flags)
            try:
                test = pattern_test(compile_pattern(str(o), str(flags or "")))
            except (re.error, ValueError) as e:
                raise UnsupportedShape(f"sh:pattern {str(o)!r} of {node}: {e}") from None
        elif p == SH.languageIn:
            test = language_in_test([str(r) for r in rdf_list(g, o)])
        else:
            test = range_test(p, o)
        if test is None:
            raise UnsupportedShape(f"{p} value {o!r} of {node} is not supported")
        return test

    def _shape_check(self, origin: Origin, p: Node, o: Node) -> Check:
        if p == SH.property:
            prop = self.shape(o)
            if prop.path is None:
                raise UnsupportedShape(f"sh:property value {o} has no sh:path (SHACL 2.3)")
            return property_check(prop)
        if p in _LIST_OF_SHAPES:
            members = [self.shape(m) for m in rdf_list(self.g, o)]
            return logical_check(origin, p, members)
        return logical_check(origin, p, [self.shape(o)])


def _implicit_class_target(shapes: rdflib.Graph, node: Node) -> bool:
    """SHACL 2.1.3.3 implicit class target: the shape is also an rdfs:Class."""
    classes = {RDFS.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)}
    return any(t in classes for t in shapes.objects(node, RDF.type))


def compile_shapes(shapes: rdflib.Graph) -> CompiledShapes:
    """Compile every shape of ``shapes``; UnsupportedShape for anything outside SUPPORTED."""
    _check_vocabulary(shapes)
    compiler = _Compiler(shapes)
    targeted: list[tuple[CompiledShape, Targets]] = []
    for node in sorted(_shape_nodes(shapes), key=str):
        compiled = compiler.shape(node)
        targets = Targets(
            nodes=list(shapes.objects(node, SH.targetNode)),
            classes=list(shapes.objects(node, SH.targetClass)),
            subjects_of=list(shapes.objects(node, SH.targetSubjectsOf)),
            objects_of=list(shapes.objects(node, SH.targetObjectsOf)))
        if _implicit_class_target(shapes, node):
            targets.classes.append(node)
        if targets.nodes or targets.classes or targets.subjects_of or targets.objects_of:
            targeted.append((compiled, targets))
    return CompiledShapes(targeted)
