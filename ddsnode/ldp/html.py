"""A readable HTML page for a resource: title, types, properties with links, members.

No external assets (one stylesheet, served by the node), no inline style or script,
everything escaped. Property and class IRIs are shown as compact
names of the shared context (``dct:title``) and link to their full IRI.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from html import escape

import rdflib
from rdflib.term import Node

from ddsnode import resources
from ddsnode.rdf.vocab import RDF

# Served by the node (ddsnode/http/assets.py): the pages' Content-Security-Policy allows
# no inline style or script (style-src 'self').
STYLESHEET = "/assets/page.css"


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    pairs = [(ns, name) for name, ns in resources.context_document()["@context"].items()
             if isinstance(ns, str) and not name.startswith("@") and ns[-1:] in ("#", "/")]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def short(iri: str) -> str:
    """A compact name (``dds:Proposal``) for an IRI under a context prefix, else the IRI."""
    for ns, name in _prefixes():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{name}:{iri[len(ns):]}"
    return iri


def _link(iri: str, text: str | None = None) -> str:
    label = escape(text or short(iri))
    if not iri.startswith(("http://", "https://")):
        return f"<code>{label}</code>"  # never a javascript: (or other scheme) link
    return f'<a href="{escape(iri)}">{label}</a>'


def _value(node: Node) -> str:
    if isinstance(node, rdflib.URIRef):
        return _link(str(node))
    if isinstance(node, rdflib.Literal):
        lang = f' <span class="lang">@{escape(node.language)}</span>' if node.language else ""
        return f"{escape(str(node))}{lang}"
    return "<em>(nested)</em>"


def _rows(graph: rdflib.Graph, subject: Node, depth: int = 0) -> str:
    rows = []
    for predicate in sorted(set(graph.predicates(subject)), key=str):
        cells = []
        for obj in sorted(graph.objects(subject, predicate), key=str):
            if isinstance(obj, rdflib.BNode) and depth < 3:
                cells.append(f"<table>{_rows(graph, obj, depth + 1)}</table>")
            else:
                cells.append(_value(obj))
        rows.append(f"<tr><th>{_link(str(predicate))}</th><td>{'<br>'.join(cells)}</td></tr>")
    return "".join(rows)


def page(graph: rdflib.Graph, main: str, title: str,
         listing: Iterable[tuple[str, str, tuple[str, ...]]] | None = None) -> str:
    """The HTML page of resource ``main`` described by ``graph``; ``listing`` for containers."""
    subject = rdflib.URIRef(main)
    types = ", ".join(_link(str(t)) for t in sorted(graph.objects(subject, RDF.type), key=str))
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title or main)}</title>",
        f'<link rel="stylesheet" href="{STYLESHEET}">',
        f'<link rel="alternate" type="text/turtle" href="{escape(main)}">',
        # One main landmark holding the content: screen readers jump to it, and it is
        # how the page lets keyboard users bypass repeated blocks (WCAG 2.1, 2.4.1; ARIA11).
        "</head><body><main>",
        f"<h1>{escape(title or main)}</h1>",
        f"<p><code>{_link(main, main)}</code></p>",
    ]
    if types:
        parts.append(f"<p>Type: {types}</p>")
    parts.append(f"<table>{_rows(graph, subject)}</table>")
    others = sorted({s for s in graph.subjects() if isinstance(s, rdflib.URIRef)
                     and s != subject}, key=str)
    for other in others:
        anchor = escape(other.partition("#")[2])
        parts.append(f'<h2 id="{anchor}">{_link(str(other), str(other))}</h2>')
        parts.append(f"<table>{_rows(graph, other)}</table>")
    if listing is not None:
        items = [f"<li>{_link(iri, item_title or iri)} "
                 f"<span class=\"lang\">{escape(', '.join(short(t) for t in types_))}</span></li>"
                 for iri, item_title, types_ in listing]
        parts.append("<h2>Members</h2>")
        parts.append(f"<ul>{''.join(items)}</ul>" if items else "<p>No members.</p>")
    parts.append("<p><small>Also available as JSON-LD, Turtle and N-Triples "
                 "(content negotiation on <code>Accept</code>).</small></p>"
                 "</main></body></html>")
    return "\n".join(parts)
