"""JSON-LD with bundled contexts only, and RDF parsing of request bodies.

A JSON-LD document may name a remote ``@context``; fetching it would let any client
make the node connect to an address of its choosing (SSRF), so the loader resolves only
contexts bundled with ddsnode (the shared context, under its w3id IRI or under a node's
own ``/context/v1`` URL) and refuses the rest.

Parsing goes through pyoxigraph's JSON-LD 1.1 parser (Rust): its cost grows linearly
with the document, where pyld's toRdf is quadratic in the length of an array
(n = 8,000 values: 64 s; ``bench/jsonld_parse.py``). The bundled context is put inline
in place of its IRI before parsing, so the parser never needs a document loader; a
context IRI left over is refused (:class:`RemoteContextRefused`). A document whose one
context is the bundled one gets it cut to the terms it can reach
(:mod:`ddsnode.rdf.context_cut`: the same triples in about half the time); anything the
cut way refuses is parsed again the whole way, so refusals are the whole way's. Before parsing, one
walk of the JSON bounds its nesting depth and its number of values
(:class:`JsonLdLimits`, settings ``jsonld_max_depth`` and ``jsonld_max_values``), so
no document makes the parser recurse without end or build an unbounded graph.

Errors::

    BadRequest (400)            not JSON, not JSON-LD, a named graph
      InvalidTerm (400)         a term that is not RDF 1.1 (ddsnode.rdf.rdfterms)
    PayloadTooLarge (413)
      DocumentTooComplex        deeper or with more values than the limits
    Unprocessable (422)
      RemoteContextRefused      a context the node does not bundle
      NoStatements              JSON-LD that yields no triple (e.g. no @context)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
import rdflib
from pyld import jsonld

from ddsnode import resources
from ddsnode.paths import CONTEXT_PATH
from ddsnode.problem import BadRequest, PayloadTooLarge, Problem, Unprocessable
from ddsnode.rdf import context_cut, rdfio, rdfterms
from ddsnode.settings import SETTINGS

__all__ = ["DocumentTooComplex", "JsonLdLimits", "NoStatements", "RemoteContextRefused",
           "bundled_contexts", "compact", "document_loader", "is_own_context", "jsonld_to_graph",
           "load_json", "parse_document", "parse_rdf"]


class RemoteContextRefused(Unprocessable):
    """A document names a context that is not bundled with the node."""

    slug, title = "remote-context-refused", "Remote JSON-LD contexts are not fetched"


class DocumentTooComplex(PayloadTooLarge):
    """A JSON document nested deeper, or with more values, than the node parses."""

    slug, title = "document-too-complex", "The JSON document is too deep or too large"


class NoStatements(Unprocessable):
    """JSON-LD that yields no RDF statement: storing it would lose the client's bytes."""

    slug, title = "no-rdf-statements", "The document has no RDF statements"


def _default(name: str) -> int:
    return int(next(s.default for s in SETTINGS if s.name == name))


@dataclass(frozen=True)
class JsonLdLimits:
    """Bounds checked before a JSON-LD document is parsed (413 above either)."""

    max_depth: int = _default("jsonld_max_depth")
    max_values: int = _default("jsonld_max_values")

    @classmethod
    def from_settings(cls, settings: Any) -> JsonLdLimits:
        """The limits of a node's resolved :class:`ddsnode.settings.Settings`."""
        return cls(int(settings.jsonld_max_depth), int(settings.jsonld_max_values))


DEFAULT_LIMITS = JsonLdLimits()


def bundled_contexts() -> dict[str, dict[str, Any]]:
    """IRI -> context document for every context the node resolves (no network)."""
    doc = resources.context_document()
    iri = resources.CONTEXT_IRI
    return {iri: doc, iri + ".jsonld": doc, iri + "/": doc}


def is_own_context(url: str, base: str | None) -> bool:
    """Whether ``url`` is a node's own copy of the shared context (``<node>/context/v1``)
    for a document at ``base``: the node that serves the document serves that context.

    Compacted documents name their node's context URL (so that a client with nothing
    but the node can read them); a document read back, or a peer's document, must parse
    with the bundled context and without a fetch."""
    if not base or not url.endswith("/" + CONTEXT_PATH):
        return False
    node = url[:-len(CONTEXT_PATH)]
    return node.startswith(("http://", "https://")) and base.startswith(node)


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that serves bundled contexts and refuses everything else."""
    doc = bundled_contexts().get(url)
    if doc is None:
        raise _refused(url)
    return {"contextUrl": None, "documentUrl": url, "document": doc}


def _refused(url: str) -> RemoteContextRefused:
    return RemoteContextRefused(
        f"The context {url[:200]!r} is not one this node bundles, and the node never "
        f"fetches contexts from the network. Use \"@context\": \"{resources.CONTEXT_IRI}\" "
        "(the shared Democracy Data Space context) or an inline context object.")


Loader = Callable[[str, dict[str, Any] | None], dict[str, Any]]


# --- before parsing: one walk that bounds the document and inlines its contexts ----------


def _resolver(base: str | None, loader: Loader | None) -> Callable[[str], Any]:
    def resolve(url: str) -> Any:
        if loader is not None:
            found = loader(url, None)["document"]
        elif url in bundled_contexts() or is_own_context(url, base):
            found = resources.context_document()
        else:
            raise _refused(url)
        return found["@context"] if isinstance(found, dict) and "@context" in found else found
    return resolve


def _inline(value: Any, resolve: Callable[[str], Any]) -> tuple[Any, list[Any]]:
    """A ``@context`` value with bundled IRIs replaced by their context, and the objects
    inside it still to walk (local term definitions may hold scoped contexts, @import)."""
    if isinstance(value, str):
        return resolve(value), []
    if isinstance(value, list):
        out = [resolve(v) if isinstance(v, str) else v for v in value]
        return out, [v for v, raw in zip(out, value) if not isinstance(raw, str)]
    if isinstance(value, dict):
        if isinstance(value.get("@import"), str):
            # JSON-LD 1.1 API 4.1.2 step 5.6: @import names a context to merge; the bundled
            # one is merged here, so the parser sees only local definitions.
            imported = resolve(value["@import"])
            value = {**imported, **{k: v for k, v in value.items() if k != "@import"}} \
                if isinstance(imported, dict) else value
        return value, [value]
    return value, []


def _prepare(document: Any, limits: JsonLdLimits,
             resolve: Callable[[str], Any] | None) -> None:
    """Refuse a document deeper or larger than ``limits``; inline bundled contexts in place.

    Iterative (an explicit stack), so that a deep document is counted, not recursed into."""
    if not isinstance(document, (dict, list)):
        return
    stack: list[tuple[Any, int]] = [(document, 1)]
    values = 1
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise DocumentTooComplex(
                f"The JSON is nested deeper than {limits.max_depth} levels "
                "(setting jsonld_max_depth); flatten the document.")
        if isinstance(value, dict):
            if "@context" in value and resolve is not None:
                value["@context"], walk = _inline(value["@context"], resolve)
                stack.extend((v, depth + 1) for v in walk)
            items = [v for k, v in value.items() if k != "@context"]
        else:
            items = value
        values += len(items)
        if values > limits.max_values:
            raise DocumentTooComplex(
                f"The JSON has more than {limits.max_values} values (setting "
                "jsonld_max_values); split the data into several resources.")
        stack.extend((v, depth + 1) for v in items if isinstance(v, (dict, list)))


# --- parsing ---------------------------------------------------------------------------


def load_json(data: bytes | str, limits: JsonLdLimits = DEFAULT_LIMITS) -> Any:
    """Decode JSON from a client or a peer (an activity, a feed page): BadRequest when it is
    not JSON, DocumentTooComplex (413) past ``limits`` — never a RecursionError."""
    document = _decode(data)
    _prepare(document, limits, None)
    return document


def _decode(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:  # nesting deeper than the interpreter's stack
        raise DocumentTooComplex("The JSON is nested too deeply to parse "
                                 "(setting jsonld_max_depth).") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(f"The body is not valid JSON: {str(e)[:300]}") from None


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@lru_cache(maxsize=65536)
def _relative(iri: str) -> bool:
    return _SCHEME.match(iri) is None


def _graph(document: Any, base: str | None) -> rdflib.Graph:
    graph = rdfio.new_graph()
    labels: dict[str, rdflib.BNode] = {}

    def term(t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            # Labels in order of first use (b0, b1 …): equal documents give equal
            # N-Triples, as pyld's label issuer did (pyoxigraph's are random).
            found = labels.get(t.value)
            if found is None:
                found = labels[t.value] = rdflib.BNode(f"b{len(labels)}")
            return found
        return rdfio.from_ox(t)

    def dropped(quad: ox.Quad) -> bool:
        # A key that is no term of the context, or an @id left relative (no base), is not
        # an IRI: JSON-LD 1.1 API 8.1 ("Deserialize JSON-LD to RDF", steps 1.3.1, 1.3.2.1
        # and 1.3.2.5) drops such triples, as pyld did.
        s, o = quad.subject, quad.object
        return (_relative(quad.predicate.value)
                or (type(s) is ox.NamedNode and _relative(s.value))
                or (type(o) is ox.NamedNode and _relative(o.value)))

    try:
        # lenient: any other term that is not RDF (an @id with a space, en_US) comes
        # through to rdfterms.check_graph, which names it in a 400, where the strict
        # parser would drop it silently and the client's data would be lost.
        quads = ox.parse(json.dumps(document), format=ox.RdfFormat.JSON_LD, base_iri=base,
                         without_named_graphs=True, lenient=True)
        for quad in quads:
            if not dropped(quad):
                graph.add((term(quad.subject), term(quad.predicate), term(quad.object)))
    except SyntaxError as e:
        message = str(e.msg)
        if "LoadDocumentCallback" in message:  # a context IRI the walk did not reach
            raise RemoteContextRefused(
                "The document names a context this node does not bundle, and the node "
                f"never fetches contexts from the network. Use \"@context\": "
                f"\"{resources.CONTEXT_IRI}\" or an inline context object.") from None
        if "Named graphs" in message:
            raise BadRequest("Named graphs are not accepted: a document describes one "
                             "resource (an @id beside @graph names a graph).") from None
        raise BadRequest(f"Invalid JSON-LD: {message[:300]}") from None
    except ValueError as e:
        raise BadRequest(f"Invalid JSON-LD: {str(e)[:300]}") from None
    return graph


def _cut_way(document: Any, base: str | None, limits: JsonLdLimits) -> rdflib.Graph | None:
    """The graph of a document in the bundled context parsed with the context cut to its
    terms; None when it is not such a document, or when the cut way refuses it or finds
    nothing (the whole way then gives its own answer)."""
    cut = context_cut.cut_document(
        document, lambda url: url in bundled_contexts() or is_own_context(url, base))
    if cut is None:
        return None
    # The limits on the document as it came: the same walk, and so the same 413, as the
    # whole way's (a context given as an IRI is not counted there either).
    _prepare(document, limits, None)
    try:
        graph = _graph(cut, base)
        rdfterms.check_graph(graph, where="JSON-LD")
    except Problem:
        return None
    return graph if len(graph) else None


def jsonld_to_graph(document: Any, base: str | None = None, *,
                    loader: Loader | None = None,
                    limits: JsonLdLimits = DEFAULT_LIMITS,
                    cut_context: bool = True) -> rdflib.Graph:
    """A JSON-LD document (parsed JSON, which may be changed in place) as a graph; named
    graphs refused.

    ``loader`` resolves context IRIs (default: the bundled context only); the authoring
    tools pass one that serves a working copy's context. ``cut_context=False`` always
    inlines the whole context: the reference the cut way is tested and measured against."""
    if loader is None and cut_context:
        graph = _cut_way(document, base, limits)
        if graph is not None:
            return graph
    _prepare(document, limits, _resolver(base, loader))
    graph = _graph(document, base)
    rdfterms.check_graph(graph, where="JSON-LD")
    return graph


def _require_context(document: Any) -> None:
    """NoStatements naming the keys of a top-level object without "@context": a key is a
    term only if a context defines it (JSON-LD 1.1, 4.1), else it is dropped or misread as
    a relative IRI. Keywords and absolute IRIs (expanded JSON-LD) need no context."""
    for node in document if isinstance(document, list) else [document]:
        if isinstance(node, dict) and "@context" not in node:
            keys = [k for k in node if isinstance(k, str) and not k.startswith("@") and ":" not in k]
            if keys:
                raise NoStatements(
                    'The document has no "@context", so none of its keys ('
                    + ", ".join(f'"{k}"' for k in keys[:5]) + ") is understood. Add "
                    f'"@context": "{resources.CONTEXT_IRI}" to the top-level object.')


def parse_document(data: bytes | str, base: str | None = None, *,
                   limits: JsonLdLimits = DEFAULT_LIMITS,
                   cut_context: bool = True) -> rdflib.Graph:
    """A JSON-LD body as a graph, in time linear in its size; call it off the event loop.

    Every way JSON-LD comes in (HTTP writes, peers' documents, imports) goes through
    here: 400 for bad JSON or JSON-LD, 413 past ``limits``, 422 for a remote context or
    a document that yields no triple. ``cut_context``: see :func:`jsonld_to_graph`."""
    document = _decode(data)
    _require_context(document)
    graph = jsonld_to_graph(document, base, limits=limits, cut_context=cut_context)
    if not len(graph):
        raise NoStatements(
            "The JSON-LD yields no RDF statement, so nothing of it could be stored. "
            f"Name the shared context (\"@context\": \"{resources.CONTEXT_IRI}\") so that "
            "its terms are understood, and give the resource an \"id\".")
    return graph


def parse_rdf(data: bytes | str, fmt: str, base: str | None = None, *,
              limits: JsonLdLimits = DEFAULT_LIMITS) -> rdflib.Graph:
    """Parse a body in ``fmt`` (json-ld, turtle, nt) into a graph; BadRequest on bad syntax."""
    if fmt == "json-ld":
        return parse_document(data, base, limits=limits)
    if fmt in rdfio.FORMATS:
        return rdfio.parse(data, fmt, base)
    graph = rdflib.Graph()
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        graph.parse(data=text, format=fmt, publicID=base)
    except Exception as e:  # noqa: BLE001 — rdflib raises many types for bad syntax
        raise BadRequest(f"Invalid {fmt}: {str(e)[:300]}") from None
    return graph


def compact(expanded_or_doc: Any, context_url: str = resources.CONTEXT_IRI) -> dict[str, Any]:
    """Compact a JSON-LD document with the shared context; ``@context`` is ``context_url``
    (pyld's general algorithm: the reference for ``ddsnode.rdf.compaction``, and its fallback)."""
    result: dict[str, Any] = jsonld.compact(expanded_or_doc, resources.context_document(),
                                            {"documentLoader": document_loader})
    result["@context"] = context_url
    return result
