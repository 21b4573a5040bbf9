"""Container pages serialised without rdflib: they are built per request, so they must be cheap.

A page is a few hundred simple triples (the container's own, then ``ldp:contains``,
``rdf:type`` and ``dct:title`` of each member). rdflib's Turtle serialiser spends ~25 ms
on one; these writers take well under a millisecond. Output is exactly the same graph
in N-Triples, Turtle and JSON-LD (compacted against the shared context where a term
fits, full IRIs where none does — JSON-LD 1.1 accepts both in one document);
``tests/test_http_containers.py`` checks that every format parses to the same triples.

Rendered pages are also cached (:class:`ddsnode.lru.LRU`, in the node) under the
container's *stamp*, the seq of the last change to any of its members, which the store
moves in the same transaction as the change: a cached page is never older than its key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import Any

import rdflib
from rdflib.term import Node

from ddsnode import resources
from ddsnode.ldp import conneg
from ddsnode.rdf import compaction
from ddsnode.store.base import Page

Triple = tuple[Node, Node, Node]
Member = tuple[str, str, tuple[str, ...]]  # iri, title, types (for the HTML listing)
RDF_TYPE = str(rdflib.RDF.type)
XSD_STRING = str(rdflib.XSD.string)
_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r",
            ord("\t"): "\\t"}


_LDP = "http://www.w3.org/ns/ldp#"
_CONTAINS = rdflib.URIRef(_LDP + "contains")
_BASIC_CONTAINER, _CONTAINER = _LDP + "BasicContainer", _LDP + "Container"
_TITLE = rdflib.URIRef("http://purl.org/dc/terms/title")


def _order(triple: Triple) -> tuple[str, str, str]:
    s, p, o = triple
    return (str(s), "" if str(p) == RDF_TYPE else str(p), str(o))


def page_triples(own: Iterable[Triple], iri: str, page: Page) -> tuple[list[Triple], list[Member]]:
    """The triples of one page: the container's own, then for each member ``ldp:contains``
    (LDP 5.2.1.4), its types and title — so a client lists without a request per member."""
    subject = rdflib.URIRef(iri)
    triples: list[Triple] = sorted(own, key=_order)
    members: list[Member] = []
    for child in page.items:
        member = rdflib.URIRef(child.iri)
        triples.append((subject, _CONTAINS, member))
        types = child.types or ((_BASIC_CONTAINER,) if child.kind == "container" else ())
        for t in types:
            triples.append((member, rdflib.RDF.type, rdflib.URIRef(t)))
        if child.kind == "container" and _CONTAINER not in types:
            triples.append((member, rdflib.RDF.type, rdflib.URIRef(_CONTAINER)))
        if child.title:
            triples.append((member, _TITLE, rdflib.Literal(child.title)))
        members.append((child.iri, child.title, types))
    return triples, members


def _iri(term: str) -> str:
    return f"<{term}>"


def _literal(lit: rdflib.Literal) -> str:
    text = f'"{str(lit).translate(_ESCAPES)}"'
    if lit.language:
        return f"{text}@{lit.language}"
    if lit.datatype is not None and str(lit.datatype) != XSD_STRING:
        return f"{text}^^<{lit.datatype}>"
    return text


def _term(node: Node) -> str:
    if isinstance(node, rdflib.URIRef):
        return _iri(str(node))
    if isinstance(node, rdflib.Literal):
        return _literal(node)
    return f"_:{node}"


def ntriples(triples: Sequence[Triple]) -> bytes:
    """N-Triples, one line per triple, in the given order."""
    return "".join(f"{_term(s)} {_term(p)} {_term(o)} .\n" for s, p, o in triples).encode()


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    pairs = [(ns, name) for name, ns in resources.context_document()["@context"].items()
             if isinstance(ns, str) and not name.startswith("@") and ns[-1:] in ("#", "/")
             and name in ("ldp", "dct", "dds", "rdf", "skos", "org", "solid", "dcat")]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@lru_cache(maxsize=65536)
def _turtle_iri(iri: str) -> str:
    for ns, name in _prefixes():
        if iri.startswith(ns):
            local = iri[len(ns):]
            if local and local.replace("-", "").replace("_", "").isalnum():
                return f"{name}:{local}"
    return _iri(iri)


def turtle(triples: Sequence[Triple]) -> bytes:
    """Turtle grouped by subject and predicate, with the common prefixes."""
    lines = [f"@prefix {name}: <{ns}> ." for ns, name in _prefixes()] + [""]
    grouped: dict[Node, dict[Node, list[Node]]] = {}
    for s, p, o in triples:
        grouped.setdefault(s, {}).setdefault(p, []).append(o)
    for subject, predicates in grouped.items():
        parts = []
        for predicate, objects in predicates.items():
            verb = "a" if str(predicate) == RDF_TYPE else _turtle_iri(str(predicate))
            values = ", ".join(_turtle_iri(str(o)) if isinstance(o, rdflib.URIRef) else _term(o)
                               for o in objects)
            parts.append(f"{verb} {values}")
        lines.append(f"{_term(subject)} " + " ;\n    ".join(parts) + " .\n")
    return "\n".join(lines).encode()


@cache
def _terms() -> tuple[dict[str, list[tuple[str, dict[str, Any]]]], dict[str, str]]:
    """(property IRI -> [(term, definition)], class IRI -> term) from the shared context."""
    context = resources.context_document()["@context"]

    def expand(value: str) -> str:
        prefix, sep, local = value.partition(":")
        ns = context.get(prefix) if sep else None
        return ns + local if isinstance(ns, str) and not local.startswith("//") else value

    properties: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    classes: dict[str, str] = {}
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        if isinstance(definition, str):
            iri = expand(definition)
            if definition[-1:] not in ("#", "/") and term[:1].isupper():
                classes.setdefault(iri, term)
            continue
        if isinstance(definition, dict) and isinstance(definition.get("@id"), str) \
                and "@reverse" not in definition:
            defn = dict(definition)
            if isinstance(defn.get("@type"), str) and defn["@type"] not in ("@id", "@vocab"):
                defn["@type"] = expand(defn["@type"])
            properties.setdefault(expand(definition["@id"]), []).append((term, defn))
    return properties, classes


def _expanded_value(o: Node) -> dict[str, str]:
    if isinstance(o, rdflib.Literal):
        value = {"@value": str(o)}
        if o.language:
            value["@language"] = o.language
        elif o.datatype is not None and str(o.datatype) != XSD_STRING:
            value["@type"] = str(o.datatype)
        return value
    return {"@id": str(o) if isinstance(o, rdflib.URIRef) else f"_:{o}"}


def _compact_values(definition: dict[str, Any], objects: list[Node]) -> Any:
    """The compacted value(s) under a term, or None when the term does not fit them all."""
    kind, container = definition.get("@type"), definition.get("@container")
    if container == "@language":
        if not all(isinstance(o, rdflib.Literal) and (o.datatype is None) for o in objects):
            return None
        langs: dict[str, list[str]] = {}
        for o in objects:
            key = getattr(o, "language", None) or "@none"
            langs.setdefault(key, []).append(str(o))
        return {k: v[0] if len(v) == 1 else v for k, v in langs.items()}
    if container not in (None, "@set"):
        return None
    out: list[Any] = []
    for o in objects:
        if kind in ("@id", "@vocab"):
            if not isinstance(o, rdflib.URIRef):
                return None
            out.append(str(o))
        elif kind is not None:
            if not (isinstance(o, rdflib.Literal) and str(o.datatype) == kind):
                return None
            out.append(str(o))
        elif isinstance(o, rdflib.Literal) and not o.language and (
                o.datatype is None or str(o.datatype) == XSD_STRING):
            out.append(str(o))
        else:
            out.append(_expanded_value(o))
    return out[0] if len(out) == 1 and container is None else out


def _node_object(subject: Node, predicates: dict[Node, list[Node]], compact: bool
                 ) -> dict[str, Any]:
    properties, classes = _terms()
    if not compact:
        node: dict[str, Any] = {"@id": str(subject)}
        for p, objects in predicates.items():
            if str(p) == RDF_TYPE:
                node["@type"] = [str(o) for o in objects]
            else:
                node[str(p)] = [_expanded_value(o) for o in objects]
        return node
    node = {"id": str(subject)}
    for p, objects in predicates.items():
        if str(p) == RDF_TYPE and all(isinstance(o, rdflib.URIRef) for o in objects):
            names = [classes.get(str(o), str(o)) for o in objects]
            node["type"] = names[0] if len(names) == 1 else names
            continue
        for term, definition in properties.get(str(p), ()):
            value = _compact_values(definition, objects)
            if value is not None:
                node[term] = value
                break
        else:
            node[str(p)] = [_expanded_value(o) for o in objects]
    return node


def jsonld(triples: Sequence[Triple], main: str, compact: bool, nest: Node) -> bytes:
    """JSON-LD of a page: the container node, members nested under ``nest`` (ldp:contains)."""
    grouped: dict[Node, dict[Node, list[Node]]] = {}
    for s, p, o in triples:
        grouped.setdefault(s, {}).setdefault(p, []).append(o)
    subject = rdflib.URIRef(main)
    own = {p: objs for p, objs in grouped.get(subject, {}).items() if p != nest}
    top = _node_object(subject, own, compact)
    members = grouped.get(subject, {}).get(nest, [])
    nested = [_node_object(m, grouped.get(m, {}), compact) for m in members]
    key = "contains" if compact else str(nest)
    if nested:
        top[key] = nested
    others = [_node_object(s, preds, compact) for s, preds in grouped.items()
              if s != subject and s not in set(members)]
    doc: Any
    if compact:
        context = compaction.context_for(main)  # the node's own context URL
        body = {"@context": context, **top}
        doc = {"@context": context, "@graph": [top, *others]} if others else body
    else:
        doc = [top, *others]
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


def render(triples: Sequence[Triple], main: str, offer: str, *, compact: bool,
           contains: Node) -> bytes | None:
    """The page in ``offer``, or None for offers these writers do not produce (HTML)."""
    if offer == conneg.NTRIPLES:
        return ntriples(triples)
    if offer == conneg.TURTLE:
        return turtle(triples)
    if offer in (conneg.JSONLD, conneg.JSON):
        return jsonld(triples, main, compact, contains)
    if offer == conneg.JSONLD_EXPANDED:
        return jsonld(triples, main, False, contains)
    return None

