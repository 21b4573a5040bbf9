"""JSON-LD with bundled contexts only, and RDF parsing of request bodies.

A JSON-LD document may name a remote ``@context``; fetching it would let any client
make the node connect to an address of its choosing (SSRF), so the loader resolves only
contexts bundled with ddsnode (the shared context, under its IRI) and refuses the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import rdflib
from pyld import jsonld

from ddsnode import rdfio, resources
from ddsnode.problem import BadRequest, Unprocessable


class RemoteContextRefused(Unprocessable):
    """A document names a context that is not bundled with the node."""

    slug, title = "remote-context-refused", "Remote JSON-LD contexts are not fetched"


def bundled_contexts() -> dict[str, dict[str, Any]]:
    """IRI -> context document for every context the node resolves (no network)."""
    doc = resources.context_document()
    iri = resources.CONTEXT_IRI
    return {iri: doc, iri + ".jsonld": doc, iri + "/": doc}


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that serves bundled contexts and refuses everything else."""
    doc = bundled_contexts().get(url)
    if doc is None:
        raise RemoteContextRefused(
            f"The context {url[:200]!r} is not one this node bundles, and the node never "
            f"fetches contexts from the network. Use \"@context\": \"{resources.CONTEXT_IRI}\" "
            "(the shared Democracy Data Space context) or an inline context object.")
    return {"contextUrl": None, "documentUrl": url, "document": doc}


Loader = Callable[[str, dict[str, Any] | None], dict[str, Any]]


def _options(base: str | None, loader: Loader = document_loader) -> dict[str, Any]:
    opts: dict[str, Any] = {"documentLoader": loader}
    if base:
        opts["base"] = base
    return opts


def _unwrap(e: Exception) -> Exception | None:
    """The RemoteContextRefused behind pyld's wrapped errors, if any."""
    seen: set[int] = set()
    cur: Any = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, RemoteContextRefused):
            return cur
        cur = getattr(cur, "cause", None) or cur.__cause__ or cur.__context__
    return None


def _dataset(document: Any, base: str | None, loader: Loader = document_loader) -> dict[str, Any]:
    try:
        dataset: dict[str, Any] = jsonld.to_rdf(document, _options(base, loader))
    except jsonld.JsonLdError as e:
        refused = _unwrap(e)
        if refused is not None:
            raise refused from None
        raise BadRequest(f"Invalid JSON-LD: {str(e)[:300]}") from None
    return dataset


def _term(node: dict[str, Any]) -> rdflib.term.Node:
    kind, value = node["type"], node["value"]
    if kind == "IRI":
        return rdflib.URIRef(value)
    if kind == "blank node":
        return rdflib.BNode(value[2:] if value.startswith("_:") else value)
    if node.get("language"):
        return rdflib.Literal(value, lang=node["language"])
    datatype = node.get("datatype")
    if datatype and datatype != str(rdflib.XSD.string):
        return rdflib.Literal(value, datatype=rdflib.URIRef(datatype))
    return rdflib.Literal(value)


def jsonld_to_graph(document: Any, base: str | None = None, *,
                    loader: Loader = document_loader) -> rdflib.Graph:
    """A JSON-LD document (parsed JSON) as a graph; named graphs are refused (one resource).

    ``loader`` resolves contexts (default: the bundled ones only); the authoring tools pass
    one that serves a working copy's context."""
    dataset = _dataset(document, base, loader)
    named = [name for name, triples in dataset.items() if name != "@default" and triples]
    if named:
        raise BadRequest("Named graphs are not accepted: a document describes one resource "
                         f"(found graph {named[0][:200]!r}).")
    graph = rdfio.new_graph()
    for t in dataset.get("@default", []):
        graph.add((_term(t["subject"]), _term(t["predicate"]), _term(t["object"])))
    return graph


def parse_rdf(data: bytes | str, fmt: str, base: str | None = None) -> rdflib.Graph:
    """Parse a body in ``fmt`` (json-ld, turtle, nt) into a graph; BadRequest on bad syntax."""
    if fmt == "json-ld":
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"The body is not valid JSON: {e}") from None
        return jsonld_to_graph(document, base)
    if fmt in rdfio.FORMATS:
        return rdfio.parse(data, fmt, base)
    graph = rdflib.Graph()
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        graph.parse(data=text, format=fmt, publicID=base)
    except Exception as e:  # rdflib raises many types for bad syntax
        raise BadRequest(f"Invalid {fmt}: {str(e)[:300]}") from None
    return graph


def compact(expanded_or_doc: Any) -> dict[str, Any]:
    """Compact a JSON-LD document with the shared context; ``@context`` is the context IRI."""
    result: dict[str, Any] = jsonld.compact(expanded_or_doc, resources.context_document(),
                                            {"documentLoader": document_loader})
    result["@context"] = resources.CONTEXT_IRI
    return result
