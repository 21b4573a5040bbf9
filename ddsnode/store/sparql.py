"""The SPARQL backend: the node's resources in any SPARQL 1.1 Query/Update server.

Layout on the server (internal names in the private ``urn:ddsnode:`` namespace; they are
storage internals, not ontology terms):

* graph ``<IRI>``: the resource's triples (what ``/sparql`` users query);
* graph ``<urn:ddsnode:meta>``: per resource, with the IRI as subject, its kind, container,
  version, seq, created/modified, N-Triples (verbatim, so ``get`` is one query and one
  snapshot), representations (one JSON literal, bodies base64), binary (base64), the
  index fields as JSON plus one triple per filter value, its paging bucket (seq div
  ``bucket_size``); per container its member count; and the counter ``d:counter d:next``;
* graph ``<urn:ddsnode:changes>``: one node per change with its seq, IRI, action, time.

Every ``put``/``delete`` is one UPDATE request, atomic on servers that run a request in
one transaction (Oxigraph, Fuseki/TDB2 and GraphDB do). Its first operation is the
compare-and-swap: it checks the version (and the container), bumps the counter and writes
the change entry named by a fresh token; the later operations are conditioned on that
entry, so they do nothing when the check failed. The store then looks the token up: the
write took effect exactly when the entry exists, and the entry holds the seq and version
it got.

Atomic is not isolated: Oxigraph runs concurrent requests under snapshot isolation, so
two writers can both read counter N and both write N+1 (measured: duplicate seqs). Writes
therefore take a store-wide lock first (:meth:`SparqlStore._acquire`: insert a holder
token if none, read back, withdraw on a tie), and release it in the write's own request.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import httpx
import pyoxigraph as ox

from ddsnode.problem import (
    BadRequest,
    Conflict,
    Gone,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unavailable,
)
from ddsnode.rdf.rdfterms import check_iri, check_ntriples
from ddsnode.store import readonly
from ddsnode.store.base import (
    NEWER,
    NO_FILTERS,
    OLDER,
    Change,
    Child,
    Filters,
    Page,
    QueryResult,
    QueryTimeout,
    Representation,
    Store,
    StoredResource,
    keyset_page,
    parse_cursor,
)
from ddsnode.store.embedded import check_version, index_from_json
from ddsnode.store.results import negotiate, serialize
from ddsnode.store.sparql_layout import (
    CHANGES,
    META,
    NS,
    PREFIX,
    TAG_PREDICATES,
    count_members,
    iri_term,
    literal,
    meta_triples,
    triples,
)

log = logging.getLogger(__name__)

BUCKET = 100  # seqs per paging bucket (d:bucket = seq div BUCKET): ~2 ms of server work
MAX_BUCKETS_PER_REQUEST = 64
LEASE_SECONDS = 30.0  # a write lock left by a dead process expires after this
LOCK_WAIT_SECONDS = 10.0


def _child(row: dict[str, Any]) -> Child:
    index = dataclasses.replace(index_from_json(row["index"]), text="")
    return Child(iri=row["r"], kind=row["kind"],
                 types=index.types, title=index.title,
                 modified=datetime.fromisoformat(row["modified"]), index=index)


class SparqlStore(Store):
    """Resources in a SPARQL 1.1 Query/Update server; several nodes may share one."""

    def __init__(self, query_url: str, update_url: str, *, timeout: float = 30.0,
                 client: httpx.Client | None = None, bucket_size: int = BUCKET,
                 user: str = "", password: str = "", auth: str = "basic") -> None:
        # bucket_size is part of the stored data: never change it on an existing store.
        for url in (query_url, update_url):
            if httpx.URL(url).userinfo:
                # A URL is logged, shown in errors and process lists: credentials go in
                # sparql_user / sparql_password (issue 16).
                raise ValueError("SPARQL endpoint URLs must not carry credentials: set "
                                 "sparql_user and sparql_password (and sparql_auth) instead")
        if auth not in ("basic", "digest"):
            raise ValueError(f"sparql_auth must be basic or digest, not {auth!r}")
        self.bucket_size = bucket_size
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        credentials: httpx.Auth | None = None
        if user:
            credentials = httpx.DigestAuth(user, password) if auth == "digest" \
                else httpx.BasicAuth(user, password)
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False,
                                              auth=credentials)
        self._local_lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- HTTP -------------------------------------------------------------------------

    def _update(self, update: str) -> None:
        try:
            r = self._client.post(self.update_url, content=(PREFIX + update).encode("utf-8"),
                                  headers={"Content-Type": "application/sparql-update"})
        except httpx.HTTPError as e:
            raise Unavailable(f"SPARQL store unreachable: {type(e).__name__}") from None
        if r.status_code >= 300:
            raise _refused("an update", r)

    def _select(self, query: str) -> list[dict[str, Any]]:
        try:
            r = self._client.post(self.query_url, data={"query": PREFIX + query},
                                  headers={"Accept": "application/sparql-results+json"})
        except httpx.HTTPError as e:
            raise Unavailable(f"SPARQL store unreachable: {type(e).__name__}") from None
        if r.status_code >= 300:
            raise _refused("a query", r)
        return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]

    # -- reads ------------------------------------------------------------------------

    def get(self, iri: str) -> StoredResource | None:
        """The resource or its tombstone from one query on the metadata graph."""
        rows = self._select(f"SELECT ?p ?o {{ GRAPH {META} {{ {iri_term(iri)} ?p ?o }} }}")
        meta: dict[str, str] = {}
        for row in rows:
            if row["p"].startswith(NS):
                meta[row["p"][len(NS):]] = row["o"]
        if "version" not in meta:
            return None
        reps = json.loads(meta.get("representations", "{}"))
        return StoredResource(
            iri=iri, container=meta.get("container"), kind=meta["kind"],  # type: ignore[arg-type]
            ntriples=meta.get("ntriples", ""),
            representations={m: Representation(m, base64.b64decode(v["body"]), v["etag"])
                             for m, v in reps.items()},
            created=datetime.fromisoformat(meta["created"]),
            modified=datetime.fromisoformat(meta["modified"]),
            index=index_from_json(meta.get("index", "{}")),
            binary=base64.b64decode(meta["binary"]) if "binary" in meta else None,
            binary_type=meta.get("binaryType"), version=int(meta["version"]),
            seq=int(meta["seq"]))

    def children(self, container: str, *, after: str | None = None, limit: int = 50,
                 filters: Filters = NO_FILTERS) -> Page:
        """Keyset page, ``FILTER(?seq < cursor) ORDER BY DESC(?seq) LIMIT`` (or ``>`` and
        ascending for a previous page), asked of a few seq buckets at a time, so the
        server sorts at most a few thousand candidates per request, never the whole
        container."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        direction, bound = parse_cursor(after) if after else (OLDER, None)
        newer = direction == NEWER
        where = [(f"?r d:container {iri_term(container)} ; d:kind ?kind ; d:seq ?seq ; "
                  "d:modified ?modified ; d:index ?index ."), 'FILTER(?kind != "tombstone")']
        for name, predicate in TAG_PREDICATES.items():
            value = getattr(filters, name)
            if value:
                where.append(f"?r {predicate} {literal(value)} .")
        if bound is not None:
            where.append(f"FILTER(?seq {'>' if newer else '<'} {bound})")
        if filters.bbox is not None:
            min_long, min_lat, max_long, max_lat = (float(x) for x in filters.bbox)
            where.append("?r d:lat ?lat ; d:long ?long . "
                         f"FILTER(?lat >= {min_lat!r} && ?lat <= {max_lat!r} && "
                         f"?long >= {min_long!r} && ?long <= {max_long!r})")
        if filters.date_from or filters.date_to:
            where.append("?r d:date ?date .")
        if filters.date_from:
            where.append(f"FILTER(STR(?date) >= {literal(filters.date_from)})")
        if filters.date_to:
            # Same meaning as the embedded store: a bare date includes its whole day.
            where.append(f"FILTER(SUBSTR(STR(?date), 1, {len(filters.date_to)}) <= "
                         f"{literal(filters.date_to)})")
        if filters.text:
            where.append("?r d:text ?text .")
            for word in filters.text.lower().split():
                where.append(f"FILTER(CONTAINS(LCASE(?text), {literal(word)}))")
        body = "\n".join(where)
        rows: list[dict[str, Any]] = []
        # Walk down from the newest bucket (or the cursor's), or up to the newest one.
        top = self._counter() // self.bucket_size if bound is None or newer else None
        step = 1 if newer else -1
        bucket = top if bound is None else (bound + 1 if newer else bound - 1) // self.bucket_size
        assert bucket is not None
        width = 1
        while bucket >= 0 and (top is None or bucket <= top) and len(rows) <= limit:
            # Buckets are exact-match lookups on the server's POS index; widening them
            # geometrically keeps sparse filters to a logarithmic number of requests.
            if top is not None and newer:
                span = range(bucket, min(top + 1, bucket + width))
            else:
                span = range(bucket, max(-1, bucket - width), -1)
            values = " ".join(str(b) for b in span)
            rows += self._select(
                f"SELECT ?r ?seq ?kind ?modified ?index {{ GRAPH {META} {{\n"
                f"VALUES ?bucket {{ {values} }} ?r d:bucket ?bucket .\n{body}\n}} }} "
                f"ORDER BY {'ASC' if newer else 'DESC'}(?seq) LIMIT {limit + 1 - len(rows)}")
            bucket += step * width
            width = min(width * 2, MAX_BUCKETS_PER_REQUEST)
        page = keyset_page(rows, limit, bound, newer, seq=lambda row: int(row["seq"]),
                           child=_child)
        return page or self.children(container, limit=limit, filters=filters)

    def _counter(self) -> int:
        rows = self._select(f"SELECT ?n {{ GRAPH {META} {{ d:counter d:next ?n }} }}")
        return int(rows[0]["n"]) if rows else 0

    def count_children(self, container: str) -> int:
        """Exact count of live members (a counter kept by every write)."""
        rows = self._select(f"SELECT ?m {{ GRAPH {META} {{ {iri_term(container)} d:members ?m }} }}")
        return int(rows[0]["m"]) if rows else 0

    def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """Change-log entries with seq > after, oldest first."""
        rows = self._select(
            f"SELECT ?seq ?iri ?action ?at ?container ?types {{ GRAPH {CHANGES} {{ "
            "?c d:seq ?seq ; d:iri ?iri ; d:action ?action ; d:at ?at ; d:types ?types . "
            f"OPTIONAL {{ ?c d:container ?container }} FILTER(?seq > {int(after)}) }} }} "
            f"ORDER BY ?seq LIMIT {int(limit)}")
        return [Change(seq=int(r["seq"]), iri=r["iri"], action=r["action"],
                       at=datetime.fromisoformat(r["at"]), container=r.get("container"),
                       types=tuple(json.loads(r["types"]))) for r in rows]

    def sparql(self, query: str, *, accept: Sequence[str], timeout: float,
               limit: int) -> QueryResult:
        """Forward a guarded query to the query endpoint; re-serialise at most ``limit``
        rows in the negotiated format (the server answers JSON or N-Triples)."""
        form = readonly.check_query(query)
        media_type = negotiate(form, accept)
        graph = form in ("CONSTRUCT", "DESCRIBE")
        wire = "application/n-triples" if graph else "application/sparql-results+json"
        deadline = time.monotonic() + timeout
        try:
            with self._client.stream("POST", self.query_url, data={"query": query},
                                     headers={"Accept": wire}, timeout=timeout) as r:
                if r.status_code == 400:
                    raise BadRequest(f"the SPARQL store rejected the query: "
                                     f"{r.read()[:1024].decode('utf-8', 'replace')}")
                if r.status_code >= 300:
                    r.read()
                    raise _refused("the query", r)
                # iter_bytes: the body as the server meant it, gzip or deflate undone
                # (Virtuoso compresses by default); only what the parser asks for is
                # inflated, and serialisation stops at ``limit``.
                stream = io.BufferedReader(_Body(r.iter_bytes(), deadline, timeout))
                if graph:
                    result: Any = ox.parse(stream, format=ox.RdfFormat.N_TRIPLES)
                else:
                    result = ox.parse_query_results(stream, format=ox.QueryResultsFormat.JSON)
                body, truncated = serialize(result, media_type, limit)
                # pyoxigraph's results may only be dropped by the thread that made them:
                # drop them here, before anything (a GC pass on another thread) can.
                del result, stream
        except httpx.TimeoutException:
            raise QueryTimeout(f"the query ran longer than {timeout:g} s") from None
        except httpx.HTTPError as e:
            raise Unavailable(f"SPARQL store unreachable: {type(e).__name__}") from None
        return QueryResult(media_type=media_type, body=body, truncated=truncated)

    # -- writes -----------------------------------------------------------------------

    def put(self, resource: StoredResource, *, expect_version: int | None = None) -> StoredResource:
        """Create or replace with one conditional UPDATE request, then check it took effect."""
        r = resource
        if r.kind == "tombstone":
            raise ValueError("use delete() to write a tombstone")
        # The server parses the INSERT DATA: a term it could not take is refused (400)
        # here, not answered later as an upstream error (issue 9 item 6).
        check_iri(r.iri)
        check_ntriples(r.ntriples, where=r.iri)
        token = f"<{NS}change:{uuid.uuid4()}>"
        s = iri_term(r.iri)
        checks = []
        if expect_version is not None:
            checks.append(f"FILTER(?cur = {int(expect_version)})")
        if r.container is not None:
            checks.append(f'FILTER EXISTS {{ GRAPH {META} {{ {iri_term(r.container)} d:kind '
                          '"container" } }')
        change_container = f"; d:container {literal(r.container)}" if r.container else ""
        claim = f"""
DELETE {{ GRAPH {META} {{ d:counter d:next ?c }} }}
INSERT {{ GRAPH {META} {{ d:counter d:next ?n }}
         GRAPH {CHANGES} {{ {token} d:seq ?n ; d:iri {literal(r.iri)} ; d:action ?action ;
           d:at {literal(r.modified.isoformat())} ; d:types {literal(json.dumps(list(r.index.types)))}
           {change_container}
           ; d:version ?nv ; d:rseq ?rs ; d:oldContainer ?oc }} }}
WHERE {{
  OPTIONAL {{ GRAPH {META} {{ d:counter d:next ?c0 }} }}
  OPTIONAL {{ GRAPH {META} {{ {s} d:version ?v0 ; d:kind ?k0 ; d:seq ?s0 }} }}
  OPTIONAL {{ GRAPH {META} {{ {s} d:container ?oc0 ; d:kind ?ok
                              FILTER(?ok != "tombstone") }} }}
  BIND(STR(?oc0) AS ?oc)
  BIND(COALESCE(?c0, 0) AS ?c)
  BIND(BOUND(?k0) && ?k0 != "tombstone" AS ?live)
  BIND(IF(?live, ?v0, 0) AS ?cur)
  {" ".join(checks)}
  BIND(?c + 1 AS ?n)
  BIND(COALESCE(?v0, 0) + 1 AS ?nv)
  BIND(IF(?live, ?s0, ?n) AS ?rs)
  BIND(IF(?live, "update", "create") AS ?action)
}}"""
        fields = meta_triples(r)
        update = f"""{claim} ;
DELETE {{ GRAPH {s} {{ ?s ?p ?o }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:seq ?n }} GRAPH {s} {{ ?s ?p ?o }} }} ;
DELETE {{ GRAPH {META} {{ {s} ?p ?o }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:seq ?n }} GRAPH {META} {{ {s} ?p ?o
         FILTER(?p != d:members) }} }} ;
INSERT {{ GRAPH {s} {{ {triples(r.ntriples)} }}
         GRAPH {META} {{ {s} d:version ?nv ; d:seq ?rs ; d:bucket ?bucket ; {fields} }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:version ?nv ; d:rseq ?rs }}
        BIND(xsd:integer(FLOOR(?rs / {self.bucket_size})) AS ?bucket) }}"""
        if r.container is not None:
            # Member counts: +1 for the container on a create (or a move), -1 for the
            # container moved away from; conditioned on the change entry like the rest.
            c = literal(r.container)
            moved_in = (f"GRAPH {CHANGES} {{ {token} d:seq ?n "
                        f"OPTIONAL {{ {token} d:oldContainer ?oc }} }} "
                        f"FILTER(!BOUND(?oc) || ?oc != {c})")
            moved_out = (f"GRAPH {CHANGES} {{ {token} d:oldContainer ?oc }} FILTER(?oc != {c}) "
                         "BIND(IRI(?oc) AS ?cont)")
            update += (f" ;\n{count_members(iri_term(r.container), +1, moved_in)}"
                       f" ;\n{count_members('?cont', -1, moved_out)}")
        done = self._write(update, token)
        if done is None:
            current = self.get(r.iri)
            live = current is not None and current.kind != "tombstone"
            check_version(r.iri, current.version if live and current else 0, expect_version)
            raise Conflict(f"container {r.container} of {r.iri} does not exist")
        return dataclasses.replace(r, version=done[0], seq=done[1])

    def delete(self, iri: str, *, tombstone: StoredResource,
               expect_version: int | None = None) -> None:
        """Replace by ``tombstone`` with one conditional UPDATE request."""
        if tombstone.kind != "tombstone":
            raise ValueError("delete() needs a resource of kind 'tombstone'")
        token = f"<{NS}change:{uuid.uuid4()}>"
        s = iri_term(iri)
        check = f"FILTER(?v0 = {int(expect_version)})" if expect_version is not None else ""
        claim = f"""
DELETE {{ GRAPH {META} {{ d:counter d:next ?c }} }}
INSERT {{ GRAPH {META} {{ d:counter d:next ?n }}
         GRAPH {CHANGES} {{ {token} d:seq ?n ; d:iri {literal(iri)} ; d:action "delete" ;
           d:at {literal(tombstone.modified.isoformat())} ; d:types ?types ;
           d:container ?container ; d:version ?nv ; d:rseq ?s0 }} }}
WHERE {{
  GRAPH {META} {{ {s} d:version ?v0 ; d:kind ?k0 ; d:seq ?s0 ; d:types ?types .
                  OPTIONAL {{ {s} d:container ?cont }} }}
  FILTER(?k0 != "tombstone")
  {check}
  FILTER NOT EXISTS {{ GRAPH {META} {{ ?child d:container {s} ; d:kind ?ck
                                       FILTER(?ck != "tombstone") }} }}
  OPTIONAL {{ GRAPH {META} {{ d:counter d:next ?c0 }} }}
  BIND(COALESCE(?c0, 0) AS ?c)
  BIND(?c + 1 AS ?n)
  BIND(?v0 + 1 AS ?nv)
  BIND(STR(?cont) AS ?container)
}}"""
        fields = meta_triples(dataclasses.replace(tombstone, iri=iri), tombstone=True)
        left = f"GRAPH {CHANGES} {{ {token} d:container ?c }} BIND(IRI(?c) AS ?cont)"
        update = f"""{claim} ;
DELETE {{ GRAPH {s} {{ ?s ?p ?o }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:seq ?n }} GRAPH {s} {{ ?s ?p ?o }} }} ;
DELETE {{ GRAPH {META} {{ {s} ?p ?o }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:seq ?n }} GRAPH {META} {{ {s} ?p ?o
          FILTER(?p != d:container && ?p != d:members) }} }} ;
INSERT {{ GRAPH {META} {{ {s} d:version ?nv ; d:seq ?rs ; {fields} }} }}
WHERE {{ GRAPH {CHANGES} {{ {token} d:version ?nv ; d:rseq ?rs }} }} ;
{count_members("?cont", -1, left)}"""
        if self._write(update, token) is not None:
            return
        current = self.get(iri)
        if current is None:
            raise NotFound(f"no resource at {iri}")
        if current.kind == "tombstone":
            raise Gone(f"{iri} was already deleted")
        check_version(iri, current.version, expect_version)
        raise Conflict(f"container {iri} still has members")

    def _write(self, update: str, token: str) -> tuple[int, int] | None:
        """Run a conditional write under the store-wide write lock; its (version, seq),
        or None when its condition failed."""
        with self._local_lock:  # this process's writers queue here, not on the server
            holder = self._acquire()
            release = f"DELETE DATA {{ GRAPH {META} {{ d:lock d:holder {literal(holder)} }} }}"
            try:
                self._update(f"{update} ;\n{release}")
            except Unavailable:
                # The answer may have been lost after the server committed: the change
                # entry tells. Either way the lock is ours to release.
                self._update(release)
                done = self._outcome(token)
                if done is None:
                    raise
                return done
            except BaseException:
                self._update(release)
                raise
            return self._outcome(token)

    def _acquire(self) -> str:
        """Take the write lock shared by every process using this SPARQL store.

        Servers run an update request in one transaction but not necessarily isolated
        from a concurrent one (Oxigraph gives snapshot isolation: two requests can both
        read counter N and both write N+1). So a writer inserts its holder token only if
        there is none, then reads the holders back after commit: it owns the lock when
        its token is the only one; otherwise it withdraws and retries after a random
        pause. A holder that died leaves a lease that expires after LEASE_SECONDS.
        """
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            now = time.time()
            holder = f"{uuid.uuid4()}|{now + LEASE_SECONDS:.3f}"
            self._update(
                f"DELETE {{ GRAPH {META} {{ d:lock d:holder ?old }} }} WHERE {{ GRAPH {META} "
                f"{{ d:lock d:holder ?old }} FILTER(xsd:double(STRAFTER(?old, \"|\")) < {now:.3f}) }} ;\n"
                f"INSERT {{ GRAPH {META} {{ d:lock d:holder {literal(holder)} }} }} WHERE "
                f"{{ FILTER NOT EXISTS {{ GRAPH {META} {{ d:lock d:holder ?h }} }} }}")
            holders = [r["h"] for r in self._select(
                f"SELECT ?h {{ GRAPH {META} {{ d:lock d:holder ?h }} }}")]
            if holders == [holder]:
                return holder
            if holder in holders:  # a tie: both inserted; both withdraw
                self._update(f"DELETE DATA {{ GRAPH {META} {{ d:lock d:holder "
                             f"{literal(holder)} }} }}")
            if time.monotonic() > deadline:
                raise Unavailable("the SPARQL store is busy (write lock held by another "
                                  "node process); retry")
            time.sleep(random.uniform(0.001, 0.02))

    def _outcome(self, token: str) -> tuple[int, int] | None:
        rows = self._select(f"SELECT ?nv ?rs {{ GRAPH {CHANGES} {{ {token} d:version ?nv ; "
                            "d:rseq ?rs } }")
        return (int(rows[0]["nv"]), int(rows[0]["rs"])) if rows else None


def _refused(what: str, r: httpx.Response) -> Problem:
    """The problem for a SPARQL server's refusal. Its answer often quotes the request —
    the node's internal update or query, with other resources' data — so it goes to the
    operator's log (first 1 KiB), never to the client."""
    log.warning("the SPARQL store refused %s (%d): %s", what, r.status_code,
                r.text[:1024])
    if r.status_code == 413:
        return PayloadTooLarge(f"the SPARQL store refused {what} this large")
    return Unavailable(f"the SPARQL store refused {what} ({r.status_code}); the operator's "
                       "log has its answer")


class _Body(io.RawIOBase):
    """A streamed HTTP body as a file for pyoxigraph's parsers, with an overall deadline."""

    def __init__(self, chunks: Iterator[bytes], deadline: float, timeout: float) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._deadline = deadline
        self._timeout = timeout

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            if time.monotonic() > self._deadline:
                raise QueryTimeout(f"the query ran longer than {self._timeout:g} s")
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

