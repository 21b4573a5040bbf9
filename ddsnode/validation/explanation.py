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
from ddsnode.validation.report import ShapeReport, ShapeResult
from ddsnode.vocab import RDF, SH

LANGS = ("en", "fr")
MAX_SHOWN = 8  # values listed in a message; the rest are counted
XSD = "http://www.w3.org/2001/XMLSchema#"

# Templates per constraint component and language. Fields: term (the JSON-LD key), value,
# found (count), bound (the constraint's parameter), allowed (sh:in / sh:languageIn list),
# rule (the shape's sh:message), lang (a duplicated language tag), example.
TEMPLATES: dict[str, dict[str, str]] = {
    "MinCount-missing": {
        "en": "`{term}` is missing: at least {bound} value{s} required. {example}{rule}",
        "fr": "`{term}` manque : au moins {bound} valeur{s} requise{s}. {example}{rule}"},
    "MinCount": {
        "en": "`{term}` needs at least {bound} values; found {found}.",
        "fr": "`{term}` demande au moins {bound} valeurs ; {found} trouvée(s)."},
    "MaxCount-one": {
        "en": "Only one `{term}` is allowed; found {found} ({value}). Keep one.",
        "fr": "Un seul `{term}` est permis ; {found} trouvés ({value}). N'en gardez qu'un."},
    "MaxCount": {
        "en": "At most {bound} values of `{term}` are allowed; found {found} ({value}).",
        "fr": "Au plus {bound} valeurs de `{term}` sont permises ; {found} trouvées ({value})."},
    "MaxCount-none": {
        "en": "`{term}` must not be given here; found {found} ({value}).",
        "fr": "`{term}` ne doit pas figurer ici ; {found} trouvé(s) ({value})."},
    "In": {
        "en": "`{term}` is {value}, which is not an allowed value; use one of: {allowed}.",
        "fr": "`{term}` vaut {value}, qui n'est pas une valeur permise ; utilisez l'une de : "
              "{allowed}."},
    "Datatype-lang": {
        "en": "`{term}` needs a language tag: write it as {example} in JSON-LD "
              "(\"…\"@en in Turtle); got {value} without one.",
        "fr": "`{term}` demande une étiquette de langue : écrivez {example} en JSON-LD "
              "(\"…\"@fr en Turtle) ; reçu {value} sans étiquette."},
    "Datatype-not-literal": {
        "en": "`{term}` must be a value of type {bound}, not a link; got {value}.",
        "fr": "`{term}` doit être une valeur de type {bound}, pas un lien ; reçu {value}."},
    "Datatype-ill-typed": {
        "en": "`{term}` is {value}, which is not a valid {bound}. {rule}",
        "fr": "`{term}` vaut {value}, qui n'est pas un {bound} valide. {rule}"},
    "Datatype": {
        "en": "`{term}` must be of type {bound}; got {value}. {rule}",
        "fr": "`{term}` doit être de type {bound} ; reçu {value}. {rule}"},
    "UniqueLang": {
        "en": "`{term}` has more than one value in language \"{lang}\"; keep one per language.",
        "fr": "`{term}` a plus d'une valeur dans la langue « {lang} » ; n'en gardez qu'une par "
              "langue."},
    "LanguageIn": {
        "en": "`{term}` is in language {value}; allowed languages: {allowed}.",
        "fr": "`{term}` est dans la langue {value} ; langues permises : {allowed}."},
    "MaxLength": {
        "en": "`{term}` is too long: at most {bound} characters; got {found}.",
        "fr": "`{term}` est trop long : au plus {bound} caractères ; reçu {found}."},
    "MinLength": {
        "en": "`{term}` is too short: at least {bound} characters; got {found}.",
        "fr": "`{term}` est trop court : au moins {bound} caractères ; reçu {found}."},
    "Pattern": {
        "en": "`{term}` is {value}, which does not have the expected form. {rule}",
        "fr": "`{term}` vaut {value}, qui n'a pas la forme attendue. {rule}"},
    "MinInclusive": {
        "en": "`{term}` is {value}; it must be at least {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir au moins {bound}."},
    "MinExclusive": {
        "en": "`{term}` is {value}; it must be more than {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir plus de {bound}."},
    "MaxInclusive": {
        "en": "`{term}` is {value}; it must be at most {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir au plus {bound}."},
    "MaxExclusive": {
        "en": "`{term}` is {value}; it must be less than {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir moins de {bound}."},
    "NodeKind-IRI-blank": {
        "en": "`{term}` must be a link (an IRI); got an object without an \"id\" (a blank "
              "node). Give that object an \"id\", or write the IRI it stands for.",
        "fr": "`{term}` doit être un lien (une IRI) ; reçu un objet sans \"id\" (un nœud "
              "anonyme). Donnez-lui un \"id\", ou écrivez l'IRI qu'il désigne."},
    "NodeKind-IRI": {
        "en": "`{term}` must be a link (an IRI); got the value {value}. In JSON-LD write "
              "{{\"id\": \"https://…\"}}.",
        "fr": "`{term}` doit être un lien (une IRI) ; reçu la valeur {value}. En JSON-LD, écrivez "
              "{{\"id\": \"https://…\"}}."},
    "NodeKind-node": {
        "en": "`{term}` must be a link or an object; got the value {value}.",
        "fr": "`{term}` doit être un lien ou un objet ; reçu la valeur {value}."},
    "NodeKind-literal": {
        "en": "`{term}` must be a value (text, number, date), not a link; got {value}.",
        "fr": "`{term}` doit être une valeur (texte, nombre, date), pas un lien ; reçu {value}."},
    "Class": {
        "en": "`{term}` points at {value}, which is not a {allowed} in this document.",
        "fr": "`{term}` désigne {value}, qui n'est pas de type {allowed} dans ce document."},
    "Or-class": {
        "en": "`{term}` points at {value}, which this document types as {found}; it must be "
              "a {allowed} (or be described elsewhere, with no type given here).",
        "fr": "`{term}` désigne {value}, que ce document type comme {found} ; il doit être de "
              "type {allowed} (ou décrit ailleurs, sans type donné ici)."},
    "Or-none": {
        "en": "`{term}` is {value}, which matches none of the accepted forms. {rule}",
        "fr": "`{term}` vaut {value}, qui ne correspond à aucune des formes acceptées. {rule}"},
    "Or-datatype": {
        "en": "`{term}` is {value}; it must be one of: {allowed}. {rule}",
        "fr": "`{term}` vaut {value} ; il doit être de l'un des types : {allowed}. {rule}"},
    "HasValue": {
        "en": "`{term}` must include {bound}.",
        "fr": "`{term}` doit contenir {bound}."},
    "Closed": {
        "en": "`{term}` is not a property this resource may have; remove it. {rule}",
        "fr": "`{term}` n'est pas une propriété permise pour cette ressource ; retirez-la. {rule}"},
}


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


def _listed(nodes: list[Node], path: Node | None) -> str:
    shown = ", ".join(show(n, path) for n in nodes[:MAX_SHOWN])
    return shown + (f" and {len(nodes) - MAX_SHOWN} more" if len(nodes) > MAX_SHOWN else "")


def _values(data: rdflib.Graph, focus: Node, path: Node | None) -> list[Node] | None:
    """The value nodes of a predicate path, or None for a complex path (not counted here)."""
    if not isinstance(path, rdflib.URIRef):
        return None
    return sorted(data.objects(focus, path), key=str)  # type: ignore[arg-type]


def _fields(result: ShapeResult, data: rdflib.Graph,
            shapes: rdflib.Graph) -> tuple[str, dict[str, str]] | None:
    """(template key, fields) for ``result``, or None to keep the shape's message."""
    component = str(result.constraint).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    shape, path = result.source_shape, result.path
    fields = {"term": term_name(path, shapes.value(shape, SH.datatype)),  # type: ignore[arg-type]
              "value": show(result.value, path), "s": "",
              "example": "", "found": "", "bound": "", "allowed": "", "lang": ""}

    def param(predicate: rdflib.URIRef) -> Node | None:
        return shapes.value(shape, predicate)  # type: ignore[arg-type]

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
            fields["s"] = "s" if bound > 1 else ""
            if param(SH.datatype) == RDF.langString:
                fields["example"] = f'In JSON-LD: "{fields["term"]}": {{"en": "…"}}. '
            return "MinCount-missing", fields
        return ("MaxCount-one" if bound == 1 else
                "MaxCount-none" if bound == 0 else "MaxCount"), fields
    if component == "In":
        head = param(SH["in"])
        allowed = list(Collection(shapes, head)) if head is not None else []  # type: ignore[arg-type]
        fields["allowed"] = _listed(allowed, path) if len(allowed) <= 20 else (
            _listed(allowed, path) + " (see the shapes)")
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
        allowed = list(Collection(shapes, head)) if head is not None else []  # type: ignore[arg-type]
        fields["allowed"] = ", ".join(str(a) for a in allowed)
        tag = result.value.language if isinstance(result.value, rdflib.Literal) else None
        fields["value"] = f'"{tag}"' if tag else "none (no language tag)"
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
        members = list(Collection(shapes, head)) if head is not None else []  # type: ignore[arg-type]
        classes = [c for m in members for c in shapes.objects(m, SH["class"])]  # type: ignore[arg-type]
        datatypes = [d for m in members for d in shapes.objects(m, SH.datatype)]  # type: ignore[arg-type]
        types = [] if result.value is None else sorted(
            data.objects(result.value, RDF.type), key=str)  # type: ignore[arg-type]
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
        rule = result.messages.get(lang) or result.messages.get("") or ""
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

