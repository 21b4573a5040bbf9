"""The directory of participatory digital governance: organisations, initiatives, matrix.

Plain Python over the store and the peer cache (no web framework). An organisation is an
``org:Organization`` resource in ``organisations/``; its initiatives
(``dds:GovernanceInitiative``, linked by ``dds:hasInitiative``) are classified by
cluster (``dds:governanceCluster``) and IAP2 level (``dds:iap2Level``); where it is comes
from its place (``dct:spatial``: ``geo:lat``/``geo:long``, an address with
``dds:countryCode``). The same reading applies to this node's resources and to the
organisations cached from followed nodes (``federation.db``, ``cache`` table, status
``valid``: they passed the shapes and the origin check, ``ddsnode/federation/cache.py``), which keep
their origin IRI.

A :class:`Directory` is read whole, bounded by ``directory_max_organisations``; filters,
the matrix of clusters x levels and the ecosystem links between clusters are computed
over it in memory (a directory is hundreds of organisations, not millions).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import rdflib

from ddsnode import resources
from ddsnode.explorer.directory_terms import KIND_SCHEME_PATH, clusters, levels
from ddsnode.federation.cache import CacheReader
from ddsnode.rdf.vocab import DCTERMS, DDS, FOAF, GEO, LOCN, ORG, RDF
from ddsnode.store.base import Store

CONTAINER = "organisations/"
PLACES = "places/"
PAGE = 200  # store page size while reading the directory
MAX_OUTLINES = 500  # places read for the map's outlines (vertices: map.MAX_OUTLINE_VERTICES)


@dataclass(frozen=True)
class Initiative:
    """One governance initiative, with its clusters and IAP2 level as words."""

    iri: str
    titles: dict[str, str]
    clusters: tuple[str, ...]
    level: str | None
    homepage: str | None = None

    def title(self, lang: str) -> str:
        """The title in ``lang``, else English, else any."""
        return self.titles.get(lang) or self.titles.get("en") or next(iter(self.titles.values()),
                                                                      self.iri)


@dataclass(frozen=True)
class Organisation:
    """One organisation of the directory, local or cached from a peer (``origin``)."""

    iri: str
    name: str
    homepage: str | None
    descriptions: dict[str, str]
    country: str | None
    kind: str | None
    city: str | None
    lat: float | None
    long: float | None
    clusters: tuple[str, ...]  # its own and its initiatives'
    initiatives: tuple[Initiative, ...]
    origin: str | None = None  # None: this node; else the peer's origin

    def description(self, lang: str) -> str:
        """The description in ``lang``, else English, else any."""
        d = self.descriptions
        return d.get(lang) or d.get("en") or next(iter(d.values()), "")


@dataclass(frozen=True)
class Query:
    """A filter of the directory; empty fields do not filter. The URL's GET parameters."""

    country: str = ""
    kind: str = ""
    cluster: str = ""
    level: str = ""

    def matches_org(self, org: Organisation) -> bool:
        """Country and kind (what an organisation is, not what it does)."""
        return ((not self.country or (org.country or "") == self.country)
                and (not self.kind or (org.kind or "") == self.kind))

    def matches_initiative(self, initiative: Initiative) -> bool:
        """Cluster and level, on the same initiative."""
        return ((not self.cluster or self.cluster in initiative.clusters)
                and (not self.level or initiative.level == self.level))

    def params(self, **change: str) -> dict[str, str]:
        """The non-empty parameters, with ``change`` applied (for links)."""
        values = {"country": self.country, "kind": self.kind, "cluster": self.cluster,
                  "level": self.level, **change}
        return {k: v for k, v in values.items() if v}


@dataclass
class Selection:
    """What a query selects: organisations and, of them, the initiatives that match."""

    organisations: list[Organisation] = field(default_factory=list)
    initiatives: list[tuple[Organisation, Initiative]] = field(default_factory=list)


def _literals(graph: rdflib.Graph, subject: rdflib.term.Node,
              predicate: rdflib.URIRef) -> dict[str, str]:
    return {(v.language or ""): str(v) for v in graph.objects(subject, predicate)
            if isinstance(v, rdflib.Literal)}


def _first(graph: rdflib.Graph, subject: rdflib.term.Node,
           predicate: rdflib.URIRef) -> rdflib.term.Node | None:
    return next(iter(sorted(graph.objects(subject, predicate), key=str)), None)


def _float(value: rdflib.term.Node | None) -> float | None:
    try:
        return float(str(value)) if isinstance(value, rdflib.Literal) else None
    except ValueError:
        return None


def _words(graph: rdflib.Graph, subject: rdflib.term.Node, predicate: rdflib.URIRef,
           scheme_iris: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted({scheme_iris[str(o)] for o in graph.objects(subject, predicate)
                         if str(o) in scheme_iris}))


def organisation_from_graph(graph: rdflib.Graph, iri: str,
                            origin: str | None = None) -> Organisation:
    """Read one organisation (and its initiatives) from the graph of its resource."""
    subject = rdflib.URIRef(iri)
    cluster_words = {c.iri: c.word for c in clusters().concepts}
    level_words = {c.iri: c.word for c in levels().concepts}
    initiatives = []
    linked = set(graph.objects(subject, DDS.hasInitiative)) | set(
        graph.subjects(DDS.runBy, subject))
    for node in sorted(linked, key=str):
        if (node, RDF.type, DDS.GovernanceInitiative) not in graph:
            continue  # an initiative described elsewhere: not in this graph to read
        found_levels = _words(graph, node, DDS.iap2Level, level_words)
        homepage = _first(graph, node, FOAF.homepage)
        initiatives.append(Initiative(
            str(node), _literals(graph, node, DCTERMS.title) or {"": str(node)},
            _words(graph, node, DDS.governanceCluster, cluster_words),
            found_levels[0] if found_levels else None,
            str(homepage) if isinstance(homepage, rdflib.URIRef) else None))
    own = set(_words(graph, subject, DDS.governanceCluster, cluster_words))
    for initiative in initiatives:
        own.update(initiative.clusters)
    place = _first(graph, subject, DCTERMS.spatial)
    address = _first(graph, place, LOCN.address) if place is not None else None
    country = city = None
    if address is not None:
        code, town = _first(graph, address, DDS.countryCode), _first(graph, address, LOCN.postName)
        country = str(code).upper() if code is not None else None
        city = str(town) if town is not None else None
    kind_node = _first(graph, subject, ORG.classification)
    kind = None
    if isinstance(kind_node, rdflib.URIRef) and f"{KIND_SCHEME_PATH}#" in str(kind_node):
        kind = str(kind_node).rsplit("#", 1)[1]
    names = _literals(graph, subject, FOAF.name)
    homepage = _first(graph, subject, FOAF.homepage)
    return Organisation(
        iri=iri, name=names.get("") or next(iter(names.values()), iri),
        homepage=str(homepage) if isinstance(homepage, rdflib.URIRef) else None,
        descriptions=_literals(graph, subject, DCTERMS.description), country=country,
        kind=kind, city=city,
        lat=_float(_first(graph, place, GEO.lat)) if place is not None else None,
        long=_float(_first(graph, place, GEO.long)) if place is not None else None,
        clusters=tuple(sorted(own)), initiatives=tuple(initiatives), origin=origin)


def _local(store: Store, base: str, limit: int,
           may_read: Callable[[str], bool] = lambda iri: True) -> Iterator[Organisation]:
    after, seen = None, 0
    organization = str(ORG.Organization)
    if not may_read(base + CONTAINER):
        return  # a private container (ldp/access.py): this reader learns nothing of it
    while seen < limit:
        page = store.children(base + CONTAINER, after=after, limit=min(PAGE, limit - seen))
        for child in page.items:
            if organization not in child.types or not may_read(child.iri):
                continue  # a party (dds:Party) shares the container
            stored = store.get(child.iri)
            if stored is None or stored.kind == "tombstone":
                continue
            graph = rdflib.Graph()
            graph.parse(data=stored.ntriples, format="nt")
            seen += 1
            yield organisation_from_graph(graph, child.iri)
        if not page.next or not page.items:
            return
        after = page.next


def _cached(federation_db: Path, limit: int) -> Iterator[Organisation]:
    rows = CacheReader(federation_db).valid(type_iri=str(ORG.Organization), limit=limit,
                                            newest_first=True)
    for iri, origin, ntriples in rows:
        graph = rdflib.Graph()
        graph.parse(data=ntriples, format="nt")
        yield organisation_from_graph(graph, iri, origin=origin)


def _cache_state(federation_db: Path) -> tuple[int, int] | None:
    """(last seq, rows) of the peer cache: it changes when an entry is stored, refetched,
    dropped or evicted."""
    return CacheReader(federation_db).state()


class DirectoryCache:
    """The organisations last read (own, then peers'), kept while neither the
    ``organisations/`` container (:meth:`Store.container_stamp`) nor the peer cache
    changes: a page then costs the filters, not the parsing of every organisation."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._orgs: list[Organisation] = []
        self._lock = threading.Lock()

    def organisations(self, store: Store, base: str, node_dir: Path | None,
                      limit: int) -> list[Organisation]:
        """Every organisation (at most ``limit + 1``: one more says "truncated")."""
        stamp = store.container_stamp(base + CONTAINER)
        federation_db = node_dir / "federation.db" if node_dir is not None else None
        key = None if stamp is None else (
            stamp, _cache_state(federation_db) if federation_db else None, limit)
        with self._lock:
            if key is not None and key == self._key:
                return self._orgs
        orgs = list(_local(store, base, limit + 1))
        if federation_db is not None and len(orgs) <= limit:
            orgs.extend(_cached(federation_db, limit + 1 - len(orgs)))
        orgs.sort(key=lambda o: (o.origin is not None, o.name.casefold(), o.iri))
        with self._lock:
            self._key, self._orgs = key, orgs
        return orgs


@dataclass
class Directory:
    """Every organisation the node knows: its own first, then its peers' cached ones."""

    organisations: list[Organisation]
    truncated: bool = False

    @classmethod
    def read(cls, store: Store, base: str, node_dir: Path | None, *, limit: int,
             may_read: Callable[[str], bool] = lambda iri: True,
             cache: DirectoryCache | None = None) -> Directory:
        """Read the directory from ``store`` and ``node_dir``'s peer cache (at most
        ``limit``), keeping only what ``may_read`` (the node's read rule) allows."""
        every = (cache or DirectoryCache()).organisations(store, base, node_dir, limit)
        orgs = [o for o in every if o.origin is not None or may_read(o.iri)]
        return cls(orgs[:limit], truncated=len(orgs) > limit)

    def get(self, iri: str) -> Organisation | None:
        """The organisation with this IRI, or None."""
        return next((o for o in self.organisations if o.iri == iri), None)

    def select(self, query: Query) -> Selection:
        """The organisations and initiatives that ``query`` selects.

        An organisation is selected when its country and kind match and, if a cluster or a
        level is asked, one of its initiatives has both (or, for a cluster alone, the
        organisation states it works in that cluster)."""
        out = Selection()
        for org in self.organisations:
            if not query.matches_org(org):
                continue
            matching = [i for i in org.initiatives if query.matches_initiative(i)]
            by_itself = not query.level and (not query.cluster or query.cluster in org.clusters)
            if matching or by_itself:
                out.organisations.append(org)
                out.initiatives.extend((org, i) for i in matching)
        return out

    def matrix(self, query: Query) -> dict[tuple[str, str], tuple[int, int]]:
        """(cluster, level) -> (initiatives, organisations) among what country and kind of
        ``query`` select; every cell of the 5 x 5 grid is present."""
        initiatives: Counter[tuple[str, str]] = Counter()
        orgs: dict[tuple[str, str], set[str]] = {}
        for org in self.organisations:
            if not query.matches_org(org):
                continue
            for initiative in org.initiatives:
                if initiative.level is None:
                    continue
                for cluster in initiative.clusters:
                    initiatives[(cluster, initiative.level)] += 1
                    orgs.setdefault((cluster, initiative.level), set()).add(org.iri)
        return {(c.word, lv.word): (initiatives[(c.word, lv.word)],
                                    len(orgs.get((c.word, lv.word), ())))
                for c in clusters().concepts for lv in levels().concepts}

    def ecosystem(self, query: Query) -> list[tuple[str, str, int]]:
        """Links between clusters: (cluster a, cluster b, organisations active in both),
        strongest first, only pairs that share at least one organisation."""
        pairs: Counter[tuple[str, str]] = Counter()
        order = [c.word for c in clusters().concepts]
        for org in self.organisations:
            if query.matches_org(org):
                present = sorted(set(org.clusters) & set(order), key=order.index)
                pairs.update(combinations(present, 2))
        return sorted(((a, b, n) for (a, b), n in pairs.items()),
                      key=lambda t: (-t[2], order.index(t[0]), order.index(t[1])))

    def facets(self) -> tuple[list[str], list[str]]:
        """The countries and kinds present, sorted (the choices of the filter form)."""
        countries = sorted({o.country for o in self.organisations if o.country})
        kinds = sorted({o.kind for o in self.organisations if o.kind})
        return countries, kinds


def places_of(orgs: Iterable[Organisation]) -> list[tuple[float, float, str, str]]:
    """(long, lat, label, link) of the organisations that have coordinates (for the map)."""
    return [(o.long, o.lat, o.name, o.iri) for o in orgs
            if o.lat is not None and o.long is not None]


def _wkt_predicate() -> rdflib.URIRef:
    """``gsp:asWKT``, as the shared context names it (``wkt``)."""
    context = resources.context_document()["@context"]
    prefix, local = context["wkt"]["@id"].split(":", 1)
    return rdflib.URIRef(context[prefix] + local)


def outlines(store: Store, base: str, *, limit: int = MAX_OUTLINES,
             may_read: Callable[[str], bool] = lambda iri: True) -> list[tuple[str, str]]:
    """(label, WKT) of the geometries of this node's places (GeoSPARQL 1.1 8.5.2), for the
    map; points are left to the markers, only what has an outline is kept."""
    predicate, found, after = _wkt_predicate(), [], None
    read = 0
    if not may_read(base + PLACES):
        return []
    while read < limit:
        page = store.children(base + PLACES, after=after, limit=min(PAGE, limit - read))
        for child in page.items:
            read += 1
            stored = store.get(child.iri) if may_read(child.iri) else None
            if stored is None or str(predicate) not in stored.ntriples:
                continue
            graph = rdflib.Graph()
            graph.parse(data=stored.ntriples, format="nt")
            for subject, wkt in graph.subject_objects(predicate):
                if "POINT" in str(wkt)[:80].upper():
                    continue  # a point is not an outline (its place is a marker already)
                label = next((str(v) for v in graph.objects(subject, FOAF.name)), child.title)
                found.append((label, str(wkt)))
        if not page.next or not page.items:
            break
        after = page.next
    return found
