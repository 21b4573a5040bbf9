"""The shared context cut to the terms a document can reach: the fast way to parse it.

Nearly every JSON-LD document the node reads names the shared context
(``"@context": "https://w3id.org/dds/context/v1"``, or a node's ``<base>context/v1``):
HTTP writes, imports, peers' documents, tallies and the node's own results. Put inline
whole, its 351 term definitions are all processed for every document — about 1 ms of a
2 ms parse of a proposal — while a document uses a few dozen.

:func:`cut` keeps the definitions a document can reach: every term whose name is one of
the document's keys or strings (or the prefix of one that looks like a compact IRI), the
context's keywords (``@version``, ``@protected`` …), and, again, every term named inside
a kept definition (a scoped context, a ``@type`` IRI, a prefix). JSON-LD 1.1 looks a
term up only by such a name — Processing Algorithms 4.1 "Create Term Definition" (a
term's IRI from its prefix) and 5.2 "IRI Expansion" (a key, a ``@type`` or ``@vocab``
value, or the prefix of a compact IRI) — so the rest of the context cannot change the
triples. Cuts are computed once per set of names (a bounded LRU: documents come in a
few shapes).

:func:`cut_document` takes only a document whose one context is the bundled one (a JSON
object whose ``@context`` is a string the caller accepts, and no other ``@context`` key
or value at any depth); :mod:`ddsnode.rdf.jsonld` checks the size limits on the
document as it came, and answers any refusal or empty result of the fast way with the
whole context (its 400/413/422, word for word).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from ddsnode import resources

__all__ = ["CACHED_CUTS", "cut", "cut_document", "reachable_names"]

CACHED_CUTS = 256  # distinct sets of names kept: documents come in a few shapes


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


def reachable_names(value: Any) -> set[str]:
    """The keys and strings of ``value`` and the prefixes of those that look like compact
    IRIs (JSON-LD 1.1 API 5.2 step 6: the prefix is what comes before the first ``:``)."""
    out = set()
    for s in _strings(value):
        out.add(s)
        if ":" in s:
            out.add(s.split(":", 1)[0])
    return out


def _context() -> dict[str, Any]:
    # The very object the whole-context parse inlines (resources caches it per process),
    # so that the two ways cannot see two versions of the file.
    context: dict[str, Any] = resources.context_document()["@context"]
    return context


@lru_cache(maxsize=CACHED_CUTS)
def _cut(names: frozenset[str]) -> dict[str, Any]:
    context = _context()
    kept = {k: v for k, v in context.items() if k.startswith("@")}
    todo = [n for n in names if n not in kept]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = context[name]
        todo.extend(n for n in reachable_names(context[name]) if n in context and
                    n not in kept)
    return kept


def cut(names: set[str]) -> dict[str, Any]:
    """The definitions of the shared context that ``names`` reach; the dict is shared by
    the cache: never change it."""
    context = _context()
    return _cut(frozenset(n for n in names if n in context))


def cut_document(document: Any, bundled: Callable[[str], bool]) -> dict[str, Any] | None:
    """A shallow copy of ``document`` with its context cut to its terms (keys in the
    client's order), or None unless its one context is an IRI that ``bundled`` accepts."""
    if not isinstance(document, dict):
        return None
    url = document.get("@context")
    if not isinstance(url, str) or not bundled(url):
        return None
    body = {k: v for k, v in document.items() if k != "@context"}
    names = reachable_names(body)
    if "@context" in names:  # a nested context (or the word as a value): the whole way
        return None
    context = cut(names)
    return {k: context if k == "@context" else v for k, v in document.items()}
