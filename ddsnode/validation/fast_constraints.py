"""Constraint components of SHACL Core (section 4) as plain Python checks.

A :data:`Check` is called with the data index, one focus node, that focus node's value
nodes and a result list. It appends one :class:`ShapeResult` per failure and returns
whether the value nodes conform; given ``None`` for the list it only answers the
question and may stop at the first failure (how ``sh:node``, ``sh:or``... ask).

Comparisons, datatypes and strings read the rdflib terms the data graph already holds
(``Literal.value`` and ``Literal.ill_typed`` are computed once, when the term is made).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, SH, XSD
from ddsnode.validation.fast_data import DataIndex
from ddsnode.validation.report import ShapeResult

__all__ = [
    "Check",
    "Origin",
    "ValueTest",
    "class_test",
    "comparable_key",
    "compile_pattern",
    "datatype_test",
    "has_value",
    "in_test",
    "language_in_test",
    "length_test",
    "literal_datatype",
    "max_count",
    "min_count",
    "node_kind_test",
    "pattern_test",
    "per_value",
    "range_test",
    "unique_lang",
]

Results = list[ShapeResult] | None
Check = Callable[[DataIndex, Node, Sequence[Node], Results], bool]
ValueTest = Callable[[DataIndex, Node], bool]
Literal = rdflib.Literal


@dataclass(frozen=True, slots=True)
class Origin:
    """What every result of one shape shares: source shape, path, severity, messages."""

    shape: Node
    path: Node | None
    severity: rdflib.URIRef
    messages: dict[str, str]

    def result(self, focus: Node, value: Node | None, component: rdflib.URIRef) -> ShapeResult:
        """A result of ``component`` for ``focus`` (SHACL 3.6.2)."""
        return ShapeResult(focus, self.path, value, self.severity, self.shape, component,
                           dict(self.messages))


def per_value(origin: Origin, component: rdflib.URIRef, test: ValueTest) -> Check:
    """A check that yields one result, with sh:value, per value node failing ``test``."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        ok = True
        for v in values:
            if not test(data, v):
                if results is None:
                    return False
                ok = False
                results.append(origin.result(focus, v, component))
        return ok
    return check


# -- SHACL 4.1 value type ------------------------------------------------------------

def class_test(cls: Node) -> ValueTest:
    """SHACL 4.1.1 sh:class: a non-literal that is a SHACL instance of ``cls``."""
    def test(data: DataIndex, v: Node) -> bool:
        return not isinstance(v, Literal) and data.is_instance(v, cls)
    return test


# Python value types rdflib gives well-formed literals of these datatypes. pyshacl checks
# the same pairs after ``Literal.ill_typed``; keeping them means both engines agree on
# what rdflib parsed leniently (e.g. a bool for "abc"^^xsd:boolean is still ill-typed).
_VALUE_TYPES: dict[Node, type | tuple[type, ...]] = {
    XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int,
    XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: date,
    XSD.time: time, XSD.dateTime: datetime,
}


def literal_datatype(v: rdflib.Literal) -> Node:
    """The datatype of a literal per RDF 1.1 (plain -> xsd:string, tagged -> rdf:langString)."""
    if v.datatype is not None:
        return v.datatype
    return RDF.langString if v.language else XSD.string


def datatype_test(datatype: Node) -> ValueTest:
    """SHACL 4.1.2 sh:datatype: a literal of that datatype that is not ill-typed."""
    expected = _VALUE_TYPES.get(datatype)

    def test(data: DataIndex, v: Node) -> bool:
        if not isinstance(v, Literal) or literal_datatype(v) != datatype:
            return False
        if v.ill_typed:
            return False
        return expected is None or isinstance(v.value, expected)
    return test


_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (rdflib.URIRef,), SH.BlankNode: (rdflib.BNode,), SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (rdflib.BNode, rdflib.URIRef),
    SH.BlankNodeOrLiteral: (rdflib.BNode, Literal),
    SH.IRIOrLiteral: (rdflib.URIRef, Literal),
}


def node_kind_test(kind: Node) -> ValueTest | None:
    """SHACL 4.1.3 sh:nodeKind (the six kinds); None for an unknown kind."""
    kinds = _NODE_KINDS.get(kind)
    if kinds is None:
        return None

    def test(data: DataIndex, v: Node) -> bool:
        return isinstance(v, kinds)
    return test


# -- SHACL 4.3 value range -----------------------------------------------------------

_NUMERIC = frozenset(XSD[t] for t in (
    "integer", "decimal", "float", "double", "nonPositiveInteger", "negativeInteger",
    "long", "int", "short", "byte", "nonNegativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte", "positiveInteger"))


def comparable_key(v: Node) -> tuple[str, Any] | None:
    """(family, value) under which SPARQL 1.1 orders ``v`` (SPARQL 17.3), or None.

    Numbers compare with numbers, strings with strings, booleans with booleans, and
    dates, times and dateTimes with their own kind when both or neither carry a time
    zone. Language-tagged strings, ill-typed literals, IRIs and blank nodes have no order.
    """
    if not isinstance(v, Literal) or v.ill_typed:
        return None
    dt = v.datatype
    if dt is None:
        return None if v.language else ("string", str(v))
    value = v.value
    if dt in _NUMERIC:
        return ("numeric", value) if isinstance(value, (int, float, Decimal)) else None
    if dt == XSD.string:
        return ("string", str(v))
    if dt == XSD.boolean:
        return ("boolean", value) if isinstance(value, bool) else None
    if dt in (XSD.dateTime, XSD.date, XSD.time) and isinstance(value, (date, time)):
        aware = getattr(value, "tzinfo", None) is not None
        return (f"{dt}|{aware}", value)
    return None


_ORDER: dict[Node, Callable[[Any, Any], bool]] = {
    # "$bound op value" as SHACL 4.3.1 - 4.3.4 state it.
    SH.minExclusive: lambda bound, value: bound < value,
    SH.minInclusive: lambda bound, value: bound <= value,
    SH.maxExclusive: lambda bound, value: bound > value,
    SH.maxInclusive: lambda bound, value: bound >= value,
}


def range_test(parameter: Node, bound: Node) -> ValueTest | None:
    """SHACL 4.3 sh:min/maxIn/Exclusive; an incomparable value fails. None: bad bound."""
    bound_key = comparable_key(bound)
    if bound_key is None:
        return None
    family, bound_value = bound_key
    order = _ORDER[parameter]

    def test(data: DataIndex, v: Node) -> bool:
        key = comparable_key(v)
        if key is None or key[0] != family:
            return False
        try:
            return bool(order(bound_value, key[1]))
        except TypeError:
            return False
    return test


# -- SHACL 4.4 string based ----------------------------------------------------------

def length_test(parameter: Node, bound: int) -> ValueTest:
    """SHACL 4.4.1 / 4.4.2 sh:minLength / sh:maxLength of str(v); blank nodes fail."""
    is_min = parameter == SH.minLength

    def test(data: DataIndex, v: Node) -> bool:
        if isinstance(v, rdflib.BNode):
            return False
        n = len(str(v))
        return n >= bound if is_min else n <= bound
    return test


_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def compile_pattern(pattern: str, flags: str) -> re.Pattern[str]:
    """An XPath regex with XPath flags (SHACL 4.4.3 refers to XPath fn:matches)."""
    re_flags = 0
    for f in flags:
        if f == "q":
            pattern = re.escape(pattern)
        elif f in _FLAGS:
            re_flags |= _FLAGS[f]
        else:
            raise ValueError(f"unknown sh:flags letter {f!r}")
    return re.compile(pattern, re_flags)


def pattern_test(regex: re.Pattern[str]) -> ValueTest:
    """SHACL 4.4.3 sh:pattern: str(v) matches somewhere; blank nodes fail."""
    search = regex.search

    def test(data: DataIndex, v: Node) -> bool:
        return not isinstance(v, rdflib.BNode) and search(str(v)) is not None
    return test


def _lang_matches(tag: str, ranges: Sequence[str]) -> bool:
    """SPARQL langMatches: RFC 4647 basic filtering, case-insensitive ('*' = any tag)."""
    tag = tag.lower()
    for r in ranges:
        if r == "*" or tag == r or tag.startswith(r + "-"):
            return True
    return False


def language_in_test(ranges: Sequence[str]) -> ValueTest:
    """SHACL 4.4.4 sh:languageIn: a literal whose tag matches one of the ranges."""
    lowered = tuple(r.lower() for r in ranges)

    def test(data: DataIndex, v: Node) -> bool:
        return isinstance(v, Literal) and bool(v.language) and _lang_matches(
            v.language or "", lowered)
    return test


# -- SHACL 4.8.3 sh:in ---------------------------------------------------------------

def in_test(members: Sequence[Node]) -> ValueTest:
    """SHACL 4.8.3 sh:in: the value node is one of the list members (RDF term equality)."""
    allowed = frozenset(members)

    def test(data: DataIndex, v: Node) -> bool:
        return v in allowed
    return test


# -- checks on the whole set of value nodes ------------------------------------------

def min_count(origin: Origin, bound: int) -> Check:
    """SHACL 4.2.1 sh:minCount: one result without sh:value when too few values."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        if len(values) >= bound:
            return True
        if results is not None:
            results.append(origin.result(focus, None, SH.MinCountConstraintComponent))
        return False
    return check


def max_count(origin: Origin, bound: int) -> Check:
    """SHACL 4.2.2 sh:maxCount: one result without sh:value when too many values."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        if len(values) <= bound:
            return True
        if results is not None:
            results.append(origin.result(focus, None, SH.MaxCountConstraintComponent))
        return False
    return check


def has_value(origin: Origin, term: Node) -> Check:
    """SHACL 4.8.2 sh:hasValue: one result without sh:value when ``term`` is missing."""
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        if term in values:
            return True
        if results is not None:
            results.append(origin.result(focus, None, SH.HasValueConstraintComponent))
        return False
    return check


def unique_lang(origin: Origin) -> Check:
    """SHACL 4.4.5 sh:uniqueLang: one result per language tag used more than once.

    Tags are compared case-insensitively (BCP 47 2.1.1), as pyshacl does.
    """
    def check(data: DataIndex, focus: Node, values: Sequence[Node], results: Results) -> bool:
        seen: set[str] = set()
        duplicated: set[str] = set()
        for v in values:
            if isinstance(v, Literal) and v.language:
                tag = v.language.lower()
                (duplicated if tag in seen else seen).add(tag)
        if not duplicated:
            return True
        if results is not None:
            for _ in duplicated:
                results.append(origin.result(focus, None, SH.UniqueLangConstraintComponent))
        return False
    return check
