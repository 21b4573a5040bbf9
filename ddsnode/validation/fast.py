"""The fast validation engine: shapes compiled once to Python checks, for the write path.

``validate_fast(graph)`` gives the same conformance and the same results
(:meth:`ShapeResult.key`) as the pyshacl engine. It compiles SHACL Core (SHACL 1.0
section 4) without SPARQL: every target kind, every path (except sh:inversePath of a
non-IRI path), the value
type, cardinality, range, string, property pair, logical, shape-based (sh:node,
sh:property, sh:qualifiedValueShape) and other (sh:closed, sh:hasValue, sh:in)
components, severities, messages and sh:deactivated. A shapes graph using any other
SHACL term raises :class:`UnsupportedShape` when it is compiled, never a silently
shorter report (see ``fast_compile.SUPPORTED``). ``tests/test_shacl_w3c.py`` runs the W3C
SHACL Core suite through it.

Where pyshacl 0.40 departs from SHACL 1.0 the fast engine follows the specification
(``tests/test_validation_differential.py`` tolerates exactly the first case):

* sh:minInclusive and friends: a value SPARQL cannot order against the bound (a boolean
  against a number, a language-tagged string, an ill-typed literal) is a violation for
  all four components; pyshacl lets some of them pass (e.g. an ill-typed xsd:double
  under sh:maxInclusive).
* sh:languageIn uses SPARQL ``langMatches`` (range ``de-CH`` matches ``de-CH-1996``);
  pyshacl compares whole tags and primary subtags only.
* sh:flags honours ``s``, ``x`` and ``q`` as well as ``i`` and ``m``.
* sh:datatype rdfs:Literal matches only literals of that datatype IRI.
* sh:minLength 0 still fails a blank node (SHACL 4.4.1 says so for any bound).
* Recursive shapes (undefined in SHACL 1.0, "Handling of Recursive Shapes") raise
  UnsupportedShape; pyshacl warns and treats the repeated shape as conforming.
"""

from __future__ import annotations

import threading
import weakref

import rdflib

from ddsnode.validation.fast_compile import CompiledShapes, UnsupportedShape, compile_shapes
from ddsnode.validation.fast_data import DataIndex
from ddsnode.validation.report import ShapeReport

__all__ = ["UnsupportedShape", "compiled", "validate_fast"]

# id(shapes graph) -> (weak reference, triple count, compiled form). Keyed by identity,
# not Graph equality (two graphs with one identifier are equal); the triple count
# catches a shapes graph changed in place, which then compiles again.
_CACHE: dict[int, tuple[weakref.ref[rdflib.Graph], int, CompiledShapes]] = {}
_LOCK = threading.Lock()


def compiled(shapes: rdflib.Graph) -> CompiledShapes:
    """The compiled form of ``shapes``, compiled on first use and cached per graph."""
    key, size = id(shapes), len(shapes)
    entry = _CACHE.get(key)
    if entry is not None and entry[0]() is shapes and entry[1] == size:
        return entry[2]
    with _LOCK:
        result = compile_shapes(shapes)
        _CACHE[key] = (weakref.ref(shapes, lambda _: _CACHE.pop(key, None)), size, result)
    return result


def validate_fast(graph: rdflib.Graph, shapes: rdflib.Graph | None = None) -> ShapeReport:
    """Validate ``graph`` against ``shapes`` (default: the bundled shapes) (SHACL 3)."""
    if shapes is None:
        from ddsnode.validation.shapes import shapes_graph
        shapes = shapes_graph()
    return ShapeReport(compiled(shapes).validate(DataIndex(graph)))
