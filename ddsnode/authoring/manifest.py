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

import json
from dataclasses import dataclass
from typing import Any

import rdflib
from rdflib.collection import Collection
from rdflib.term import Node

from ddsnode.authoring.terms import compact, is_prefix
from ddsnode.rdf.vocab import OWL, RDF, RDFS, SH, SHAPES_NS, SKOS, XSD
from ddsnode.validation.report import ShapeReport, ShapeResult
from ddsnode.validation.shapes import owning_node_shapes

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

    def describe(self, prefixes: dict[str, str] | None = None) -> str:
        """A one-line description for messages (the shape compacted when ``prefixes``)."""
        shape = compact(self.shape, prefixes) if prefixes else f"<{self.shape}>"
        return (f"focus <{self.focus}> path {self.path or '(none)'} "
                f"component {self.component.rsplit('#', 1)[-1]} shape {shape}")


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


def focus_shapes(result: ShapeResult, shapes: rdflib.Graph,
                 data: rdflib.Graph | None = None) -> set[rdflib.URIRef]:
    """The node shapes a result belongs to, narrowed to those targeting the focus's types.

    A shared property shape (``ddsh:titleRequired``) belongs to a dozen node shapes; with
    the data graph, only the ones whose ``sh:targetClass`` is a type of the focus remain.
    """
    owners = owning_node_shapes(shapes, result.source_shape)
    if data is None:
        return owners
    types = set(data.objects(result.focus, RDF.type))
    targeted = {o for o in owners
                if any((o, SH.targetClass, t) in shapes for t in types)}
    return targeted or owners


def _matches(expected: Expected, result: ShapeResult, shapes: rdflib.Graph) -> bool:
    return not _differences(expected, result, shapes)


def _differences(expected: Expected, result: ShapeResult, shapes: rdflib.Graph) -> list[str]:
    """Which of focus, path, component and shape differ between an entry and a result."""
    differ = []
    if expected.focus is not None and str(result.focus) != expected.focus:
        differ.append("focus")
    if result_path(result, shapes) != expected.path:
        differ.append("path")
    if str(result.constraint) != expected.component:
        differ.append("component")
    if rdflib.URIRef(expected.shape) not in owning_node_shapes(shapes, result.source_shape):
        differ.append("shape")
    return differ


def _short(iri: str | None, prefixes: dict[str, str] | None) -> str:
    """A compact IRI for messages; the full IRI when no prefix fits or none are given."""
    if iri is None:
        return "(none)"
    inverse = iri.startswith("^")
    body = iri[1:] if inverse else iri
    text = compact(body, prefixes) if prefixes else body
    return ("^" if inverse else "") + (body if text.startswith("<") else text)


def describe(result: ShapeResult, shapes: rdflib.Graph, data: rdflib.Graph | None = None,
             prefixes: dict[str, str] | None = None) -> str:
    """A violation as one line: focus, path, component and owning node shapes.

    With the data graph the shapes are narrowed to those targeting the focus; with
    ``prefixes`` they are written as compact IRIs (``ddsh:ProposalShape``).
    """
    owners = ", ".join(_short(str(o), prefixes) if prefixes else f"<{o}>"
                       for o in sorted(focus_shapes(result, shapes, data)))
    return (f"focus <{result.focus}> path {result_path(result, shapes) or '(none)'} "
            f"component {str(result.constraint).rsplit('#', 1)[-1]} shape {owners or '(blank)'}")


def entry_for(file: str, result: ShapeResult, shapes: rdflib.Graph, data: rdflib.Graph,
              prefixes: dict[str, str]) -> str:
    """The manifest entry (one line of JSON) that would state ``result`` as expected."""
    owners = sorted(focus_shapes(result, shapes, data))
    entry: dict[str, str] = {"file": file, "description": "…", "focus": str(result.focus)}
    if owners:
        entry["shape"] = _short(str(owners[0]), prefixes)
    path = result_path(result, shapes)
    if path is not None:
        entry["path"] = _short(path, prefixes)
    entry["component"] = _short(str(result.constraint), prefixes)
    return json.dumps(entry, ensure_ascii=False)


def mismatches(expected: list[Expected], report: ShapeReport, shapes: rdflib.Graph,
               data: rdflib.Graph | None = None,
               prefixes: dict[str, str] | None = None) -> list[str]:
    """Why ``report`` is not exactly the expected failure (empty when it is)."""
    problems = []
    violations = report.violations
    if not violations:
        return [("conforms, but the manifest says it fails: make the example break the rule "
                 "its entry names")]
    for want in expected:
        if any(_matches(want, r, shapes) for r in violations):
            continue
        hint = ""
        for r in violations:  # a near miss: say which one field is off
            differ = _differences(want, r, shapes)
            if len(differ) == 1:
                got = {"focus": f"<{r.focus}>", "path": result_path(r, shapes) or "(none)",
                       "component": str(r.constraint).rsplit("#", 1)[-1],
                       "shape": ", ".join(_short(str(o), prefixes) for o in
                                          sorted(focus_shapes(r, shapes, data)))}[differ[0]]
                hint = f"; one was reported with {differ[0]} {got} instead"
                break
        problems.append(f"expected a violation with {want.describe(prefixes)}, none reported"
                        + hint)
    for result in violations:
        if not any(_matches(want, result, shapes) for want in expected):
            problems.append(f"unexpected violation: {describe(result, shapes, data, prefixes)}: "
                            f"{result.message('en')}")
    return problems
