"""The cache of peer resources: dereference, check, validate, keep (RFC 9111 semantics).

Incoming federated data crosses a trust boundary. :meth:`PeerCache.fetch` dereferences a
peer IRI through the one outbound client (JSON-LD or Turtle by content negotiation) and
keeps what it receives only after three checks:

1. **Authority.** The final URL (after redirects) must be on the IRI's own origin;
   otherwise nothing is kept (:class:`NotAuthoritative`). Of what is kept, only triples
   whose subject is on that origin (or a blank node) are merged; triples about subjects
   of another origin are dropped, never stored as facts.
2. **Shapes.** The graph is validated; a non-conforming one is *quarantined* with its
   report: it is listed nowhere, served as nothing but a 502 carrying the report.
3. **Freshness.** ``ETag``/``Last-Modified`` are kept for conditional requests (a 304 is
   cheap), ``Cache-Control: max-age`` (else the RFC 9111 4.2.2 heuristic, 10 % of the
   time since Last-Modified) says how long the copy is fresh; when the peer is down, a
   stale copy is served with its age (stale-if-error, RFC 5861 4). A 404 or 410 drops it.

The cache is bounded (``max_entries``): the least recently fetched entries go first.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import rdflib

from ddsnode.federation.database import FederationDB
from ddsnode.federation.reactions import COUNT_TERMS
from ddsnode.ldp import conneg, representation
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.ldp.indexing import index_fields
from ddsnode.outbound import OutboundClient, PeerError, normalise_origin
from ddsnode.problem import Gone, NotFound, Problem, UpstreamError
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import DEFAULT_LIMITS, JsonLdLimits, parse_rdf
from ddsnode.rdf.rdfterms import InvalidTerm, check_graph
from ddsnode.rdf.vocab import AS, DCTERMS, DDS, RDF
from ddsnode.store.base import Filters

# N-Triples first: the cheapest to parse; JSON-LD and Turtle from nodes that lack it.
ACCEPT = (conneg.NTRIPLES, f"{conneg.JSONLD};q=0.9", f"{conneg.TURTLE};q=0.8")
HEURISTIC_FRACTION = 0.1  # RFC 9111 4.2.2: 10 % of the time since Last-Modified
HEURISTIC_CAP = 24 * 3600.0


class NotAuthoritative(UpstreamError):
    """The answer for an IRI came from another origin (after redirects): not kept."""

    slug, title = "not-authoritative", "The peer's answer is not from the IRI's own origin"


class Quarantined(UpstreamError):
    """The peer's data does not conform to the shapes; kept aside with its report."""

    slug, title = "quarantined", "The peer's data does not conform to the shapes"


@dataclass(frozen=True)
class CacheEntry:
    """A cached peer resource (valid), with what is needed to say how old it is."""

    iri: str
    origin: str
    fetched_from: str
    status: str
    etag: str | None
    last_modified: str | None
    max_age: float
    fetched_at: float
    ntriples: str
    container: str | None
    title: str
    types: tuple[str, ...]
    states: tuple[str, ...]
    summary: dict[str, object]
    report: str | None = None
    stale_error: str = ""  # set when served stale because the peer failed

    @property
    def age(self) -> float:
        """Seconds since the copy was fetched or revalidated (RFC 9111 4.2.3 ``Age``)."""
        return max(0.0, time.time() - self.fetched_at)

    @property
    def fresh(self) -> bool:
        """Whether the copy is within its freshness lifetime."""
        return self.age < self.max_age

    def graph(self) -> rdflib.Graph:
        """The cached graph."""
        return rdfio.graph_from_ntriples(self.ntriples)


_COLS = ("iri, origin, fetched_from, status, etag, last_modified, max_age, fetched_at, "
         "ntriples, container, title, types, states, summary, report")


def _entry(row: tuple) -> CacheEntry:  # type: ignore[type-arg]
    return CacheEntry(iri=row[0], origin=row[1], fetched_from=row[2], status=row[3],
                      etag=row[4], last_modified=row[5], max_age=row[6] or 0.0,
                      fetched_at=row[7], ntriples=row[8], container=row[9], title=row[10],
                      types=tuple(row[11].split()), states=tuple(row[12].split()),
                      summary=json.loads(row[13] or "{}"), report=row[14])


def _spaced(values: tuple[str, ...]) -> str:
    return " " + " ".join(values) + " " if values else " "


def max_age_of(headers: Mapping[str, str], now: float) -> float:
    """Freshness lifetime from Cache-Control (RFC 9111 5.2.2.1) or the 4.2.2 heuristic."""
    get = headers.get
    cache_control = (get("cache-control") or "").lower()
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name in ("no-cache", "no-store"):
            return 0.0
        if name == "max-age" and value.strip('"').isdigit():
            return float(value.strip('"'))
    modified = get("last-modified")
    if modified:
        try:
            since = now - parsedate_to_datetime(modified).timestamp()
            return max(0.0, min(HEURISTIC_CAP, since * HEURISTIC_FRACTION))
        except (TypeError, ValueError):
            return 0.0
    return 0.0


class PeerCache:
    """Peer resources fetched through ``client``, kept in ``federation.db``."""

    def __init__(self, db: FederationDB, client: OutboundClient, containers: ContainerRegistry,
                 *, engine: str = "fast", max_entries: int = 100_000,
                 max_per_peer: int = 20_000, revalidate_interval: float = 1.0,
                 max_bytes: int = 4 * 1024 * 1024, limits: JsonLdLimits = DEFAULT_LIMITS,
                 link_predicates: frozenset[str] = frozenset()) -> None:
        self.db, self.client, self.containers = db, client, containers
        self.engine, self.max_entries, self.max_per_peer = engine, max_entries, max_per_peer
        self.revalidate_interval, self.max_bytes = revalidate_interval, max_bytes
        self.limits = limits  # the JSON-LD depth and value budgets local writes get
        self.link_predicates = link_predicates
        self._writes = 0
        self._writes_by_origin: dict[str, int] = {}
        # One revalidation in flight per IRI: concurrent readers share it (no stampede).
        self._inflight: dict[str, asyncio.Future[CacheEntry]] = {}
        self.requests = 0  # outbound requests made (bench/federation.py reports it)

    # --- reads ---------------------------------------------------------------------------

    def get(self, iri: str, *, quarantined: bool = False) -> CacheEntry | None:
        """The cached entry for ``iri`` (valid ones only unless ``quarantined``)."""
        row = self.db.connect().execute(f"SELECT {_COLS} FROM cache WHERE iri = ?",
                                        (iri,)).fetchone()
        if row is None or (row[3] != "valid" and not quarantined):
            return None
        return _entry(row)

    def count(self, status: str = "valid") -> int:
        """How many entries have ``status``."""
        row = self.db.connect().execute("SELECT count(*) FROM cache WHERE status = ?",
                                        (status,)).fetchone()
        return int(row[0])

    def known(self, iri: str) -> bool:
        """Whether federation has learned ``iri``: cached (valid or quarantined), or named by
        a trace link of a cached resource. Only such IRIs may be fetched for a reader."""
        conn = self.db.connect()
        if conn.execute("SELECT 1 FROM cache WHERE iri = ?", (iri,)).fetchone():
            return True
        return conn.execute("SELECT 1 FROM cache_links WHERE object = ? UNION ALL "
                            "SELECT 1 FROM cache_links WHERE subject = ? LIMIT 1",
                            (iri, iri)).fetchone() is not None

    def links(self, iri: str) -> list[tuple[str, str, str, str]]:
        """Cached trace links touching ``iri``: (subject, predicate, object, cached resource)."""
        rows = self.db.connect().execute(
            "SELECT subject, predicate, object, iri FROM cache_links WHERE subject = ? "
            "UNION SELECT subject, predicate, object, iri FROM cache_links WHERE object = ?",
            (iri, iri)).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # --- fetching --------------------------------------------------------------------------

    async def fetch(self, iri: str, *, revalidate: bool = False,
                    learned: bool = False) -> CacheEntry:
        """The resource at ``iri``: from the cache while fresh, else revalidated from its origin.

        ``learned`` says the IRI comes from the peer itself (its feed, or a notification it
        signed). Otherwise (a reader's request, a trace) only an IRI the cache already
        knows (:meth:`known`) is fetched, at most once per ``revalidate_interval``; any
        other is NotFound without a request: a stranger cannot make the node send signed
        requests to paths and queries of their choosing (issue 9, item 5).

        Raises NotFound/Gone (and drops the copy) when the origin says it is gone,
        Quarantined for invalid data, NotAuthoritative for an off-origin answer, and the
        outbound errors when the peer fails and no copy is cached (else the stale copy is
        returned, with ``stale_error`` set).
        """
        cached = self.get(iri, quarantined=True)
        if cached is not None and cached.status == "valid" and cached.fresh and not revalidate:
            return cached
        if not learned:
            if cached is None and not self.known(iri):
                raise NotFound(f"{iri} is not a resource this node has learned from a peer")
            if cached is not None and cached.age < self.revalidate_interval:
                if cached.status != "valid":
                    raise Quarantined(f"{iri} is quarantined", url=iri)
                return cached  # revalidated a moment ago: readers do not drive requests
        running = self._inflight.get(iri)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[CacheEntry] = asyncio.get_running_loop().create_future()
        self._inflight[iri] = future
        try:
            entry = await self._fetch(iri, cached)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning if unshared
            raise
        else:
            future.set_result(entry)
            return entry
        finally:
            self._inflight.pop(iri, None)

    async def _fetch(self, iri: str, cached: CacheEntry | None) -> CacheEntry:
        origin = normalise_origin(iri)
        headers: dict[str, str] = {}
        if cached is not None and cached.status == "valid":
            if cached.etag:
                headers["If-None-Match"] = cached.etag  # RFC 9110 13.1.2
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        self.requests += 1
        try:
            result = await self.client.fetch(iri.split("#", 1)[0], accept=ACCEPT,
                                             headers=headers, max_bytes=self.max_bytes)
        except PeerError as exc:
            if exc.upstream_status in (404, 410):
                await asyncio.to_thread(self.drop, iri)
                raise (Gone if exc.upstream_status == 410 else NotFound)(
                    f"{iri} is gone from its origin") from None
            if cached is not None and cached.status == "valid" and (
                    exc.upstream_status is None or exc.upstream_status >= 500):
                return _stale(cached, str(exc))  # RFC 5861 4: stale-if-error
            raise
        now = time.time()
        if normalise_origin(result.url) != origin:
            raise NotAuthoritative(f"{iri} was answered from {result.url}, another origin; "
                                   "its description is not accepted", url=result.url)
        max_age = max_age_of(result.headers, now)
        if result.status == 304 and cached is not None:
            def touch() -> CacheEntry:
                with self.db.connect() as db:
                    db.execute("UPDATE cache SET fetched_at = ?, max_age = ? WHERE iri = ?",
                               (now, max_age, iri))
                return self.get(iri) or cached
            return await asyncio.to_thread(touch)
        # Parsing, term checks and validation of peer data cost time in the document's
        # size: never on the event loop (issue 9, item 1), so reads go on meanwhile.
        return await asyncio.to_thread(
            self._store, iri, origin, result.url, result.body, result.media_type,
            result.headers.get("etag"), result.headers.get("last-modified"), max_age, now)

    def _store(self, iri: str, origin: str, fetched_from: str, body: bytes,
               media_type: str | None, etag: str | None, last_modified: str | None,
               max_age: float, now: float) -> CacheEntry:
        fmt = conneg.RDF_INPUT.get(media_type or "", "turtle")
        try:
            received = parse_rdf(body, fmt, base=iri, limits=self.limits)
        except InvalidTerm as bad_term:  # the parser's own RDF 1.1 term check
            return self._quarantine_terms(iri, origin, fetched_from, media_type, now, bad_term)
        except Problem as exc:
            raise UpstreamError(f"{iri}: the peer sent unparsable {fmt}: {exc}",
                                url=fetched_from) from None
        except (RecursionError, MemoryError, ValueError, TypeError, KeyError) as exc:
            # Peer data crosses a trust boundary: whatever the parser trips on is the
            # peer's error (502), never ours (500).
            raise UpstreamError(f"{iri}: the peer sent {fmt} the node cannot read "
                                f"({type(exc).__name__})", url=fetched_from) from None
        graph = received
        dropped = _authoritative(graph, origin)
        main = rdflib.URIRef(iri)
        problem: Problem | None
        try:
            # The same RDF 1.1 term check as local writes (issue 9, item 16): a peer's
            # datatype IRI with '"' is refused here, never cached as valid.
            check_graph(graph, where=iri)
        except Problem as bad_term:
            return self._quarantine_terms(iri, origin, fetched_from, media_type, now, bad_term)
        from ddsnode.ldp.admission import validation_problem
        problem = validation_problem(graph, self.engine)
        report = json.dumps(problem.extra, ensure_ascii=False)[:200_000] if problem else None
        status = "quarantined" if problem else "valid"
        fields = index_fields(graph, main)
        container = None
        for t in fields.types:
            found = self.containers.for_class(rdflib.URIRef(t))
            if found is not None:
                container = found.path
                break
        summary = {name: str(graph.value(main, DDS[name]))
                   for name in COUNT_TERMS if graph.value(main, DDS[name]) is not None}
        # N-Triples kept as received when nothing was dropped (no re-serialisation).
        text = body.decode("utf-8") if fmt == "nt" and not dropped else \
            representation.ntriples(graph).decode("utf-8")
        links = [(str(s), str(p), str(o)) for s, p, o in graph
                 if str(p) in self.link_predicates and isinstance(o, rdflib.URIRef)
                 and isinstance(s, rdflib.URIRef)]
        with self.db.connect() as db:
            db.execute("DELETE FROM cache WHERE iri = ?", (iri,))
            db.execute("DELETE FROM cache_links WHERE iri = ?", (iri,))
            db.execute(
                "INSERT INTO cache (iri, origin, fetched_from, status, etag, last_modified, "
                "max_age, fetched_at, media_type, ntriples, container, types, title, states, "
                "topics, areas, platform, lat, long, date, text, summary, report) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (iri, origin, fetched_from, status, etag, last_modified, max_age, now,
                 media_type, text, container, _spaced(fields.types), fields.title,
                 _spaced(fields.states), _spaced(fields.topics), _spaced(fields.areas),
                 fields.platform, fields.lat, fields.long, fields.date, fields.text[:8192],
                 json.dumps(summary), report))
            if status == "valid" and links:
                db.executemany("INSERT INTO cache_links (iri, subject, predicate, object) "
                               "VALUES (?, ?, ?, ?)", [(iri, *link) for link in links])
        self._bound(origin)
        if problem is not None:
            quarantined = Quarantined(f"{iri} does not conform to the shapes: {problem.detail}",
                                      url=iri)
            quarantined.extra.update(problem.extra)
            raise quarantined
        entry = self.get(iri)
        assert entry is not None
        return entry

    def _quarantine_terms(self, iri: str, origin: str, fetched_from: str,
                          media_type: str | None, now: float, bad: Problem) -> CacheEntry:
        """Keep aside (no triples) a document with a term that is not RDF 1.1; raise."""
        report = json.dumps({"detail": bad.detail, **bad.extra}, ensure_ascii=False)[:200_000]
        with self.db.connect() as db:
            db.execute("DELETE FROM cache_links WHERE iri = ?", (iri,))
            db.execute("DELETE FROM cache WHERE iri = ?", (iri,))
            db.execute("INSERT INTO cache (iri, origin, fetched_from, status, max_age, "
                       "fetched_at, media_type, ntriples, report) VALUES "
                       "(?, ?, ?, 'quarantined', 0, ?, ?, '', ?)",
                       (iri, origin, fetched_from, now, media_type, report))
        self._bound(origin)
        quarantined = Quarantined(f"{iri} holds a term that is not RDF 1.1: {bad.detail}",
                                  url=iri)
        quarantined.extra.update(bad.extra)
        raise quarantined

    def drop(self, iri: str) -> bool:
        """Forget the copy of ``iri`` (a Delete, a 404 or 410 from its origin)."""
        with self.db.connect() as db:
            db.execute("DELETE FROM cache_links WHERE iri = ?", (iri,))
            return bool(db.execute("DELETE FROM cache WHERE iri = ?", (iri,)).rowcount)

    def _bound(self, origin: str) -> None:
        """Evict the least recently fetched entries beyond ``max_per_peer`` for ``origin``
        and beyond ``max_entries`` in all (each checked every 32 writes, so the bounds are
        exceeded by at most 32 entries between checks)."""
        self._writes += 1
        mine = self._writes_by_origin[origin] = self._writes_by_origin.get(origin, 0) + 1
        conn = self.db.connect()
        if mine % 32 == 0 or self.max_per_peer <= 64:
            extra = int(conn.execute("SELECT count(*) FROM cache WHERE origin = ?",
                                     (origin,)).fetchone()[0]) - self.max_per_peer
            if extra > 0:
                self._evict(conn, "WHERE origin = ?", (origin, extra))
        if self._writes % 32 == 0 or self.max_entries <= 64:
            extra = int(conn.execute("SELECT count(*) FROM cache").fetchone()[0]) \
                - self.max_entries
            if extra > 0:
                self._evict(conn, "", (extra,))

    @staticmethod
    def _evict(conn: sqlite3.Connection, where: str, args: tuple[object, ...]) -> None:
        oldest = f"SELECT iri FROM cache {where} ORDER BY fetched_at LIMIT ?"
        with conn:
            conn.execute(f"DELETE FROM cache_links WHERE iri IN ({oldest})", args)
            conn.execute(f"DELETE FROM cache WHERE iri IN ({oldest})", args)


def forget_origin(db: sqlite3.Connection, origin: str) -> None:
    """Forget every cached resource of ``origin``, inside the caller's transaction on
    ``db`` (a peer removed: ``PeerRegistry.remove``)."""
    db.execute("DELETE FROM cache_links WHERE iri IN (SELECT iri FROM cache "
               "WHERE origin = ?)", (origin,))
    db.execute("DELETE FROM cache WHERE origin = ?", (origin,))


@dataclass(frozen=True)
class Listed:
    """A valid cached resource as a federated listing shows it."""

    seq: int  # its position: the listing's keyset cursor
    iri: str
    origin: str
    types: tuple[str, ...]
    title: str
    states: tuple[str, ...]
    summary: dict[str, object]


def listed(db: FederationDB, container: str, filters: Filters, after: int | None,
           limit: int) -> list[Listed]:
    """Valid cached resources of our ``container`` path matching ``filters``, most recently
    (re)stored first, after position ``after`` (``ddsnode.federation.listing``)."""
    sql = ["SELECT seq, iri, origin, types, title, states, summary FROM cache "
           "WHERE container = ? AND status = 'valid'"]
    args: list[object] = [container]
    if after is not None:
        sql.append("AND seq < ?")
        args.append(after)
    for column, value in (("types", filters.type), ("states", filters.state),
                          ("topics", filters.topic), ("areas", filters.area)):
        if value:
            sql.append(f"AND instr({column}, ?) > 0")
            args.append(f" {value} ")
    if filters.platform:
        sql.append("AND platform = ?")
        args.append(filters.platform)
    if filters.date_from:
        sql.append("AND date >= ?")
        args.append(filters.date_from)
    if filters.date_to:
        sql.append("AND date <= ?")
        args.append(filters.date_to + ("T23:59:59Z" if len(filters.date_to) == 10 else ""))
    if filters.bbox:
        min_long, min_lat, max_long, max_lat = filters.bbox
        sql.append("AND long BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        args += [min_long, max_long, min_lat, max_lat]
    if filters.text:
        sql.append("AND instr(lower(title || ' ' || text), ?) > 0")
        args.append(filters.text.lower())
    sql.append("ORDER BY seq DESC LIMIT ?")
    args.append(limit)
    rows = db.connect().execute(" ".join(sql), args).fetchall()
    return [Listed(r[0], r[1], r[2], tuple(r[3].split()), r[4], tuple(r[5].split()),
                   json.loads(r[6] or "{}")) for r in rows]


def _stale(entry: CacheEntry, error: str) -> CacheEntry:
    from dataclasses import replace
    return replace(entry, stale_error=error[:1024])


def _authoritative(graph: rdflib.Graph, origin: str) -> int:
    """Remove the triples whose subject is not on ``origin`` (blank nodes stay): the peer's
    own facts are what is left. Returns how many were removed."""
    foreign = []
    for subject in set(graph.subjects()):
        if isinstance(subject, rdflib.URIRef):
            try:
                own = normalise_origin(str(subject)) == origin
            except ValueError:
                own = False
            if not own:
                foreign.append(subject)
    removed = 0
    for subject in foreign:
        for triple in list(graph.triples((subject, None, None))):
            graph.remove(triple)
            removed += 1
    return removed


def is_reaction(types: tuple[str, ...]) -> bool:
    """Whether a resource with these types may count toward a target (cheap pre-check)."""
    kinds = {str(DDS.Support), str(DDS.Endorsement), str(DDS.Follow), str(DDS.Comment)}
    return any(t in kinds for t in types)


# the types reaction_target recognises
REACTION_CLASSES = frozenset(str(c) for c in (DDS.Support, DDS.Endorsement, DDS.Follow,
                                              DDS.Comment))


def reaction_target(graph: rdflib.Graph, iri: str) -> tuple[str, str] | None:
    """(kind, target IRI) when ``iri`` is a reaction or comment in ``graph``; else None."""
    main = rdflib.URIRef(iri)
    types = set(graph.objects(main, RDF.type))
    kinds = (("support", DDS.Support), ("like", DDS.Endorsement), ("follow", DDS.Follow))
    for kind, cls in kinds:
        if cls in types:
            target = graph.value(main, DDS.reactsTo)
            return (kind, str(target)) if isinstance(target, rdflib.URIRef) else None
    if DDS.Comment in types:
        target = graph.value(main, AS.inReplyTo)
        return ("comment", str(target)) if isinstance(target, rdflib.URIRef) else None
    return None


def actor_of(graph: rdflib.Graph, iri: str) -> rdflib.term.Node | None:
    """Who reacted (``as:actor``) or wrote a comment (``dct:creator``)."""
    main = rdflib.URIRef(iri)
    return graph.value(main, AS.actor) or graph.value(main, DCTERMS.creator)


class CacheReader:
    """The peer cache read-only, for readers outside federation (explorer, analysis,
    directory): the federation loop in the serving process owns the table and may be
    writing it, so these readers open ``federation.db`` with ``mode=ro`` and never lock it
    for long. Every query on the ``cache`` table stays in this module."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.path.is_file():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # no cache table yet: no peer followed
            return []
        finally:
            conn.close()

    def valid(self, *, containers: tuple[str, ...] = (), type_iri: str | None = None,
              limit: int, newest_first: bool = False) -> list[tuple[str, str, str]]:
        """(iri, origin, ntriples) of valid entries, optionally in ``containers`` (paths) or
        of the class ``type_iri``; by IRI, or newest first."""
        where: list[str] = ["status = 'valid'"]
        args: list[object] = []
        if containers:
            where.append(f"container IN ({', '.join('?' * len(containers))})")
            args.extend(containers)
        if type_iri is not None:
            where.append("instr(types, ?) > 0")
            args.append(f" {type_iri} ")
        order = "seq DESC" if newest_first else "iri"
        rows = self._query(f"SELECT iri, origin, ntriples FROM cache WHERE {' AND '.join(where)} "
                           f"ORDER BY {order} LIMIT ?", (*args, limit))
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def state(self) -> tuple[int, int] | None:
        """(last seq, rows): changes whenever an entry is stored, refetched, dropped or
        evicted (``seq`` is renewed on every store); None without a cache."""
        rows = self._query("SELECT coalesce(max(seq), 0), count(*) FROM cache")
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def changes(self, after: int, limit: int) -> list[tuple[int, str, str, str, str, float]]:
        """(seq, iri, origin, status, ntriples, fetched_at) of entries stored after the
        cursor ``after``, in order: what a derived index replays."""
        rows = self._query("SELECT seq, iri, origin, status, ntriples, fetched_at FROM cache "
                           "WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), float(r[5]))
                for r in rows]

    def valid_count(self) -> int:
        """How many entries are valid."""
        rows = self._query("SELECT count(*) FROM cache WHERE status = 'valid'")
        return int(rows[0][0]) if rows else 0

    def valid_iris(self) -> set[str]:
        """The IRIs of the valid entries."""
        return {str(r[0]) for r in self._query("SELECT iri FROM cache WHERE status = 'valid'")}
