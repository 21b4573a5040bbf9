"""The manifest of invalid examples, and whether a report fails for the stated reason.

``examples/invalid/manifest.json`` is a list of entries ``{file, description, focus,
shape, path, component}``; a file may have several entries when one defect yields
several violations. A file *fails as stated* when the set of its violations, each as
(focus, path, component, owning node shape), is exactly the set its entries name.
IRIs in the manifest may be written in full or as compact IRIs with the context's
prefixes (``dct:title``, ``sh:MinCountConstraintComponent``, ``ddsh:ProposalShape``);
an inverse path is written ``^iri``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rdflib
from rdflib.collection import Collection
from rdflib.term import Node

from ddsnode.authoring.terms import is_prefix
from ddsnode.validation.report import ShapeReport, ShapeResult
from ddsnode.validation.shapes import owning_node_shapes
from ddsnode.vocab import OWL, RDF, RDFS, SH, SHAPES_NS, SKOS, XSD

_FIXED_PREFIXES = {"sh": str(SH), "ddsh": SHAPES_NS}
_FALLBACK_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD),
                      "skos": str(SKOS)}


@dataclass(frozen=True)
class Expected:
    """One violation an invalid example must produce (IRIs expanded)."""

    focus: str | None
    path: str | None
    component: str
    shape: str

    def describe(self) -> str:
        """A one-line description for messages."""
        return (f"focus <{self.focus}> path {self.path or '(none)'} "
                f"component {self.component.rsplit('#', 1)[-1]} shape <{self.shape}>")


def expand(value: str, prefixes: dict[str, str]) -> str:
    """A compact IRI (or a bare SHACL component name) as a full IRI."""
    inverse = value.startswith("^")
    body = value[1:] if inverse else value
    prefix, sep, rest = body.partition(":")
    if not sep and body.endswith("ConstraintComponent"):
        body = str(SH) + body
    elif sep and not rest.startswith("//") and prefix in prefixes:
        body = prefixes[prefix] + rest
    return ("^" if inverse else "") + body


def prefixes_of(context: dict[str, Any]) -> dict[str, str]:
    """The namespace prefixes of a context, plus ``sh:``, ``ddsh:`` and the W3C ones."""
    found = {k: v for k, v in context.items() if is_prefix(v)}
    return {**_FALLBACK_PREFIXES, **found, **_FIXED_PREFIXES}


def expectations(entries: list[dict[str, Any]], prefixes: dict[str, str]
                 ) -> dict[str, list[Expected]]:
    """File name -> the violations its manifest entries name."""
    by_file: dict[str, list[Expected]] = {}
    for entry in entries:
        focus, path, component, shape = (
            expand(v, prefixes) if isinstance(v, str) and v else None
            for v in (entry.get(k) for k in ("focus", "path", "component", "shape")))
        if not isinstance(entry.get("file"), str) or component is None or shape is None:
            raise ValueError(f"manifest entry {entry!r} needs file, component and shape")
        by_file.setdefault(entry["file"], []).append(Expected(focus, path, component, shape))
    return by_file


def render_path(shapes: rdflib.Graph, path: Node) -> str:
    """A SHACL path (SHACL 2.3.1) as text: ``iri``, ``^iri``, ``a/b``, else ``(complex)``."""
    if isinstance(path, rdflib.URIRef):
        return str(path)
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + render_path(shapes, inverse)
    if shapes.value(path, RDF.first) is not None:
        return "/".join(render_path(shapes, step) for step in Collection(
            shapes, path))
    return "(complex path)"


def result_path(result: ShapeResult, shapes: rdflib.Graph) -> str | None:
    """The result's path as text; a blank-node path is read from its shape."""
    if result.path is None:
        return None
    if isinstance(result.path, rdflib.URIRef):
        return str(result.path)
    shape_path = shapes.value(result.source_shape, SH.path)
    return render_path(shapes, shape_path) if shape_path is not None else "(complex path)"


def _matches(expected: Expected, result: ShapeResult, shapes: rdflib.Graph) -> bool:
    return ((expected.focus is None or str(result.focus) == expected.focus)
            and result_path(result, shapes) == expected.path
            and str(result.constraint) == expected.component
            and rdflib.URIRef(expected.shape) in owning_node_shapes(shapes, result.source_shape))


def describe(result: ShapeResult, shapes: rdflib.Graph) -> str:
    """A violation as one line: focus, path, component and owning shapes."""
    owners = ", ".join(f"<{o}>" for o in sorted(owning_node_shapes(shapes, result.source_shape)))
    return (f"focus <{result.focus}> path {result_path(result, shapes) or '(none)'} "
            f"component {str(result.constraint).rsplit('#', 1)[-1]} shape {owners or '(blank)'}")


def mismatches(expected: list[Expected], report: ShapeReport, shapes: rdflib.Graph) -> list[str]:
    """Why ``report`` is not exactly the expected failure (empty when it is)."""
    problems = []
    violations = report.violations
    if not violations:
        return ["conforms, but the manifest says it fails"]
    for want in expected:
        if not any(_matches(want, r, shapes) for r in violations):
            problems.append(f"expected a violation with {want.describe()}, none reported")
    for result in violations:
        if not any(_matches(want, result, shapes) for want in expected):
            problems.append(f"unexpected violation: {describe(result, shapes)}: "
                            f"{result.message('en')}")
    return problems
