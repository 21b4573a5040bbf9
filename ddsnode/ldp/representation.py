"""Serialising a resource's graph into each media type the node offers.

A resource is stored as N-Triples; its other representations are rendered from them on
first read and kept in a bounded cache (:class:`Renderings`) keyed by the stored bytes
themselves, so an entry is never stale. Rendering is deterministic, and each
representation carries a strong ETag (RFC 9110 8.8.3) that is a hash of its bytes: equal
bytes have equal tags in every process and after a restart.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache
from typing import Any, TypeVar

import rdflib
from pyld import jsonld as pyld

from ddsnode import resources
from ddsnode.ldp import conneg, html
from ddsnode.ldp.indexing import title_of
from ddsnode.lru import LRU
from ddsnode.problem import Unavailable
from ddsnode.rdf import compaction, rdfio
from ddsnode.rdf.jsonld import compact
from ddsnode.store.base import Representation, StoredResource

V = TypeVar("V")
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# What an RDF resource is rendered as; the JSON offer is served from the JSON-LD bytes.
OFFERS: tuple[str, ...] = (conneg.JSONLD, conneg.JSONLD_EXPANDED, conneg.TURTLE,
                           conneg.NTRIPLES, conneg.HTML)
# Every representation a client may hold an ETag of (If-Match names any of them).
ETAG_OFFERS: tuple[str, ...] = (*OFFERS, conneg.JSON)


def etag(body: bytes) -> str:
    """A strong ETag for ``body``: a quoted hash of the bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def make(offer: str, body: bytes) -> Representation:
    """A Representation of ``body`` for ``offer``, with its Content-Type and ETag."""
    return Representation(conneg.CONTENT_TYPES.get(offer, offer), body, etag(body))


@cache
def prefixes() -> dict[str, str]:
    """Prefix -> namespace of the shared context, for Turtle output."""
    out = {}
    for name, value in resources.context_document()["@context"].items():
        if isinstance(value, str) and not name.startswith("@") and value[-1:] in ("#", "/"):
            out[name] = value
    return out


def ntriples(graph: rdflib.Graph) -> bytes:
    """N-Triples, one triple a line, sorted (equal graphs without blank nodes: equal bytes)."""
    return rdfio.ntriples(graph)


def turtle(graph: rdflib.Graph, main: str | None = None) -> bytes:
    """Turtle with the shared context's prefixes (only those used), ``main`` first."""
    try:
        return rdfio.turtle(graph, prefixes(), main)
    except rdfio.Unrepresentable:
        pass  # an IRI or language tag only rdflib accepts: its serialiser copes
    out = rdflib.Graph(bind_namespaces="none")
    used = {str(t) for triple in graph for t in triple if isinstance(t, rdflib.URIRef)}
    for prefix, ns in prefixes().items():
        if any(u.startswith(ns) for u in used):
            out.bind(prefix, ns)
    for triple in graph:
        out.add(triple)
    return out.serialize(format="turtle", encoding="utf-8")


def expanded(graph: rdflib.Graph, main: str | None = None) -> list[dict[str, Any]]:
    """Expanded JSON-LD (JSON-LD 1.1 API, RDF to object conversion), nodes used once embedded."""
    try:
        return compaction.expanded(graph, main)
    except compaction.Unsupported:
        return pyld_expanded(graph, main)


def pyld_expanded(graph: rdflib.Graph, main: str | None = None) -> list[dict[str, Any]]:
    """:func:`expanded` by pyld's RDF to object conversion (RDF lists become ``@list``)."""
    # The dataset is handed over already parsed: pyld's own N-Quads parser drops duplicate
    # triples by comparing each with every one before it (quadratic: an RDF list of 8,000
    # items took 60-75 s, issue 9 item 3); a graph has no duplicates to drop.
    nodes: list[dict[str, Any]] = pyld.from_rdf({"@default": _pyld_triples(graph)}, {})
    return _embed(nodes, main)


def _pyld_term(term: Any) -> dict[str, str]:
    """``term`` as pyld's RDF dataset writes it (what its N-Quads parser makes)."""
    if isinstance(term, rdflib.BNode):
        return {"type": "blank node", "value": f"_:{term}"}
    if isinstance(term, rdflib.Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out.update(datatype=RDF_LANGSTRING, language=term.language)
        else:
            out["datatype"] = str(term.datatype or XSD_STRING)
        return out
    return {"type": "IRI", "value": str(term)}


def _pyld_triples(graph: rdflib.Graph) -> list[dict[str, dict[str, str]]]:
    return [{"subject": _pyld_term(s), "predicate": _pyld_term(p), "object": _pyld_term(o)}
            for s, p, o in graph]


def _embed(nodes: list[dict[str, Any]], main: str | None) -> list[dict[str, Any]]:
    """Nest every node referenced exactly once inside its referrer (lossless), main first."""
    by_id = {n["@id"]: n for n in nodes}
    refs: dict[str, int] = {}
    for n in nodes:
        for key, values in n.items():
            if key.startswith("@"):
                continue
            for v in values:
                if isinstance(v, dict) and "@id" in v and len(v) == 1:
                    refs[v["@id"]] = refs.get(v["@id"], 0) + 1
    placed: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        for key, values in node.items():
            if key.startswith("@"):
                continue
            for i, v in enumerate(values):
                target = v.get("@id") if isinstance(v, dict) and len(v) == 1 else None
                if (isinstance(target, str) and target in by_id and target != main
                        and refs.get(target) == 1
                        and target not in placed):
                    placed.add(target)
                    child = by_id[target]
                    if target.startswith("_:"):
                        child = {k: c for k, c in child.items() if k != "@id"}
                    values[i] = child
                    visit(child)

    roots = sorted(nodes, key=lambda n: (n["@id"] != main, n["@id"].startswith("_:"), n["@id"]))
    top = []
    for node in roots:
        if node["@id"] in placed:
            continue
        placed.add(node["@id"])
        visit(node)
        top.append(node)
    return [n for n in top if n["@id"] in placed]


def compacted(graph: rdflib.Graph, main: str | None = None) -> dict[str, Any]:
    """JSON-LD compacted with the shared context (``@context`` is its IRI)."""
    try:
        return compaction.compacted(graph, main)
    except compaction.Unsupported:
        return pyld_compacted(graph, main)


def pyld_compacted(graph: rdflib.Graph, main: str | None = None) -> dict[str, Any]:
    """:func:`compacted` by pyld's general algorithm (the reference, and the fallback)."""
    doc = compact(pyld_expanded(graph, main), compaction.context_for(main))
    graph_nodes = doc.get("@graph")
    if isinstance(graph_nodes, list) and len(graph_nodes) == 1:
        # A single top node: no @graph wrapper (JSON-LD 1.1 API, compaction 9.3).
        return {"@context": doc["@context"], **graph_nodes[0]}
    return doc


def dump_json(value: Any) -> bytes:
    """JSON bytes as the node writes them: UTF-8, two-space indent, key order kept."""
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


Listing = Iterable[tuple[str, str, tuple[str, ...]]]  # (iri, title, types) of members


def _serialisers(graph: rdflib.Graph, main: str, title: str, listing: Listing | None,
                 compact: bool) -> dict[str, Callable[[], bytes]]:
    # Free-form data (open containers) is not in our vocabulary: its JSON-LD is the
    # expanded form, which any client parses without fetching a context.
    as_jsonld: Callable[[], Any] = (lambda: compacted(graph, main)) if compact else \
        (lambda: expanded(graph, main))
    return {
        conneg.JSONLD: lambda: dump_json(as_jsonld()),
        conneg.JSON: lambda: dump_json(as_jsonld()),
        conneg.JSONLD_EXPANDED: lambda: dump_json(expanded(graph, main)),
        conneg.TURTLE: lambda: turtle(graph, main),
        conneg.NTRIPLES: lambda: ntriples(graph),
        conneg.HTML: lambda: html.page(graph, main, title, listing).encode("utf-8"),
    }


def render(graph: rdflib.Graph, main: str, offer: str, *, title: str = "",
           listing: Listing | None = None, compact: bool = True) -> Representation:
    """One representation of ``graph`` (used for container pages, built per request)."""
    body = _serialisers(graph, main, title, listing, compact)[offer]()
    return make(offer, body)


class Renderings:
    """The representations of stored resources, rendered on first read, bounded in bytes.

    The key is (IRI, kind, JSON-LD form, offer, N-Triples): everything the bytes depend
    on, so a new version of a resource is a new key and old entries simply age out.
    Rendering at read time rather than write time keeps writes cheap (a resource is
    seldom read in all five media types) while a resource read often is served from
    memory.

    A first render runs on the render threads (:class:`RenderPool`), never on the event
    loop nor for longer than ``timeout`` in the caller (issue 9, item 3: a 1 MB resource
    first rendered as JSON-LD stalled every request for 10–23 s). Past ``timeout`` the
    caller gets 503 with Retry-After
    while the render goes on and is cached, so a retry finds it; N-Triples and Turtle
    stay quick for every resource and the problem says so.
    """

    def __init__(self, capacity_bytes: int, *, timeout: float = 2.0, workers: int = 8) -> None:
        self._cache: LRU[Representation] = LRU(
            capacity_bytes, weigh=lambda rep: len(rep.body) + 256)
        self.timeout = timeout
        self.pool = RenderPool(workers)

    def cached(self, resource: StoredResource, offer: str, *,
               compact: bool = True) -> Representation | None:
        """``resource`` as ``offer`` if it is at hand now (stored or cached); else None."""
        stored = pick(resource.representations, offer)
        if stored is not None:  # written by an earlier version of the node
            return stored
        if offer == conneg.JSON:
            as_jsonld = self.cached(resource, conneg.JSONLD, compact=compact)
            return None if as_jsonld is None else _as_json(as_jsonld)
        key = self._key(resource, offer, compact)
        if offer == conneg.NTRIPLES and resource.kind != "container":
            # The stored bytes are N-Triples already: served as they are, at once, so
            # every resource has a form that never waits for a render.
            return self._cache.get_or_make(
                key, lambda: make(offer, resource.ntriples.encode("utf-8")),
                extra=len(resource.ntriples))
        return self._cache.peek(key)

    def start(self, resource: StoredResource, offer: str, *,
              compact: bool = True) -> Future[Representation | None]:
        """The render of ``resource`` as ``offer`` (None when not offered), on the render
        threads; one render per key however many readers wait for it."""
        if offer == conneg.JSON:
            inner = self.start(resource, conneg.JSONLD, compact=compact)
            return _then(inner, lambda rep: None if rep is None else _as_json(rep))
        stored = pick(resource.representations, offer)
        if stored is not None or offer not in OFFERS or resource.kind == "container":
            return _done(stored)
        found = self.cached(resource, offer, compact=compact)
        if found is not None:
            return _done(found)
        key = self._key(resource, offer, compact)

        def make() -> Representation | None:
            rep = _render_stored(resource, offer, compact)
            return self._cache.put(key, rep, extra=len(resource.ntriples))  # the key holds them

        return self.pool.submit(key, make)

    def get(self, resource: StoredResource, offer: str, *,
            compact: bool = True) -> Representation | None:
        """``resource`` as ``offer`` (None when not offered), waiting at most ``timeout``
        for a first render (503 past it; the render goes on and is cached)."""
        found = self.cached(resource, offer, compact=compact)
        if found is not None:
            return found
        return self.wait(self.start(resource, offer, compact=compact), offer,
                         time.monotonic() + self.timeout)

    def wait(self, future: Future[Representation | None], offer: str,
             deadline: float) -> Representation | None:
        """The result of a render, waiting until ``deadline`` at most (then 503)."""
        try:
            return future.result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise self.too_slow(offer) from None

    def too_slow(self, offer: str) -> Unavailable:
        """The problem for a first render still running at the time limit."""
        return Unavailable(
            f"This resource is being rendered as {offer} for the first time and it takes "
            f"longer than {self.timeout:g} s (setting render_timeout); retry in a moment, "
            f"or ask for {conneg.NTRIPLES} or {conneg.TURTLE}, served at once",
            headers={"Retry-After": str(max(1, round(self.timeout)))})

    def etags(self, resource: StoredResource, *, compact: bool = True) -> list[str]:
        """The strong ETag of every representation (If-Match may name any of them), made
        as they are read: first those at hand, then the rest rendered, within one
        ``timeout`` (503 past it). A precondition that matches a cheap tag renders
        nothing (:meth:`ddsnode.ldp.preconditions.Preconditions.check_write`)."""
        return LazyTags(self._etags(resource, compact))

    def _etags(self, resource: StoredResource, compact: bool) -> Iterator[str]:
        pending = []
        for offer in ETAG_OFFERS:
            found = self.cached(resource, offer, compact=compact)
            if found is not None:
                yield found.etag
            else:
                pending.append(offer)
        futures = [(offer, self.start(resource, offer, compact=compact)) for offer in pending]
        deadline = time.monotonic() + self.timeout
        for offer, future in futures:
            rep = self.wait(future, offer, deadline)
            if rep is not None:
                yield rep.etag

    @staticmethod
    def _key(resource: StoredResource, offer: str, compact: bool) -> tuple[object, ...]:
        return (resource.iri, resource.kind, compact, offer, resource.ntriples)


class LazyTags(list[str]):
    """A list of ETags made on demand: iterating takes the ones made so far, then makes
    more from ``source``; ``append`` adds one at once (a file's own tag)."""

    def __init__(self, source: Iterator[str]) -> None:
        super().__init__()
        self._source: Iterator[str] | None = source

    def __iter__(self) -> Iterator[str]:
        i = 0
        while True:
            if i < len(self):
                yield self[i]
                i += 1
            elif self._source is None:
                return
            else:
                tag = next(self._source, None)
                if tag is None:
                    self._source = None
                    return
                self.append(tag)


class RenderPool:
    """Renders on their own daemon threads, at most ``limit`` at once, one per key.

    A thread per render rather than a queue: a small resource's render must not wait
    behind a costly one, and the GIL shares time between running renders. Daemon
    threads (not ThreadPoolExecutor's, which the interpreter joins at exit) so a long
    render never delays a shutdown. Past ``limit`` renders in flight a new one is refused
    with 503 rather than queued without end.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._inflight: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def submit(self, key: Hashable, make: Callable[[], V]) -> Future[V]:
        """The future of ``make()``: the one already in flight for ``key``, or a new one."""
        with self._lock:
            future = self._inflight.get(key)
            if future is not None:
                return future
            if len(self._inflight) >= self.limit:
                raise Unavailable(f"The node is busy rendering {self.limit} other resources "
                                  "(setting render_workers); retry, or ask for "
                                  f"{conneg.NTRIPLES}", headers={"Retry-After": "2"})
            future = Future()
            self._inflight[key] = future
        threading.Thread(target=self._run, args=(key, make, future), daemon=True,
                         name="ddsnode-render").start()
        return future

    def _run(self, key: Hashable, make: Callable[[], Any], future: Future[Any]) -> None:
        try:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(make())
                except BaseException as e:  # noqa: BLE001 - handed to the readers
                    future.set_exception(e)
        finally:
            with self._lock:
                self._inflight.pop(key, None)


def _done(value: V) -> Future[V]:
    future: Future[V] = Future()
    future.set_result(value)
    return future


def _then(inner: Future[Any], change: Callable[[Any], V]) -> Future[V]:
    """A future of ``change(inner's result)``, done when ``inner`` is."""
    outer: Future[V] = Future()

    def relay(done: Future[Any]) -> None:
        try:
            outer.set_result(change(done.result()))
        except BaseException as e:  # noqa: BLE001 - handed to the readers
            outer.set_exception(e)

    inner.add_done_callback(relay)
    return outer


def _render_stored(resource: StoredResource, offer: str, compact: bool) -> Representation:
    graph = rdfio.graph_from_ntriples(resource.ntriples)
    main = resource.iri
    title = "Deleted" if resource.kind == "tombstone" else title_of(graph, rdflib.URIRef(main))
    return render(graph, main, offer, title=title, compact=compact)


def _as_json(as_jsonld: Representation) -> Representation:
    # Same bytes, another Content-Type: a distinct strong validator (RFC 9110 8.8.3).
    return Representation(conneg.JSON, as_jsonld.body, as_jsonld.etag[:-1] + '-json"')


def pick(representations: dict[str, Representation], offer: str) -> Representation | None:
    """The stored representation for ``offer`` (JSON is served from the JSON-LD bytes)."""
    if offer == conneg.JSON:
        found = representations.get(conneg.JSONLD)
        return None if found is None else _as_json(found)
    return representations.get(offer)
