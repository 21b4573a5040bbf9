"""JSON-LD straight from triples: expanded and compacted, specialised to the shared context.

The node compacts every resource it stores with one context that it controls
(``ontology/context.jsonld``), so the general JSON-LD 1.1 compaction algorithm (pyld:
expand, inverse context, term selection, deep copies; ~12 ms for 20 triples) is done
here once per *shape* of value instead of once per value: the inverse context is
built once (JSON-LD 1.1 API 4.3), and term selection (4.3 "Term Selection") and IRI
compaction (4.4) are memoised. The output is the one pyld gives for the same expanded
document — same keys, same term choice, nodes used once embedded in their referrer —
except that values are in a fixed order (JSON-LD sets are unordered), so equal graphs
give equal bytes. ``tests/test_compaction.py`` checks both claims against pyld.

What this compactor does not express — RDF lists (``@list``), or a context using
features it does not implement — raises :class:`Unsupported`; callers then use pyld.

The ``@context`` a compacted document names is the URL where the node that holds the
document serves the shared context (``<base>context/v1``, :func:`context_for`), so that
a client with nothing but the node can dereference it (issue 10 item 4); the w3id IRI
stays the stable name writers use, and both parse as the bundled context
(``ddsnode.rdf.jsonld``). A document under no node's base (CLI, exports) names the w3id IRI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

import rdflib
from rdflib.term import Node

from ddsnode import resources

__all__ = ["Unsupported", "compacted", "context_for", "expanded", "grouped", "serve_context_at"]

Triple = tuple[Node, Node, Node]
Grouped = dict[Node, dict[str, list[Node]]]  # subject -> predicate IRI -> objects

RDF_TYPE = str(rdflib.RDF.type)
XSD_STRING = str(rdflib.XSD.string)
_LIST_TERMS = {str(rdflib.RDF.first), str(rdflib.RDF.rest)}
_NIL = rdflib.RDF.nil
_GEN_DELIM = re.compile(r".*[:/?#\[\]@]$")


class Unsupported(Exception):
    """The graph or the context needs a JSON-LD feature this compactor leaves to pyld."""


# --- the context's name ---------------------------------------------------------------

_SERVED_AT: dict[str, str] = {}  # a node's base IRI -> the URL it serves the context at


def serve_context_at(base: str, url: str) -> None:
    """Name ``url`` as the ``@context`` of documents under ``base`` (the node's app does,
    when it mounts the context document there)."""
    _SERVED_AT[base] = url


def context_for(iri: str | None) -> str:
    """The context URL to name in a compacted document about ``iri``: that of the node
    whose base is the longest prefix of ``iri``, else the shared context's w3id IRI."""
    best = ""
    for base in _SERVED_AT:
        if iri and iri.startswith(base) and len(base) > len(best):
            best = base
    return _SERVED_AT[best] if best else resources.CONTEXT_IRI


# --- the context, once ----------------------------------------------------------------


class _Context:
    """The shared context as the compaction algorithm reads it: terms, prefixes, inverse."""

    def __init__(self, context: dict[str, Any]) -> None:
        for key in context:
            if key.startswith("@") and key not in ("@version", "@protected"):
                raise Unsupported(f"context keyword {key}")  # @vocab, @base, @language …
        self.prefixes: dict[str, str] = {}  # prefix term -> IRI (JSON-LD 1.1, 4.2.2 step 14)
        self.terms: dict[str, dict[str, Any]] = {}  # term -> {"@id", "@type"?, "@container"?}
        raw = {k: v for k, v in context.items() if not k.startswith("@")}
        for term, value in raw.items():
            definition = {"@id": value} if isinstance(value, str) else dict(value)
            extra = set(definition) - {"@id", "@type", "@container"}
            if extra or definition.get("@container") not in (None, "@language"):
                raise Unsupported(f"term {term}: {sorted(extra) or definition['@container']}")
            iri = self._expand(raw, definition["@id"])
            entry = {"@id": iri}
            kind = definition.get("@type")
            if kind is not None:
                entry["@type"] = kind if kind in ("@id", "@vocab") else self._expand(raw, kind)
            if "@container" in definition:
                entry["@container"] = definition["@container"]
            self.terms[term] = entry
            if isinstance(value, str) and ":" not in term and _GEN_DELIM.match(iri):
                self.prefixes[term] = iri
        self.alias = {kw: self._alias(kw) for kw in ("@id", "@type", "@value", "@language",
                                                      "@graph", "@none")}
        # The inverse context (4.3): IRI -> container -> "@type"/"@language" -> value -> term,
        # the shortest (then least) term first.
        self.inverse: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
        for term in sorted(self.terms, key=lambda t: (len(t), t)):
            entry = self.terms[term]
            if entry["@id"].startswith("@"):
                continue
            container = entry.get("@container", "@none")
            maps = self.inverse.setdefault(entry["@id"], {}).setdefault(
                container, {"@type": {}, "@language": {}})
            if "@type" in entry:
                maps["@type"].setdefault(entry["@type"], term)
            else:
                maps["@language"].setdefault("@none", term)
                maps["@type"].setdefault("@none", term)

    @staticmethod
    def _expand(raw: dict[str, Any], value: str) -> str:
        if value.startswith("@"):
            return value
        prefix, sep, local = value.partition(":")
        if sep and not local.startswith("//"):
            ns = raw.get(prefix)
            if isinstance(ns, str):
                return ns + local
            if ns is not None:
                raise Unsupported(f"prefix {prefix} is not a plain IRI")
        return value

    def _alias(self, keyword: str) -> str:
        names = sorted((t for t, e in self.terms.items() if e["@id"] == keyword),
                       key=lambda t: (len(t), t))
        return names[0] if names else keyword

    def compact_iri(self, iri: str, vocab: bool) -> str:
        """IRI compaction (4.4) with no value: a term (vocab only), a compact IRI, or ``iri``."""
        if vocab:
            for container in ("@none",):  # value None: containers @set, @none (none has @set)
                maps = self.inverse.get(iri, {}).get(container)
                if maps is not None:
                    for pref in ("@id", "@none"):
                        if pref in maps["@type"]:
                            return maps["@type"][pref]
        return self.curie(iri, value_is_none=True)

    def curie(self, iri: str, value_is_none: bool) -> str:
        """The shortest, then least, usable compact IRI for ``iri``, or ``iri`` itself."""
        best: str | None = None
        for prefix, ns in self.prefixes.items():
            if iri == ns or not iri.startswith(ns):
                continue
            candidate = prefix + ":" + iri[len(ns):]
            mapped = self.terms.get(candidate)
            usable = mapped is None or (value_is_none and mapped["@id"] == iri)
            if usable and (best is None or (len(candidate), candidate) < (len(best), best)):
                best = candidate
        if best is None and iri.split(":", 1)[0] in self.prefixes:
            # "geo:45,4" would read back as a compact IRI (4.4 step 9: an error in pyld).
            raise Unsupported(f"IRI {iri[:100]} could be confused with a compact IRI")
        return best if best is not None else iri

    def is_term_iri(self, iri: str) -> bool:
        """Whether ``iri`` compacts (vocab-relative) to a term defined as ``iri``."""
        term = self.compact_iri(iri, True)
        entry = self.terms.get(term)
        return entry is not None and entry["@id"] == iri

    def select(self, predicate: str, kind: str, detail: str) -> str | None:
        """Term selection (4.3) for a value of ``kind``: iri / node / lang / typed / plain."""
        if kind in ("iri", "node"):
            containers: tuple[str, ...] = ("@set", "@none")
            which = "@type"
            if kind == "node":  # an embedded blank node: no @id to try as a term
                prefs: tuple[str, ...] = ("@id", "@none")
            else:
                prefs = ("@vocab", "@id", "@none") if self.is_term_iri(detail) else \
                    ("@id", "@vocab", "@none")
        elif kind == "lang":
            containers, which, prefs = ("@language", "@language@set", "@set", "@none"), \
                "@language", (detail, "@none")
        elif kind == "typed":
            containers, which, prefs = ("@set", "@none"), "@type", (detail, "@none")
        else:
            containers, which, prefs = ("@set", "@none", "@language", "@language@set"), \
                "@language", ("@null", "@none")
        by_container = self.inverse.get(predicate)
        if by_container is None:
            return None
        for container in containers:
            maps = by_container.get(container)
            if maps is None:
                continue
            for pref in prefs:
                term = maps[which].get(pref)
                if term is not None:
                    return term
        return None


@cache
def _context() -> _Context:
    return _Context(resources.context_document()["@context"])


@lru_cache(maxsize=65536)
def _compact_iri(iri: str, vocab: bool) -> str:
    return _context().compact_iri(iri, vocab)


@lru_cache(maxsize=65536)
def _property_key(predicate: str, kind: str, detail: str) -> tuple[str, dict[str, Any] | None]:
    """The key a value goes under, and its term definition (None: a compact/full IRI)."""
    ctx = _context()
    term = ctx.select(predicate, kind, detail)
    if term is not None:
        return term, ctx.terms[term]
    return ctx.curie(predicate, value_is_none=False), None


# --- triples to nodes -------------------------------------------------------------------


def grouped(triples: Iterable[Triple]) -> Grouped:
    """Subject -> predicate IRI -> objects; refuses RDF lists (pyld turns them into @list)."""
    out: Grouped = {}
    for s, p, o in triples:
        ps = str(p)
        if ps in _LIST_TERMS or o == _NIL:
            raise Unsupported("RDF list")
        out.setdefault(s, {}).setdefault(ps, []).append(o)
    return out


def _id(node: Node) -> str:
    return f"_:{node}" if isinstance(node, rdflib.BNode) else str(node)


def _value_order(o: Node) -> tuple[int, str, str]:
    if isinstance(o, rdflib.Literal):
        return (1, str(o), o.language or str(o.datatype or ""))
    return (0, _id(o), "")


def _embedding(nodes: Grouped, main: Node | None) -> tuple[list[Node], set[Node]]:
    """Top-level subjects (main first, then IRIs, then blank nodes) and the embedded ones:
    a subject referenced exactly once (not ``main``) nests inside its referrer."""
    refs: dict[Node, int] = {}
    for predicates in nodes.values():
        for p, objects in predicates.items():
            if p == RDF_TYPE:
                continue
            for o in objects:
                if not isinstance(o, rdflib.Literal):
                    refs[o] = refs.get(o, 0) + 1
    placed: set[Node] = set()
    embedded: set[Node] = set()

    def visit(subject: Node) -> None:
        for p, objects in nodes[subject].items():
            if p == RDF_TYPE:
                continue
            for o in sorted(objects, key=_value_order):
                if (o in nodes and o != main and refs.get(o) == 1 and o not in placed
                        and not isinstance(o, rdflib.Literal)):
                    placed.add(o)
                    embedded.add(o)
                    visit(o)

    roots = sorted(nodes, key=lambda n: (n != main, isinstance(n, rdflib.BNode), _id(n)))
    top = []
    for subject in roots:
        if subject in placed:
            continue
        placed.add(subject)
        visit(subject)
        top.append(subject)
    return top, embedded


# --- expanded form ----------------------------------------------------------------------


def _expanded_value(o: Node, nodes: Grouped, embedded: set[Node]) -> dict[str, Any]:
    if isinstance(o, rdflib.Literal):
        value: dict[str, Any] = {"@value": str(o)}
        if o.language:
            value["@language"] = o.language
        elif o.datatype is not None and str(o.datatype) != XSD_STRING:
            value["@type"] = str(o.datatype)
        return value
    if o in embedded:
        return _expanded_node(o, nodes, embedded, nested=True)
    return {"@id": _id(o)}


def _expanded_node(subject: Node, nodes: Grouped, embedded: set[Node], *,
                   nested: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if not (nested and isinstance(subject, rdflib.BNode)):
        node["@id"] = _id(subject)
    predicates = nodes[subject]
    types = [o for o in predicates.get(RDF_TYPE, ()) if not isinstance(o, rdflib.Literal)]
    if types:
        node["@type"] = sorted(_id(t) for t in types)
    for p in sorted(predicates):
        objects = [o for o in predicates[p] if not (p == RDF_TYPE and o in types)]
        if objects:
            node[p] = [_expanded_value(o, nodes, embedded)
                       for o in sorted(objects, key=_value_order)]
    return node


def expanded(triples: Iterable[Triple], main: str | None = None) -> list[dict[str, Any]]:
    """Expanded JSON-LD (RDF to object conversion), nodes used once embedded, main first."""
    nodes = grouped(triples)
    top, embedded = _embedding(nodes, rdflib.URIRef(main) if main else None)
    return [_expanded_node(s, nodes, embedded) for s in top]


# --- compacted form ---------------------------------------------------------------------


def _kind(o: Node, embedded: set[Node]) -> tuple[str, str]:
    if isinstance(o, rdflib.Literal):
        if o.language:
            return "lang", o.language.lower()
        if o.datatype is not None and str(o.datatype) != XSD_STRING:
            return "typed", str(o.datatype)
        return "plain", ""
    if isinstance(o, rdflib.BNode) and o in embedded:
        return "node", ""
    return "iri", _id(o)


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]


def _compacted_node(subject: Node, nodes: Grouped, embedded: set[Node], *,
                    nested: bool = False) -> dict[str, Any]:
    ctx = _context()
    alias = ctx.alias
    out: dict[str, Any] = {}
    if not (nested and isinstance(subject, rdflib.BNode)):
        out[alias["@id"]] = _compact_iri(_id(subject), False)
    predicates = nodes[subject]
    types = [o for o in predicates.get(RDF_TYPE, ()) if not isinstance(o, rdflib.Literal)]
    if types:
        names = [_compact_iri(t, True) for t in sorted(_id(t) for t in types)]
        out[alias["@type"]] = names[0] if len(names) == 1 else names
    for p in sorted(predicates):
        for o in sorted(predicates[p], key=_value_order):
            if p == RDF_TYPE and not isinstance(o, rdflib.Literal):
                continue
            kind, detail = _kind(o, embedded)
            key, term = _property_key(p, kind, detail)
            container = term.get("@container") if term else None
            if container == "@language":
                language_map = out.setdefault(key, {})
                _add(language_map, detail if kind == "lang" else alias["@none"], str(o))
                continue
            _add(out, key, _compacted_value(o, kind, detail, term, nodes, embedded))
    return out


def _compacted_value(o: Node, kind: str, detail: str, term: dict[str, Any] | None,
                     nodes: Grouped, embedded: set[Node]) -> Any:
    """Value compaction (JSON-LD 1.1 API 6.3) under a selected term (None: no term)."""
    alias = _context().alias
    declared = term.get("@type") if term else None
    if o in embedded:
        return _compacted_node(o, nodes, embedded, nested=True)
    if kind == "iri":
        if declared in ("@id", "@vocab"):
            return _compact_iri(detail, declared == "@vocab")
        return {alias["@id"]: _compact_iri(detail, False)}
    if kind == "typed":
        if declared == detail:
            return str(o)
        # Keys in pyld's order: sorted by their expanded form (@type before @value).
        return {alias["@type"]: _compact_iri(detail, True), alias["@value"]: str(o)}
    if kind == "lang":
        return {alias["@language"]: detail, alias["@value"]: str(o)}
    return str(o)


def compacted(triples: Iterable[Triple], main: str | None = None, *,
              context: str | None = None) -> dict[str, Any]:
    """Compacted JSON-LD with the shared context; ``@context`` is ``context``, by default
    the URL the node holding ``main`` serves it at (:func:`context_for`)."""
    name = context or context_for(main)
    nodes = grouped(triples)
    top, embedded = _embedding(nodes, rdflib.URIRef(main) if main else None)
    compact = [_compacted_node(s, nodes, embedded) for s in top]
    if len(compact) == 1:
        # A single top node: no @graph wrapper (JSON-LD 1.1 API, compaction 9.3).
        return {"@context": name, **compact[0]}
    return {"@context": name, _context().alias["@graph"]: compact}
