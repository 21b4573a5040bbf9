"""The node core: LDP 1.0 and Solid Protocol rules over a Store, with no web framework.

The HTTP layer, the CLI and the importers all call :class:`Node`. Reads are a store
lookup and a rendering cache (:class:`ddsnode.ldp.representation.Renderings`); every write
goes through one path — parse, check subjects and type against the container, set the
server-managed triples, validate against the shapes, store the N-Triples atomically
(compare-and-swap on the version) — so nothing is half-written and nothing unvalidated
is published.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import rdflib

from ddsnode.clock import TIMESTAMP
from ddsnode.ldp import listing, representation
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.containers import (
    Container,
    ContainerRegistry,
    check_path,
    new_id,
    parent_path,
    sanitise_slug,
)
from ddsnode.ldp.description import container_triples, node_description
from ddsnode.ldp.filters import container_filters
from ddsnode.ldp.indexing import title_of
from ddsnode.ldp.patch import PatchBudget, apply_patch
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.ldp.records import (
    BINARY_KEY,
    Target,
    WriteHook,
    container_record,
    from_body,
    now,
    rdf_record,
    tombstone_record,
)
from ddsnode.ldp.tokens import TokenInfo, TokenRegistry
from ddsnode.ldp.writer import Writer
from ddsnode.lru import LRU
from ddsnode.problem import (
    Conflict,
    Forbidden,
    Gone,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import JsonLdLimits
from ddsnode.rdf.vocab import LDP
from ddsnode.settings import Settings
from ddsnode.store.base import Page, Representation, Store, StoredResource

__all__ = ["BINARY_KEY", "ContainerView", "Found", "Node", "Target", "WriteResult"]

log = logging.getLogger(__name__)

META_SUFFIX = ".meta"  # <iri>.meta describes the non-RDF source <iri> (LDP 4.2.2.1 describedby)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_RETRIES = 20  # unconditional writes that lose a compare-and-swap race try again
NO_PRECONDITIONS = Preconditions()


@dataclass(frozen=True)
class Found:
    """A live resource, or the description of a non-RDF source (``<iri>.meta``)."""

    resource: StoredResource
    description: bool = False

    @property
    def described_iri(self) -> str:
        """The IRI of the description resource of a non-RDF source."""
        return self.resource.iri + META_SUFFIX


@dataclass(frozen=True)
class WriteResult:
    """What a write stored, and whether it created the resource."""

    resource: StoredResource
    created: bool


@dataclass(frozen=True)
class ContainerView:
    """One page of a container in one media type, the cursors of the pages around it,
    and when the container or any member last changed (None: the store cannot tell)."""

    representation: Representation
    next_cursor: str | None
    query: dict[str, str]  # the filter parameters, to build first/next/prev links
    prev_cursor: str | None = None
    modified: datetime | None = None


# Configured containers' records kept per process (least recently used dropped first):
# the root's 16 containers for each base IRI a process serves. A test process starts
# hundreds of nodes, and every CLI command opens one, each with the same containers.
CONFIGURED_CONTAINERS_MAX = 256


@lru_cache(maxsize=CONFIGURED_CONTAINERS_MAX)
def _configured_container(iri: str, parent: str, title: str,
                          shapes: tuple[rdflib.URIRef, ...]) -> StoredResource:
    """A configured container's record, its triples serialised and indexed once: they
    depend on these arguments alone (the times are set when it is stored, ``_ensure``)."""
    graph = rdflib.Graph()
    container_triples(graph, rdflib.URIRef(iri), title, shapes)
    return container_record(iri, parent, graph)


def _holds(current: StoredResource | None, record: StoredResource) -> bool:
    """Whether ``current`` is the container ``record`` describes, with the same triples."""
    return current is not None and current.kind == "container" and \
        current.ntriples == record.ntriples


class Node:
    """One node: settings, store, containers and tokens; the operations HTTP exposes."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.base: str = settings.base_url
        self.jsonld_limits = JsonLdLimits.from_settings(settings)  # bounds of a JSON-LD body
        self.containers = ContainerRegistry(open_containers=settings.open_containers,
                                            private_containers=settings.private_containers)
        self.tokens = TokenRegistry(settings.node_dir, settings=settings, store=store) \
            if settings.node_dir else None
        self._graphs: LRU[rdflib.Graph] = LRU(256)  # containers' own triples, parsed
        self._pages: LRU[ContainerView] = LRU(512)
        self.renderings = representation.Renderings(
            int(settings.render_cache_mb) * 1024 * 1024, timeout=settings.render_timeout,
            workers=settings.render_workers)
        # Checks and server-managed triples run in the write path (records.WriteHook),
        # registered by whoever assembles the node (ddsnode.http.app.create_app).
        self.write_hooks: list[WriteHook] = []
        self.writer = Writer(store)  # runs the HTTP layer's writes (ddsnode.ldp.writer)

    @classmethod
    def open(cls, settings: Settings) -> Node:
        """Open the store the settings name and make sure every container exists."""
        from ddsnode.store import open_store
        node = cls(settings, open_store(settings))
        node.ensure_containers()
        return node

    def close(self) -> None:
        """Finish queued writes, then close the store."""
        self.writer.close()
        self.store.close()

    # --- IRIs and access -------------------------------------------------------------

    def target(self, iri: str) -> Target:
        """Resolve ``iri``; NotFound outside the node, BadRequest for an unclean path."""
        if not iri.startswith(self.base):
            raise NotFound(f"{iri[:200]} is not under this node's base IRI {self.base}")
        path = iri[len(self.base):]
        check_path(path)
        return Target(iri, path, self.containers.get(path))

    def required_scope(self, method: str, target: Target) -> str | None:
        """The token scope ``method`` on ``target`` needs, or None when it is public."""
        container = target.container
        if method in READ_METHODS:
            return "read" if needs_token(container) and method != "OPTIONS" else None
        if container is not None and container.open and not container.private:
            return None  # an open container: anyone may write (e.g. conformance tests)
        if container is not None and container.path == "analysis/":
            return "review"  # issue 13: confirming a duplicate, publishing a model's draft
        return "write"

    def authorize(self, scope: str | None, authorization: str | None) -> TokenInfo | None:
        """Check a ``Bearer`` token for ``scope``: Unauthorized (401) or Forbidden (403)."""
        if scope is None:
            return None
        challenge = {"WWW-Authenticate": 'Bearer realm="ddsnode"'}
        if not authorization:
            raise Unauthorized(f"This request needs a bearer token with scope {scope!r}",
                               headers=challenge)
        kind, _, token = authorization.partition(" ")
        info = self.tokens.verify(token.strip()) if self.tokens and kind.lower() == "bearer" \
            else None
        if info is None:
            raise Unauthorized("The bearer token is unknown, revoked or malformed",
                               headers={"WWW-Authenticate":
                                        'Bearer realm="ddsnode", error="invalid_token"'})
        if scope not in info.scopes and "admin" not in info.scopes:
            raise Forbidden(f"The token lacks scope {scope!r}",
                            headers={"WWW-Authenticate":
                                     'Bearer realm="ddsnode", error="insufficient_scope"'})
        return info

    # --- containers ------------------------------------------------------------------

    def ensure_containers(self) -> None:
        """Create (or refresh the description of) the root and every configured container."""
        records = [container_record(self.base, None,
                                    node_description(self.settings, self.containers))]
        records += [_configured_container(self.base + c.path, self.base, c.title, c.shapes)
                    for c in self.containers]
        stale = [r for r in records if not _holds(self.store.get(r.iri), r)]
        if not stale:
            return  # an existing node: nothing to write, no write lock taken
        # One transaction for them all: one commit (and fsync) where each container made
        # its own; on a store without transactions, each write commits by itself as before.
        with self.store.transaction():
            for record in stale:
                self._ensure(record)

    def _ensure(self, record: StoredResource) -> None:
        """Store ``record`` (its times set now) unless the same triples are stored there."""
        current = self.store.get(record.iri)
        if _holds(current, record):
            return  # written meanwhile
        moment = now()
        resource = replace(record, representations={}, modified=moment,
                           created=current.created if current is not None else moment)
        live = current is not None and current.kind != "tombstone"
        try:
            self.store.put(resource, expect_version=current.version if live and current else 0)
        except PreconditionFailed:
            pass  # another process made it at the same moment

    def _graph(self, resource: StoredResource) -> rdflib.Graph:
        """The stored graph of ``resource`` (parsed once per version, for container pages)."""
        return self._graphs.get_or_make((resource.iri, resource.version),
                                        lambda: rdfio.graph_from_ntriples(resource.ntriples))

    def container_view(self, target: Target, resource: StoredResource, offer: str,
                       params: Mapping[str, str]) -> ContainerView:
        """One page of a container (filters and cursor from ``params``) as ``offer``."""
        stamp = self.store.container_stamp(resource.iri)
        if stamp is None:
            return self._container_view(target, resource, offer, params, None)
        key = (resource.iri, resource.version, stamp, offer, tuple(sorted(params.items())))
        return self._pages.get_or_make(
            key, lambda: self._container_view(target, resource, offer, params, stamp))

    def _container_view(self, target: Target, resource: StoredResource, offer: str,
                        params: Mapping[str, str], stamp: int | None) -> ContainerView:
        filters, limit, cursor, query = container_filters(
            params, page_size=self.settings.page_size, max_page_size=self.settings.max_page_size)
        page: Page = self.store.children(resource.iri, after=cursor, limit=limit, filters=filters)
        if target.path == "":
            # The root lists public containers only, for every reader (so one cached page
            # fits all): a private one is not advertised (ddsnode.ldp.access; the description).
            page = replace(page, items=[c for c in page.items if not needs_token(
                self.containers.get(c.iri[len(self.base):]))])
        triples, members = listing.page_triples(self._graph(resource), resource.iri, page)
        free_form = target.container is not None and target.container.open
        body = listing.render(triples, resource.iri, offer, compact=not free_form,
                              contains=LDP.contains)
        if body is not None:
            rep = representation.make(offer, body)
        else:  # HTML: rare enough to go through rdflib
            graph = rdflib.Graph()
            for triple in triples:
                graph.add(triple)
            title = title_of(graph, rdflib.URIRef(resource.iri)) or resource.iri
            rep = representation.render(graph, resource.iri, offer, title=title,
                                        listing=members)
        modified = None
        if stamp is not None:  # the container's own triples, or its latest member change
            changed = self.store.changed_at(stamp) if stamp else None
            if changed is not None:
                modified = max(resource.modified, changed)
            elif not self.store.count_children(resource.iri):
                # No member change recorded and no member: the container's own date. (Members
                # written before the stamps table existed leave stamp 0: no date then.)
                modified = resource.modified
        return ContainerView(rep, page.next, query, page.prev, modified)

    # --- reads -----------------------------------------------------------------------

    def read(self, target: Target) -> Found:
        """The live resource at ``target``: NotFound, or Gone (410) for a tombstone."""
        resource = self.store.get(target.iri)
        if resource is None and target.iri.endswith(META_SUFFIX):
            described = self.store.get(target.iri[:-len(META_SUFFIX)])
            if described is not None and described.kind == "binary":
                return Found(described, description=True)
        if resource is None:
            raise NotFound(f"Nothing at {target.iri}")
        if resource.kind == "tombstone":
            if target.container is not None and target.container.open:
                # Free-form containers forget deletions (Solid CRUD tests expect 404).
                raise NotFound(f"Nothing at {target.iri}")
            raise Gone(f"{target.iri} was deleted", extra={
                "deleted": resource.modified.strftime(TIMESTAMP),
                "formerType": list(resource.index.types)})
        return Found(resource)

    def rendered(self, target: Target, found: Found, offer: str) -> Representation | None:
        """``found`` (an RDF source, or a file's description) as ``offer``; None if not offered."""
        return self.renderings.get(found.resource, offer, compact=self._compact(target))

    @staticmethod
    def _compact(target: Target) -> bool:
        # Free-form data (open containers) is not in our vocabulary: its JSON-LD is the
        # expanded form, which any client parses without fetching a context.
        return target.container is None or not target.container.open

    def sparql(self, query: str, accept: list[str]) -> Any:
        """Run a read-only SPARQL query within the configured time and result limits."""
        return self.store.sparql(query, accept=accept, timeout=self.settings.sparql_timeout,
                                 limit=self.settings.sparql_result_limit)

    # --- writes ----------------------------------------------------------------------

    def _writable(self, target: Target) -> Container:
        """The container a write to ``target`` lands in; 405/404/409 when there is none."""
        container = target.container
        if target.path == "" or (container is not None and target.path == container.path):
            raise MethodNotAllowed("The root and the configured containers are managed by the "
                                   "node's settings", headers={"Allow": "GET, HEAD, OPTIONS, POST"
                                                               if target.path else
                                                               "GET, HEAD, OPTIONS"})
        if container is None:
            names = ", ".join(c.path for c in self.containers)
            raise NotFound(f"No container holds {target.iri}; the containers are: {names}")
        inner = target.path[len(container.path):].rstrip("/")
        if not container.open and "/" in inner or not container.open and target.is_container:
            raise Conflict(f"{container.path} holds no nested containers")
        if target.iri.endswith(META_SUFFIX):
            raise Conflict(f"Names ending in {META_SUFFIX} are reserved for descriptions of "
                           "non-RDF sources")
        return container

    def put(self, iri: str, body: bytes, media_type: str, *,
            preconditions: Preconditions = NO_PRECONDITIONS) -> WriteResult:
        """Create or replace the resource at ``iri`` (RFC 9110 9.3.4; Solid Protocol 5.3)."""
        target = self.target(iri)
        container = self._writable(target)
        return self._store(target, container, preconditions,
                           lambda current: from_body(target, container, body, media_type, current,
                                                     publisher=self.base,
                                                     engine=self.settings.validation_engine,
                                                     hooks=self.write_hooks,
                                                     limits=self.jsonld_limits))

    def write_document(self, iri: str, data: bytes, media_type: str, *,
                       create_only: bool = False) -> StoredResource:
        """Validate and store a document without HTTP (CLI demo, importers): same path as PUT."""
        pre = Preconditions(if_none_match=("*",)) if create_only else Preconditions()
        return self.put(iri, data, media_type, preconditions=pre).resource

    def post(self, container_iri: str, body: bytes, media_type: str, *, slug: str | None = None,
             as_container: bool = False) -> StoredResource:
        """Create a member of a container (LDP 5.2.3.1); Slug honoured (RFC 5023 9.7)."""
        parent = self.target(container_iri)
        found = self.read(parent)
        if found.resource.kind != "container" or found.description:
            raise MethodNotAllowed("POST creates members of containers only",
                                   headers={"Allow": "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"})
        if parent.path == "":
            raise MethodNotAllowed("The node's containers are set by its settings",
                                   headers={"Allow": "GET, HEAD, OPTIONS"})
        assert parent.container is not None
        free_form = parent.container.open
        name = sanitise_slug(slug, free_form=free_form)
        if as_container and not free_form:
            raise Conflict(f"{parent.container.path} holds no nested containers")
        for _ in range(MAX_RETRIES):
            suffix = "/" if as_container else ""
            iri = f"{container_iri}{name}{suffix}"
            twin = iri[:-1] if as_container else iri + "/"
            if self._live(iri) or self._live(twin) or iri.endswith(META_SUFFIX):
                name = f"{name}-{new_id()[:4]}"  # Slug taken: keep it recognisable
                continue
            try:
                return self.put(iri, body, media_type,
                                preconditions=Preconditions(if_none_match=("*",))).resource
            except PreconditionFailed:
                name = f"{name}-{new_id()[:4]}"
        raise Conflict("Could not mint a free IRI in this container; retry")

    def patch(self, iri: str, body: bytes, media_type: str, *,
              preconditions: Preconditions = NO_PRECONDITIONS) -> WriteResult:
        """Apply an N3 Patch or SPARQL Update (Solid Protocol 5.3.1); creates when absent."""
        target = self.target(iri)
        container = self._writable(target)

        def build(current: StoredResource | None) -> StoredResource:
            if current is not None and current.kind == "binary":
                raise UnsupportedMediaType("PATCH applies to RDF sources; replace a file with PUT")
            graph = rdflib.Graph()
            if current is not None:
                graph = rdfio.graph_from_ntriples(current.ntriples)
                if current.kind == "container":
                    for triple in list(graph.triples((rdflib.URIRef(iri), LDP.contains, None))):
                        graph.remove(triple)
            patched = apply_patch(graph, target.iri, body, media_type, isolated=True,
                                  budget=PatchBudget.from_settings(self.settings))
            return rdf_record(target, container, patched, current, publisher=self.base,
                              engine=self.settings.validation_engine, hooks=self.write_hooks)

        return self._store(target, container, preconditions, build)

    def recount(self, iri: str) -> StoredResource | None:
        """Write ``iri`` again as it stands, so the write hooks restate its server-managed
        triples (reaction counts): the one write path, for federation and importers alike.
        None when it is not a live RDF source or its shape refuses the result."""
        target = self.target(iri)
        container = self._writable(target)

        def build(current: StoredResource | None) -> StoredResource:
            if current is None or current.kind != "rdf":
                raise NotFound(f"{iri[:200]} is not a live RDF source")
            return rdf_record(target, container, rdfio.graph_from_ntriples(current.ntriples),
                              current, publisher=self.base,
                              engine=self.settings.validation_engine, hooks=self.write_hooks)

        try:
            return self._store(target, container, NO_PRECONDITIONS, build).resource
        except (NotFound, ValidationFailed) as e:
            log.info("counts of %s not restated: %s", iri, e)
            return None

    def delete(self, iri: str, *, preconditions: Preconditions = NO_PRECONDITIONS) -> None:
        """Replace the resource by a tombstone (as:Tombstone): 410 from then on."""
        target = self.target(iri)
        self._writable(target)
        found = self.read(target)
        if found.description:
            raise MethodNotAllowed("Delete the file itself; its description goes with it",
                                   headers={"Allow": "GET, HEAD, OPTIONS"})
        current = found.resource
        preconditions.check_write(self._etags(target, current, preconditions))
        if current.kind == "container" and self.store.count_children(current.iri):
            raise Conflict("The container is not empty (Solid Protocol 5.4)")
        tombstone = tombstone_record(current)
        self.store.delete(iri, tombstone=tombstone, expect_version=current.version)

    # --- the write path --------------------------------------------------------------

    def _live(self, iri: str) -> StoredResource | None:
        found = self.store.get(iri)
        return found if found is not None and found.kind != "tombstone" else None

    def _etags(self, target: Target, resource: StoredResource | None,
               preconditions: Preconditions) -> list[str] | None:
        """The current ETags for a write's preconditions (None: nothing there); rendered
        only when the request is conditional."""
        if resource is None or resource.kind == "tombstone":
            return None
        if not preconditions.given:
            return []
        if resource.kind == "container":
            # What a client read is a page: the tags of the first page in every media
            # type (RFC 9110 13.1.1 compares the selected representation's tag).
            return [self.container_view(target, resource, offer, {}).representation.etag
                    for offer in representation.ETAG_OFFERS]
        tags = self.renderings.etags(resource, compact=self._compact(target))
        if resource.kind == "binary":  # the file's own tag, and its description's
            tags.append(resource.representations[BINARY_KEY].etag)
        return tags

    def _store(self, target: Target, container: Container, preconditions: Preconditions,
               build: Any) -> WriteResult:
        """Check preconditions, build, create missing parents, compare-and-swap; retry races."""
        for _ in range(MAX_RETRIES):
            current = self._live(target.iri)
            preconditions.check_write(self._etags(target, current, preconditions))
            if current is None:
                twin = target.iri[:-1] if target.is_container else target.iri + "/"
                if self._live(twin):
                    raise Conflict(f"{twin} exists; a resource and a container cannot share a "
                                   "name (Solid Protocol 3.1)")
            resource = build(current)
            self._ensure_parents(target, container)
            try:
                stored = self.store.put(resource,
                                        expect_version=current.version if current else 0)
            except PreconditionFailed:
                if preconditions.given:
                    raise
                continue  # someone else wrote in between: redo on the new state
            return WriteResult(stored, current is None)
        raise Conflict("The resource is being changed by others; retry")

    def _ensure_parents(self, target: Target, container: Container) -> None:
        """Create missing intermediate containers (Solid Protocol 0.11, 3.1) — open ones only."""
        chain = []
        path = parent_path(target.path)
        while path is not None and len(path) > len(container.path):
            chain.append(path)
            path = parent_path(path)
        for path in reversed(chain):
            iri = self.base + path
            if self._live(iri) is not None:
                continue
            if self._live(iri[:-1]) is not None:
                raise Conflict(f"{iri[:-1]} is not a container")
            g = rdflib.Graph()
            container_triples(g, rdflib.URIRef(iri), "")
            resource = container_record(iri, self.base + (parent_path(path) or ""), g)
            try:
                self.store.put(resource, expect_version=0)
            except PreconditionFailed:
                pass  # created meanwhile by a concurrent request
