"""What a validation result means for the writer: a message per constraint that fired.

A shape's ``sh:message`` is shared by every constraint of the shape (SHACL 2.1.5), so it
cannot say which one failed: ``ddsh:state`` says "`state` must be one of …" both for an
unknown state and for two known ones (sh:maxCount). ``explain`` writes, for each result,
a message from the constraint component that produced it (SHACL 4: sh:minCount,
sh:maxCount, sh:in, sh:datatype …), naming the property by its JSON-LD term, the value
found and how to fix it. The shape's own message stays the result's rule
(``ShapeResult.messages``, copied to ``sh:resultMessage`` as SHACL 2.1.5 requires).
Components without an entry here keep the shape's message.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import rdflib
from rdflib.collection import Collection
from rdflib.term import Node

from ddsnode import resources
from ddsnode.rdf.vocab import RDF, SH
from ddsnode.validation.messages import LANGS, TEMPLATES
from ddsnode.validation.report import ShapeReport, ShapeResult

MAX_SHOWN = 8  # values listed in a message; the rest are counted
XSD = "http://www.w3.org/2001/XMLSchema#"


@cache
def _terms() -> dict[str, list[tuple[str, bool, str]]]:
    """IRI -> [(JSON-LD term of the shared context, values are vocab words, its @type)]."""
    context = resources.context_document()["@context"]
    prefixes = {k: v for k, v in context.items()
                if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return prefixes[prefix] + local if prefix in prefixes and local else curie

    terms: dict[str, list[tuple[str, bool, str]]] = {}
    for term, definition in context.items():
        if term.startswith("@") or term in prefixes:
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", "")
        kind = definition.get("@type", "") if isinstance(definition, dict) else ""
        if isinstance(iri, str) and iri:
            terms.setdefault(expand(iri), []).append((term, kind == "@vocab", expand(kind)))
    return terms


def term_name(path: Node | None, datatype: Node | None = None) -> str:
    """The JSON-LD key a writer uses for ``path`` (``title`` for dct:title), else the IRI.

    Where several terms share the IRI (``startDate`` and ``startTime`` for
    schema:startDate), the one whose type is the shape's ``datatype``."""
    if path is None:
        return "?"
    entries = _terms().get(str(path))
    if entries:
        typed = [e for e in entries if datatype is not None and e[2] == str(datatype)]
        return (typed or entries)[0][0]
    return f"<{path}>" if isinstance(path, rdflib.URIRef) else "(a path)"


def show(node: Node | None, path: Node | None = None) -> str:
    """A value as the writer wrote it: a concept word, a quoted string, an IRI."""
    if node is None:
        return "(nothing)"
    if isinstance(node, rdflib.Literal):
        text = str(node)
        text = text if len(text) <= 60 else text[:57] + "…"
        if node.language:
            return f'"{text}"@{node.language}'
        if node.datatype is not None and str(node.datatype) != XSD + "string":
            return f'"{text}" ({_datatype(node.datatype)})'
        return f'"{text}"'
    if isinstance(node, rdflib.BNode):
        return "{…}"  # an object without "id" (a blank node), in any language
    entries = _terms().get(str(path), []) if path is not None else []
    if entries and entries[0][1]:  # written as a plain word ("state": "accepted")
        return '"' + str(node).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] + '"'
    return f"<{node}>"


def _datatype(iri: Node) -> str:
    text = str(iri)
    if text.startswith(XSD):
        return "xsd:" + text[len(XSD):]
    if text == str(RDF.langString):
        return "rdf:langString"
    return f"<{text}>"


def _local(iri: Node | None) -> str:
    """The local name of a class IRI (``Participant`` for dds:Participant)."""
    return str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] if iri else "?"


def _either(names: list[str]) -> str:
    """``A / B / C``: alternatives, in any language."""
    return " / ".join(names)


def _listed(nodes: list[Node], path: Node | None, limit: int = MAX_SHOWN) -> str:
    """Values as written, the first ``limit`` of them, then ``… (+n)`` (any language)."""
    shown = ", ".join(show(n, path) for n in nodes[:limit])
    return shown + (f", … (+{len(nodes) - limit})" if len(nodes) > limit else "")


def _values(data: rdflib.Graph, focus: Node, path: Node | None) -> list[Node] | None:
    """The value nodes of a predicate path, or None for a complex path (not counted here)."""
    if not isinstance(path, rdflib.URIRef):
        return None
    return sorted(data.objects(focus, path), key=str)


def _fields(result: ShapeResult, data: rdflib.Graph,
            shapes: rdflib.Graph) -> tuple[str, dict[str, str]] | None:
    """(template key, fields) for ``result``, or None to keep the shape's message."""
    component = str(result.constraint).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    shape, path = result.source_shape, result.path
    fields = {"term": term_name(path, shapes.value(shape, SH.datatype)),
              "value": show(result.value, path),
              "example": "", "found": "", "bound": "", "allowed": "", "lang": ""}

    def param(predicate: rdflib.URIRef) -> Node | None:
        return shapes.value(shape, predicate)

    values = _values(data, result.focus, path)
    if component in ("MinCount", "MaxCount"):
        bound_node = param(SH[component[0].lower() + component[1:]])
        bound = int(str(bound_node)) if bound_node is not None else 0
        fields["bound"] = str(bound)
        if values is None:
            return None
        fields["found"], fields["value"] = str(len(values)), _listed(values, path)
        if component == "MinCount":
            if values:
                return "MinCount", fields
            if result.severity != SH.Violation:
                return None  # a recommendation: the shape's message says so
            if param(SH.datatype) == RDF.langString:
                fields["example"] = f'"{fields["term"]}": {{"en": "…"}}'
                return "MinCount-missing-lang", fields
            return "MinCount-missing", fields
        return ("MaxCount-one" if bound == 1 else
                "MaxCount-none" if bound == 0 else "MaxCount"), fields
    if component == "In":
        head = param(SH["in"])
        allowed = list(Collection(shapes, head)) if head is not None else []
        fields["allowed"] = _listed(allowed, path, limit=20)
        return "In", fields
    if component == "Datatype":
        datatype = param(SH.datatype)
        fields["bound"] = _datatype(datatype) if datatype is not None else "?"
        value = result.value
        if not isinstance(value, rdflib.Literal):
            return "Datatype-not-literal", fields
        if datatype == RDF.langString and not value.language:
            fields["example"] = f'"{fields["term"]}": {{"en": "{str(value)[:40]}"}}'
            return "Datatype-lang", fields
        if datatype is not None and value.datatype == datatype:
            return "Datatype-ill-typed", fields
        return "Datatype", fields
    if component == "UniqueLang":
        langs = [v.language for v in values or () if isinstance(v, rdflib.Literal)]
        fields["lang"] = next((t for t in langs if t and langs.count(t) > 1), "?")
        return "UniqueLang", fields
    if component == "LanguageIn":
        head = param(SH.languageIn)
        allowed = list(Collection(shapes, head)) if head is not None else []
        fields["allowed"] = ", ".join(str(a) for a in allowed)
        tag = result.value.language if isinstance(result.value, rdflib.Literal) else None
        fields["value"] = f'"{tag}"' if tag else '""'
        return "LanguageIn", fields
    if component in ("MaxLength", "MinLength"):
        fields["bound"] = str(param(SH[component[0].lower() + component[1:]]))
        fields["found"] = str(len(str(result.value))) if result.value is not None else "?"
        return component, fields
    if component in ("MinInclusive", "MinExclusive", "MaxInclusive", "MaxExclusive"):
        fields["bound"] = str(param(SH[component[0].lower() + component[1:]]))
        return component, fields
    if component == "NodeKind":
        kind, value = param(SH.nodeKind), result.value
        if kind == SH.Literal:
            return "NodeKind-literal", fields
        if kind == SH.IRI:
            return ("NodeKind-IRI-blank" if isinstance(value, rdflib.BNode)
                    else "NodeKind-IRI"), fields
        return "NodeKind-node", fields
    if component == "Class":
        fields["allowed"] = _local(param(SH["class"]))
        return "Class", fields
    if component == "Or":
        head = param(SH["or"])
        members = list(Collection(shapes, head)) if head is not None else []
        classes = [c for m in members for c in shapes.objects(m, SH["class"])]
        datatypes = [d for m in members for d in shapes.objects(m, SH.datatype)]
        types = [] if result.value is None else sorted(
            data.objects(result.value, RDF.type), key=str)
        if classes and not types:
            return "Or-none", fields  # untyped: it failed a nested shape (coordinates …)
        if classes:
            fields["found"] = _either([_local(t) for t in types]) or "nothing"
            fields["allowed"] = _either([_local(c) for c in classes])
            return "Or-class", fields
        if datatypes:
            fields["allowed"] = ", ".join(_datatype(d) for d in datatypes)
            return "Or-datatype", fields
        return None
    if component == "HasValue":
        fields["bound"] = show(param(SH.hasValue), path)
        return component, fields
    if component in ("Pattern", "Closed"):
        return component, fields
    return None


def explain_result(result: ShapeResult, data: rdflib.Graph,
                   shapes: rdflib.Graph) -> ShapeResult:
    """``result`` with a message per language written from the constraint that fired."""
    chosen = _fields(result, data, shapes)
    if chosen is None:
        return result
    key, fields = chosen
    explanation = {}
    for lang in LANGS:
        rule = result.rule(lang) if result.messages else ""
        text = TEMPLATES[key][lang].format(**{**fields, "rule": rule})
        explanation[lang] = " ".join(text.split())
    return dataclasses.replace(result, explanation=explanation)


def explain(report: ShapeReport, data: rdflib.Graph,
            shapes: rdflib.Graph | None = None) -> ShapeReport:
    """``report`` with each result's message written from the constraint that fired.

    Only a report that does not conform is explained: that is when messages are read
    (a 422, a failing file), and a conforming write with warnings (mostly "recommended"
    minCounts, whose shape messages say so) then costs nothing more (~60 us a result)."""
    if report.conforms:
        return report
    if shapes is None:
        from ddsnode.validation.shapes import shapes_graph
        shapes = shapes_graph()
    return ShapeReport([explain_result(r, data, shapes) for r in report.results])

