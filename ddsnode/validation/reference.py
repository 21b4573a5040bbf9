"""The reference engine: pyshacl, run as plain SHACL Core.

No inference (``inference='none'``) and no SHACL-AF (``advanced=False``): the fast engine
implements exactly SHACL Core, and both must give the same results.

pyshacl's ``validate()`` builds a ``ShapesGraph`` and harvests every shape from it at
each call (``ShapesGraph._build_node_shape_cache``: a third of a call on the bundled
shapes). The harvested shapes depend on the shapes graph alone; the data graph and the
constraint objects are per call (``Shape.validate`` builds its constraint components
again each time). So this module runs pyshacl's ``Validator`` itself, with the options
``validate()`` would pass, and keeps one harvested ``ShapesGraph`` per shapes graph
(:func:`_harvested`). tests/test_validation_differential.py compares its reports with
the fast engine's.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import pyshacl.entrypoints
import rdflib
from pyshacl import ShapesGraph, Validator
from pyshacl.graph_abstraction import DataGraph
from rdflib.term import Node, URIRef, _parseBoolean, _toPythonMapping

from ddsnode.rdf.vocab import SH
from ddsnode.validation.report import ShapeReport, ShapeResult
from ddsnode.validation.shapes import shapes_graph


def _unpatch_keeping_terms() -> None:
    """pyshacl's ``rdflib_bool_unpatch`` without its ``rdflib.NORMALIZE_LITERALS = True``.

    pyshacl runs that unpatch after every validation. The flag is process-wide, so a
    representation parsed in another thread at that moment had its lexical forms
    rewritten (``2026-12-07T17:29:56Z`` served as ``…+00:00`` in a CI run) even though
    this module set the flag back right after. The node keeps terms as sent
    (``ddsnode/__init__.py``); only pyshacl's boolean reading is restored here.
    """
    _toPythonMapping[URIRef(str(rdflib.XSD.boolean))] = _parseBoolean


pyshacl.entrypoints.rdflib_bool_unpatch = _unpatch_keeping_terms  # type: ignore[attr-defined]


def _one(graph: rdflib.Graph, subject: Node, predicate: rdflib.URIRef) -> Node | None:
    return next(iter(graph.objects(subject, predicate)), None)


def results_from_graph(report: rdflib.Graph) -> list[ShapeResult]:
    """The ShapeResults of a sh:ValidationReport graph (as pyshacl returns it)."""
    results = []
    for node in report.objects(None, SH.result):
        messages: dict[str, str] = {}
        for message in report.objects(node, SH.resultMessage):
            if isinstance(message, rdflib.Literal):
                # An untagged sh:message is the fallback for every language: key "".
                messages.setdefault(message.language or "", str(message))
        severity = _one(report, node, SH.resultSeverity)
        constraint = _one(report, node, SH.sourceConstraintComponent)
        focus = _one(report, node, SH.focusNode)
        source = _one(report, node, SH.sourceShape)
        assert isinstance(severity, rdflib.URIRef) and isinstance(constraint, rdflib.URIRef)
        assert focus is not None and source is not None
        results.append(ShapeResult(
            focus=focus, path=_one(report, node, SH.resultPath),
            value=_one(report, node, SH.value), severity=severity, source_shape=source,
            constraint=constraint, messages=messages))
    results.sort(key=lambda r: r.key())
    return results


# At most this many harvested shapes graphs are kept, least recently used dropped first:
# the bundled shapes, and the few another tree's check or a test loads. An entry holds
# its shapes graph (pyshacl's ShapesGraph refers to it), so the bound is what frees them.
HARVESTED_MAX = 8

# id(shapes graph) -> (triple count, harvested ShapesGraph). Keyed by identity, as the
# fast engine's compiled cache is (ddsnode/validation/fast.py): two graphs with one
# identifier are equal for rdflib, and an id is not reused while the entry holds its
# graph. The triple count catches a shapes graph changed in place, harvested again then.
_HARVESTED: OrderedDict[int, tuple[int, ShapesGraph]] = OrderedDict()
_LOCK = threading.Lock()
_LOG: list[logging.Logger] = []  # pyshacl's "pyshacl-validate" logger, set up once


def _logger() -> logging.Logger:
    """The logger pyshacl's ``validate()`` sets up (stderr, INFO), made on first use."""
    if not _LOG:
        _LOG.append(pyshacl.entrypoints.make_default_logger(name="pyshacl-validate"))
    return _LOG[0]


def _harvested(shapes: rdflib.Graph) -> ShapesGraph:
    """pyshacl's ShapesGraph over ``shapes`` with every shape harvested, kept per graph.

    Sharing it between calls and threads is sound: once harvested it is only read
    (``Shape.validate`` builds its constraint components again at every call).
    """
    key = id(shapes)
    with _LOCK:
        entry = _HARVESTED.get(key)
        if entry is not None and entry[1].graph is shapes and entry[0] == len(shapes):
            _HARVESTED.move_to_end(key)
            return entry[1]
        # Under the lock: the harvest reads the graph and, the first time, adds pyshacl's
        # two "system triples" to it (ShapesGraph._add_system_triples), as validate() did.
        harvested = ShapesGraph(shapes, False, _logger())
        _ = harvested.shapes  # the harvest; ShapeLoadError for a malformed shapes graph
        _HARVESTED[key] = (len(shapes), harvested)
        _HARVESTED.move_to_end(key)
        while len(_HARVESTED) > HARVESTED_MAX:
            _HARVESTED.popitem(last=False)
    return harvested


def _report(graph: rdflib.Graph, shapes: rdflib.Graph) -> rdflib.Graph:
    """pyshacl's sh:ValidationReport graph of ``graph`` against ``shapes``, SHACL Core
    without inference, the shapes harvested once (:func:`_harvested`).

    What ``pyshacl.validate(graph, shacl_graph=shapes, inference="none",
    advanced=False, inplace=True, abort_on_first=False, allow_warnings=False,
    allow_infos=False)`` reports (pyshacl 0.40, ``entrypoints.validate``): the same
    ``Validator`` with the same options, the harvested ShapesGraph put in place of the
    one it makes (whose shapes it would harvest on first use). An rdflib graph passed as
    a source is used as is there (``rdfutil.load_from_source``), so neither graph is
    parsed or copied here either.
    """
    if not graph.store.context_aware:  # pyshacl needs a context-aware store (rdfio.new_graph)
        copy = rdflib.Graph()
        for triple in graph:
            copy.add(triple)
        graph = copy
    harvested = _harvested(shapes)
    validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=shapes, options={
        "debug": False, "inference": "none", "inplace": True, "abort_on_first": False,
        "allow_infos": False, "allow_warnings": False, "advanced": False,
        "iterate_rules": False, "use_js": None, "sparql_mode": False, "logger": _logger(),
        "focus_nodes": None, "use_shapes": None})
    validator.shacl_graph = harvested
    try:
        _, report, _ = validator.run()  # type: ignore[no-untyped-call]  # pyshacl: untyped
    finally:
        # pyshacl's own validate() turns rdflib's literal normalisation back ON when it
        # finishes (pyshacl/monkey rdflib_bool_unpatch, replaced above); should anything
        # else have, it would rewrite every lexical form parsed afterwards in this
        # process. The node keeps terms as sent (ddsnode/__init__).
        rdflib.NORMALIZE_LITERALS = False
    assert isinstance(report, rdflib.Graph)
    return report


def validate_pyshacl(graph: rdflib.Graph, *, shapes: rdflib.Graph | None = None) -> ShapeReport:
    """Validate ``graph`` with pyshacl against ``shapes`` (default: the bundled shapes)."""
    report = _report(graph, shapes if shapes is not None else shapes_graph())
    return ShapeReport(results_from_graph(report))
