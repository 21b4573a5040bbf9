"""JSON-LD tallies parsed with the shared context cut to the terms they use.

A tally names the shared context (``"@context": "https://w3id.org/dds/context/v1"``);
the JSON-LD parser (:mod:`ddsnode.rdf.jsonld`) puts its 351 term definitions inline and
processes all of them for every document: about 1 ms of a 2 ms parse, twice per tally
(the submission, then the ``ContestResult`` the intake writes). A tally uses a dozen.

:func:`used_context` keeps the definitions a document can reach — every term whose name
is one of the document's keys or strings (or the prefix of one), the keywords
(``@vocab``, ``@version`` …), and, again, every term named inside a kept definition —
computed once per context document and set of names (bounded LRU cache). JSON-LD 1.1
looks a term up only by such a name (Processing Algorithms 4.1 "Create Term Definition"
and 5.2 "IRI Expansion": a key, a ``@type`` or ``@vocab`` value, or the prefix of a
compact IRI), so the rest of the context cannot change the triples.

What is accepted does not change: :func:`parse_tally` checks the size limits on the
document as it came (the same walk as the full parser), takes the fast way only for a
document whose one context is the bundled one, and any refusal or empty result on the
fast way is answered by the full parser (its 400/413/422, word for word).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import rdflib

from ddsnode import resources
from ddsnode.problem import Problem
from ddsnode.rdf.jsonld import (
    JsonLdLimits,
    bundled_contexts,
    is_own_context,
    jsonld_to_graph,
    load_json,
    parse_document,
)

__all__ = ["CACHED_CUTS", "parse_tally", "shared_context", "used_context", "with_used_context"]

CACHED_CUTS = 256  # distinct (context, names) pairs kept: tallies come in a few shapes


def _strings(value: Any) -> Iterator[str]:
    """Every key and string in ``value``, at any depth (an explicit stack)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            yield from (k for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str):
            yield v


def _names(strings: Iterator[str]) -> set[str]:
    """The strings and the prefixes of those that look like compact IRIs."""
    out = set()
    for s in strings:
        out.add(s)
        if ":" in s:
            out.add(s.split(":", 1)[0])
    return out


_contexts: dict[str, dict[str, Any]] = {}  # digest -> context object (a few at most)
_read: dict[tuple[str, int, int], tuple[str, dict[str, Any]]] = {}  # file stat -> context


def shared_context() -> tuple[str, dict[str, Any]]:
    """(SHA-256 of its JSON, the object) of the bundled context: read again only when
    its file changed (the authoring tools rewrite it)."""
    path = resources.context_path()
    info = path.stat()
    key = (str(path), info.st_mtime_ns, info.st_size)
    found = _read.get(key)
    if found is None:
        context = resources.context_document()["@context"]
        digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest()
        _read.clear()
        found = _read[key] = (digest, _contexts.setdefault(digest, context))
    return found


@lru_cache(maxsize=CACHED_CUTS)
def _cut(digest: str, names: frozenset[str]) -> dict[str, Any]:
    context = _contexts[digest]
    kept = {k: v for k, v in context.items() if k.startswith("@")}
    todo = [n for n in names if n in context and n not in kept]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = context[name]
        todo.extend(n for n in _names(_strings(context[name])) if n in context and
                    n not in kept)
    return kept


def used_context(context: tuple[str, dict[str, Any]], document: Any) -> dict[str, Any]:
    """The definitions of ``context`` (digest, object) that ``document`` can reach; the
    dict is shared by the cache: never change it."""
    digest, full = context
    _contexts.setdefault(digest, full)
    names = frozenset(n for n in _names(_strings(document)) if n in full)
    return _cut(digest, names)


def _values(value: Any) -> tuple[int, int]:
    """(values, depth) of a JSON value, as :mod:`ddsnode.rdf.jsonld` counts them."""
    if isinstance(value, dict):
        inner = [_values(v) for v in value.values()]
    elif isinstance(value, list):
        inner = [_values(v) for v in value]
    else:
        return 0, 0
    return len(inner) + sum(n for n, _ in inner), 1 + max((d for _, d in inner), default=0)


def parse_tally(data: bytes, base: str, limits: JsonLdLimits) -> rdflib.Graph:
    """The graph :func:`ddsnode.rdf.jsonld.parse_document` gives, faster for a document
    in the bundled context (the module's docstring says why it is the same)."""
    document = load_json(data, limits)  # the parser's 400 and 413, from the same walk
    url = document.get("@context") if isinstance(document, dict) else None
    body = {k: v for k, v in document.items() if k != "@context"} \
        if isinstance(document, dict) else None
    if not isinstance(url, str) or body is None or "@context" in set(_strings(body)) or \
            not (url in bundled_contexts() or is_own_context(url, base)):
        return parse_document(data, base, limits=limits)
    cut = used_context(shared_context(), body)
    values, depth = _values(cut)
    try:
        # The limits were checked above without the context; the cut's own values and
        # depth are the node's, not the client's. Keys stay in the client's order.
        graph = jsonld_to_graph({k: cut if k == "@context" else v
                                 for k, v in document.items()}, base, limits=JsonLdLimits(
            limits.max_depth + depth + 1, limits.max_values + values + 1))
    except Problem:
        graph = None
    if graph is None or not len(graph):
        return parse_document(data, base, limits=limits)  # the reference's refusal
    return graph


def with_used_context(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (the node's own, in the bundled context) with the context cut to its
    terms put inline: the same triples, parsed by the write path in a fraction of the
    time."""
    body = {k: v for k, v in document.items() if k != "@context"}
    cut = used_context(shared_context(), body)
    return {k: cut if k == "@context" else v for k, v in document.items()}
