"""The reference engine: pyshacl, run as plain SHACL Core.

No inference (``inference='none'``) and no SHACL-AF (``advanced=False``): the fast engine
implements exactly SHACL Core, and both must give the same results.
"""

from __future__ import annotations

import pyshacl.entrypoints
import rdflib
from pyshacl import validate as pyshacl_validate
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


def validate_pyshacl(graph: rdflib.Graph, *, shapes: rdflib.Graph | None = None) -> ShapeReport:
    """Validate ``graph`` with pyshacl against ``shapes`` (default: the bundled shapes)."""
    if not graph.store.context_aware:  # pyshacl needs a context-aware store (rdfio.new_graph)
        copy = rdflib.Graph()
        for triple in graph:
            copy.add(triple)
        graph = copy
    try:
        _, report, _ = pyshacl_validate(
            graph, shacl_graph=shapes if shapes is not None else shapes_graph(),
            inference="none", advanced=False, inplace=True, abort_on_first=False,
            allow_warnings=False, allow_infos=False)
    finally:
        # pyshacl turns rdflib's literal normalisation back ON when it finishes
        # (pyshacl/monkey rdflib_bool_unpatch), which would rewrite every lexical form
        # parsed afterwards in this process; the node keeps terms as sent (ddsnode/__init__).
        rdflib.NORMALIZE_LITERALS = False
    assert isinstance(report, rdflib.Graph)
    return ShapeReport(results_from_graph(report))
